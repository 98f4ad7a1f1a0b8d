// Ask for a reset link. The answer reads the same for any address (only an account's address gets mail).
import { api } from "./api.js";
import { $, say } from "./dom.js";
import { submitting } from "./forms.js";
import { initPage } from "./layout.js";

submitting(
  $("#forgot-form"),
  (data) => api("/api/auth/password-reset", { method: "POST", json: { email: String(data.get("email")).trim() } }),
  { done: (answer) => say($("#status"), answer.detail, "ok") },
);
initPage();
