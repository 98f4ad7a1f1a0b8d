// One way to send a form through the API: the button waits (a double click sends once), the answer or the
// refusal appears in the page's status region, and a refused form keeps what was typed.
import { $, say } from "./dom.js";
import { explain } from "./messages.js";

/**
 * send(FormData) -> Promise; its result goes to done(result). The submit button starts disabled in the
 * HTML (a submit before this script runs would be a plain form post) and is enabled here.
 */
export function submitting(form, send, { status = $("#status"), done = () => {}, failed = () => {} } = {}) {
  const button = form.querySelector("button[type=submit]");
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    say(status, "Please wait…");
    try {
      done(await send(new FormData(form)));
    } catch (error) {
      say(status, explain(error), "error");
      failed(error);
    } finally {
      busy = false;
      button.disabled = false;
    }
  });
  button.disabled = false;
}

/** The token of a mailed link (/page#token=...), and the address bar without it (it stays out of history). */
export function linkToken() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return token;
}

export const LINK_REFUSED = new Set(["link_invalid", "link_used", "link_expired"]);
