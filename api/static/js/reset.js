// The page a reset mail links to: a new password with the link's token. A weak password is refused and the
// link still works; a used, expired or altered link says so and points to a new one.
import { ApiError, api } from "./api.js";
import { $, h, say } from "./dom.js";
import { LINK_REFUSED, linkToken, submitting } from "./forms.js";
import { initPage } from "./layout.js";
import { explain } from "./messages.js";

const status = $("#status");
const form = $("#reset-form");
const token = linkToken();
const newLink = () => h("a", { href: "/forgot-password" }, "Ask for a new link");

if (!token) {
  say(status, "This page needs the whole link from the reset mail. Open it from the mail again.", "error", newLink());
} else {
  form.hidden = false;
  submitting(
    form,
    async (data) => {
      const password = String(data.get("password"));
      if (password !== String(data.get("repeat"))) {
        throw new ApiError(400, "passwords_differ", "The two passwords are not the same.");
      }
      return api("/api/auth/password-reset/confirm", { method: "POST", json: { token, password } });
    },
    {
      done: () => {
        form.hidden = true;
        say(
          status,
          "Your password is changed, and every browser logged in to your account was signed out.",
          "ok",
          h("a", { href: "/login" }, "Log in with the new password"),
        );
      },
      failed: (error) => {
        if (error.code && LINK_REFUSED.has(error.code)) {
          form.hidden = true;
          say(status, explain(error), "error", newLink());
        }
      },
    },
  );
}
initPage();
