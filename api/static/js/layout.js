// The site header on every page: links for what this visitor may do, and who is logged in.
import { currentUser, hasRole, logout } from "./api.js";
import { $, fill, h, say } from "./dom.js";

/** Render the navigation and return the current user (or null). Call once per page. */
export async function initPage() {
  const nav = $("#site-nav");
  let user = null;
  try {
    user = await currentUser();
  } catch {
    // API unreachable: the page says so itself; the header stays minimal.
  }
  const here = location.pathname;
  // A section's link is current on its sub-pages too (/admin/users is under Admin).
  const current = (href) => here === href || (href !== "/" && here.startsWith(`${href}/`));
  const link = (href, text) => h("li", {}, h("a", { href, "aria-current": current(href) ? "page" : null }, text));
  const items = [link("/", "Contests")];
  if (user) {
    items.push(link("/me/votes", "My votes"));
    if (hasRole(user, "contestant")) items.push(link("/me/songs", "My songs"));
    if (hasRole(user, "moderator", "admin")) items.push(link("/moderation", "Moderation"));
    if (hasRole(user, "admin")) items.push(link("/admin", "Admin"));
    // The account item: who is logged in, then (at the right) the account's own links and "Log out".
    items.push(
      h(
        "li",
        { class: "account" },
        // The account page: password, address, becoming a contestant.
        h("a", { id: "whoami", href: "/account", "aria-current": here === "/account" ? "page" : null }, `Logged in as ${user.username}`),
        " ",
        h(
          "button",
          {
            type: "button",
            class: "link",
            onclick: async () => {
              await logout();
              location.assign("/");
            },
          },
          "Log out",
        ),
      ),
    );
  } else {
    const next = encodeURIComponent(here + location.search);
    items.push(
      h(
        "li",
        { class: "account" },
        h("a", { href: `/login?next=${next}` }, "Log in"),
        " · ",
        h("a", { href: `/signup?next=${next}` }, "Create an account"),
      ),
    );
  }
  fill(nav, h("ul", {}, items));
  return user;
}

/**
 * For pages of one group (admins, moderators): says what is missing and returns false when the visitor is
 * not logged in or lacks every one of `roles`. The API refuses them anyway; the page just says so first.
 */
export function allowed(user, roles, { status = $("#status"), who = "an admin" } = {}) {
  if (!user) {
    const next = encodeURIComponent(location.pathname + location.search);
    say(status, `Log in with ${who} account.`, "info", h("a", { href: `/login?next=${next}` }, "Log in"));
    return false;
  }
  if (!roles.some((role) => user.roles.includes(role))) {
    say(status, `This page is for ${who.replace(/^an? /, "")}s.`, "error");
    return false;
  }
  return true;
}
