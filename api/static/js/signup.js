// Sign up: the answer is the same whether or not the address already has an account (the mail says which),
// so the page only ever says "check your inbox".
import { api } from "./api.js";
import { $, fill, say } from "./dom.js";
import { submitting } from "./forms.js";
import { initPage } from "./layout.js";

let email = "";

function main() {
  submitting(
    $("#signup-form"),
    (data) => {
      email = String(data.get("email")).trim();
      return api("/api/auth/register", {
        method: "POST",
        json: {
          email,
          username: String(data.get("username")).trim(),
          password: String(data.get("password")),
          roles: data.get("contestant") ? ["voter", "contestant"] : ["voter"],
        },
      });
    },
    {
      done: (answer) => {
        $("#signup-form").hidden = true;
        fill($("#inbox-text"), `${answer.detail} It went to ${email}.`);
        $("#inbox-login").href = `/login${location.search}`;
        $("#check-inbox").hidden = false;
        say($("#status"), "Almost done: check your inbox.", "ok");
      },
    },
  );
  submitting(
    $("#resend-form"),
    () => api("/api/auth/verify-email/resend", { method: "POST", json: { email } }),
    { done: (answer) => say($("#status"), answer.detail, "ok") },
  );
  initPage();
}

main();
