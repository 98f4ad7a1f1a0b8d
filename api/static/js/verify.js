// The page a confirmation mail links to: confirms the address with the link's token, once.
import { api, currentUser } from "./api.js";
import { $, fill, h, say } from "./dom.js";
import { LINK_REFUSED, linkToken, submitting } from "./forms.js";
import { initPage } from "./layout.js";
import { explain } from "./messages.js";

function offerNewLink() {
  $("#resend-form").hidden = false;
}

async function main() {
  const status = $("#status");
  const token = linkToken();
  submitting(
    $("#resend-form"),
    (data) =>
      api("/api/auth/verify-email/resend", { method: "POST", json: { email: String(data.get("email")).trim() } }),
    { done: (answer) => say(status, answer.detail, "ok") },
  );
  initPage();
  if (!token) {
    say(status, "This page needs the whole link from the confirmation mail. Open it from the mail again.", "error");
    offerNewLink();
    return;
  }
  try {
    const confirmed = await api("/api/auth/verify-email", { method: "POST", json: { token } });
    say(status, `Your address ${confirmed.email} is confirmed. Thank you, ${confirmed.username}.`, "ok");
    const user = await currentUser().catch(() => null);
    const next = user ? h("a", { href: "/account" }, "Go to your account") : h("a", { href: "/login" }, "Log in");
    fill($("#next-step"), next);
    $("#next-step").hidden = false;
  } catch (error) {
    say(status, explain(error), "error");
    if (error.code && LINK_REFUSED.has(error.code)) offerNewLink();
  }
}

main();
