// My account: who I am, my address (confirmed or not), password and address changes, becoming a contestant.
import { api } from "./api.js";
import { $, fill, h, say } from "./dom.js";
import { submitting } from "./forms.js";
import { initPage } from "./layout.js";
import { explain, loginLink } from "./messages.js";

function show(user) {
  fill($("#account-username"), user.username);
  fill($("#account-email"), user.email);
  const verified = $("#account-verified");
  fill(verified, user.email_verified ? "confirmed" : "not confirmed");
  verified.className = `badge ${user.email_verified ? "status-valid" : "status-pending"}`;
  fill($("#account-roles"), user.roles.join(", "));
  $("#resend-row").hidden = user.email_verified;
  $("#contestant-row").hidden = user.roles.includes("contestant");
}

async function main() {
  const status = $("#status");
  const user = await initPage();
  if (!user) {
    say(status, "Log in to see your account.", "info", loginLink());
    return;
  }
  show(user);
  say(status, "");
  $("#account").hidden = false;

  const resend = $("#resend");
  resend.addEventListener("click", async () => {
    resend.disabled = true;
    try {
      const answer = await api("/api/auth/verify-email/resend", { method: "POST", json: { email: user.email } });
      say(status, answer.detail, "ok");
    } catch (error) {
      say(status, explain(error), "error");
    } finally {
      resend.disabled = false;
    }
  });

  const become = $("#become-contestant");
  become.addEventListener("click", async () => {
    become.disabled = true;
    try {
      const updated = await api("/api/account/contestant", { method: "POST" });
      show(updated);
      say(status, "You are a contestant now.", "ok", h("a", { href: "/me/songs" }, "Submit a song"));
    } catch (error) {
      say(status, explain(error), "error");
    } finally {
      become.disabled = false;
    }
  });

  const passwordForm = $("#password-form");
  submitting(
    passwordForm,
    (data) =>
      api("/api/account/password", {
        method: "POST",
        json: { current_password: String(data.get("current")), new_password: String(data.get("new")) },
      }),
    {
      done: () => {
        passwordForm.reset();
        say(status, "Your password is changed. Your other browsers were signed out.", "ok");
      },
    },
  );
  const emailForm = $("#email-form");
  submitting(
    emailForm,
    (data) =>
      api("/api/account/email", {
        method: "POST",
        json: { new_email: String(data.get("email")).trim(), password: String(data.get("password")) },
      }),
    {
      done: (answer) => {
        emailForm.reset();
        say(status, answer.detail, "ok");
      },
    },
  );
}

main();
