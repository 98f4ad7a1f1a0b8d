// Admin: find accounts, grant and take roles, ban with a reason (and unban, where the API offers it).
import { api, currentUser } from "./api.js";
import { $, fill, h, label, say, when } from "./dom.js";
import { allowed, initPage } from "./layout.js";
import { explain } from "./messages.js";
import { pager } from "./pager.js";

const ROLES = ["contestant", "moderator", "admin"]; // every account is a voter
let me = null;
let users = null;

/** Run one decision once: the button stays disabled until the answer (a double click sends nothing more). */
async function once(button, region, work) {
  if (button.disabled) return;
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    say(region, explain(error), "error");
  } finally {
    button.disabled = false;
  }
}

function rolesForm(user, item) {
  const region = item.querySelector(".user-message");
  const boxes = ROLES.map((role) => {
    const id = `role-${user.id}-${role}`;
    return h(
      "span",
      { class: "check" },
      h("input", { type: "checkbox", id, value: role, checked: user.roles.includes(role) }),
      h("label", { for: id }, role),
    );
  });
  const save = h("button", { type: "submit", class: "secondary" }, "Save roles");
  const form = h("form", { class: "roles inline", method: "post" }, h("span", { class: "hint" }, "Roles:"), boxes, save);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    once(save, region, async () => {
      const roles = ["voter", ...[...form.querySelectorAll("input:checked")].map((box) => box.value)];
      const updated = await api(`/api/admin/users/${user.id}/roles`, { method: "PUT", json: { roles } });
      say(region, `Roles of ${user.username}: ${updated.roles.join(", ")}.`, "ok");
    });
  });
  return form;
}

function banForm(user, item) {
  const region = item.querySelector(".user-message");
  const id = `ban-${user.id}`;
  if (user.status === "banned") {
    const unban = h("button", { type: "submit", class: "approve" }, `Unban ${user.username}`);
    const form = h(
      "form",
      { class: "ban", method: "post" },
      h("label", { for: id }, "Reason to unban (kept in the audit log)"),
      h("textarea", { id, name: "reason", rows: 2, maxlength: 500 }),
      h("p", {}, unban),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const reason = form.elements.reason.value.trim();
      if (!reason) return say(region, "Write why the ban ends.", "error");
      once(unban, region, async () => {
        await api(`/api/admin/users/${user.id}/unban`, { method: "POST", json: { reason } });
        replace(item, { ...user, status: "active", ban_reason: null }, `${user.username} is no longer banned.`);
      });
    });
    return h("details", { class: "ban" }, h("summary", {}, `Unban ${user.username}…`), form);
  }
  const ban = h("button", { type: "submit", class: "danger" }, `Ban ${user.username}`);
  const form = h(
    "form",
    { class: "ban", method: "post" },
    h("label", { for: id }, "Reason for a ban (kept in the audit log)"),
    h("textarea", { id, name: "reason", rows: 2, maxlength: 1000 }),
    h("p", { class: "hint" }, "Banning also rejects every vote of this account; the boards are recounted."),
    h("p", {}, ban),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = form.elements.reason.value.trim();
    if (!reason) return say(region, "Write why before banning.", "error");
    if (!confirm(`Ban ${user.username} and reject all their votes?`)) return;
    once(ban, region, async () => {
      const result = await api(`/api/moderation/users/${user.id}/void`, { method: "POST", json: { note: reason, ban: true } });
      replace(item, { ...user, status: "banned", ban_reason: reason }, `${user.username} is banned; ${result.votes} vote(s) rejected.`);
    });
  });
  return h("details", { class: "ban" }, h("summary", {}, `Ban ${user.username}…`), form);
}

/** Show the account as it is now, with what just happened. */
function replace(item, user, text) {
  const fresh = userItem(user);
  item.replaceWith(fresh);
  say(fresh.querySelector(".user-message"), text, "ok");
}

function userItem(user) {
  const item = h(
    "li",
    { class: "panel user", dataset: { userId: user.id, status: user.status } },
    h(
      "h2",
      {},
      user.username,
      " ",
      h("span", { class: `badge status-${user.status}` }, label(user.status)),
      user.id === me.id ? h("span", { class: "badge" }, "you") : null,
    ),
    h(
      "p",
      { class: "meta" },
      `#${user.id} · ${user.email}${user.email_verified ? " (verified)" : " (not verified)"} · joined `,
      when(user.created_at),
      " · last login ",
      when(user.last_login_at),
    ),
    user.status === "banned" ? h("p", {}, `Banned: ${user.ban_reason || "no reason recorded"}`) : null,
    h("p", { class: "user-message message", role: "status" }),
  );
  if (user.id !== me.id) item.append(h("div", { class: "user-actions" }, rolesForm(user, item), banForm(user, item)));
  else item.append(h("p", { class: "hint" }, `Roles: ${user.roles.join(", ")}. Your own account is changed by another admin.`));
  return item;
}

async function main() {
  const user = await initPage();
  if (!allowed(user, ["admin"])) return;
  me = await currentUser();
  const form = $("#user-search");
  const status = $("#status");
  const params = new URLSearchParams(location.search);
  for (const name of ["q", "role", "status"]) if (params.get(name)) form.elements[name].value = params.get(name);
  form.hidden = false;
  users = pager({
    button: $("#more-users"),
    pageSize: 20,
    load: async (offset, limit) => {
      const query = new URLSearchParams({ limit, offset });
      for (const name of ["q", "role", "status"]) if (form.elements[name].value.trim()) query.set(name, form.elements[name].value.trim());
      return (await api(`/api/admin/users/?${query}`)).items;
    },
    show: (items, shown) => {
      $("#users").append(...items.map(userItem));
      say(status, shown ? `${shown} account(s) shown.` : "No account matches.");
    },
    onError: (error) => say(status, explain(error), "error"),
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const name of ["q", "role", "status"]) if (form.elements[name].value.trim()) query.set(name, form.elements[name].value.trim());
    history.replaceState(null, "", `/admin/users${query.size ? `?${query}` : ""}`);
    fill($("#users"));
    users.reset();
  });
  await users.more();
}

main();
