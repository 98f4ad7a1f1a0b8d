// Log in, then go back where the visitor came from (?next=/path on this site only: the server's /continue
// checks it, as the browser will read it, and redirects).
import { api } from "./api.js";
import { $, say } from "./dom.js";
import { submitting } from "./forms.js";
import { initPage } from "./layout.js";

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  return `/continue?next=${encodeURIComponent(next)}`;
}

async function main() {
  // Handlers first, before anything waits on the network.
  submitting(
    $("#login-form"),
    (data) =>
      api("/api/auth/login", {
        method: "POST",
        json: { login: String(data.get("login")).trim(), password: String(data.get("password")) },
      }),
    {
      done: () => {
        say($("#status"), "Done. Taking you back…", "ok");
        location.assign(nextPage());
      },
    },
  );
  $("#signup-link").href = `/signup${location.search}`; // the same ?next= after signing up
  const user = await initPage();
  if (user) say($("#status"), `You are logged in as ${user.username}.`, "ok");
}

main();
