// Log in or register, then go back where the visitor came from (?next=/path on this site only).
import { api } from "./api.js";
import { $, say } from "./dom.js";
import { initPage } from "./layout.js";
import { explain } from "./messages.js";

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  // Only a path on this site: "//host" or "https://..." would turn the login page into an open redirect.
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

function handle(form, send) {
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("#status");
    button.disabled = true;
    say(status, "Please wait…");
    try {
      await send(new FormData(form));
      say(status, "Done. Taking you back…", "ok");
      location.assign(nextPage());
    } catch (error) {
      say(status, explain(error), "error");
      button.disabled = false;
    }
  });
  // The buttons start disabled in the HTML: a submit before this script runs would be a plain form post.
  button.disabled = false;
}

async function main() {
  // Handlers first, before anything waits on the network.
  handle($("#login-form"), (data) =>
    api("/api/auth/login", {
      method: "POST",
      json: { login: String(data.get("login")).trim(), password: String(data.get("password")) },
    }),
  );
  handle($("#register-form"), (data) =>
    api("/api/auth/register", {
      method: "POST",
      json: {
        email: String(data.get("email")).trim(),
        username: String(data.get("username")).trim(),
        password: String(data.get("password")),
        roles: data.get("contestant") ? ["voter", "contestant"] : ["voter"],
      },
    }),
  );
  const user = await initPage();
  if (user) say($("#status"), `You are logged in as ${user.username}.`, "ok");
}

main();
