// Admin: the audit log, filtered by contest, actor and action; the filters stay in the address.
import { allPages, api } from "./api.js";
import { $, fill, h, say, when } from "./dom.js";
import { allowed, initPage } from "./layout.js";
import { explain } from "./messages.js";
import { pager } from "./pager.js";

const FILTERS = ["contest_id", "actor_id", "action"];

function details(entry) {
  const parts = Object.entries(entry.details || {}).map(([key, value]) => {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return `${key}: ${text.length > 160 ? `${text.slice(0, 159)}…` : text}`;
  });
  return parts.length ? h("ul", { class: "details" }, parts.map((part) => h("li", {}, part))) : "—";
}

function target(entry, contests) {
  if (entry.target_type === "contest") {
    const contest = contests.get(Number(entry.target_id));
    return h("a", { href: `/admin/contests/${entry.target_id}` }, contest ? contest.title : `contest #${entry.target_id}`);
  }
  if (entry.target_type === "song") return h("a", { href: `/moderation/songs/${entry.target_id}` }, `song #${entry.target_id}`);
  if (entry.target_type === "user") return h("a", { href: `/admin/users?q=${entry.target_id}` }, `user #${entry.target_id}`);
  return `${entry.target_type} ${entry.target_id}`;
}

async function main() {
  const user = await initPage();
  if (!allowed(user, ["admin"])) return;
  const status = $("#status");
  const form = $("#audit-filter");
  let contests = new Map();
  try {
    const list = await allPages("/api/contests/", { max: 500 });
    contests = new Map(list.map((contest) => [contest.id, contest]));
    form.elements.contest_id.append(...list.map((contest) => h("option", { value: contest.id }, contest.title)));
  } catch (error) {
    say(status, explain(error), "error");
  }
  const params = new URLSearchParams(location.search);
  for (const name of FILTERS) if (params.get(name)) form.elements[name].value = params.get(name);
  form.hidden = false;
  const query = () => {
    const values = new URLSearchParams();
    for (const name of FILTERS) if (form.elements[name].value.trim()) values.set(name, form.elements[name].value.trim());
    return values;
  };
  const entries = pager({
    button: $("#more-entries"),
    pageSize: 50,
    load: async (offset, limit) => {
      const values = query();
      values.set("limit", limit);
      values.set("offset", offset);
      return (await api(`/api/admin/audit/?${values}`)).items;
    },
    show: (items, shown) => {
      $("#entries tbody").append(
        ...items.map((entry) =>
          h(
            "tr",
            { dataset: { action: entry.action } },
            h("td", {}, when(entry.created_at)),
            h("td", {}, entry.actor_id ? `${entry.actor_username || "deleted account"} (#${entry.actor_id})` : "the platform"),
            h("td", {}, h("code", {}, entry.action)),
            h("td", {}, target(entry, contests)),
            h("td", { class: "meta" }, details(entry)),
          ),
        ),
      );
      $("#entries").hidden = shown === 0;
      say(status, shown ? `${shown} entr${shown === 1 ? "y" : "ies"} shown, newest first.` : "No entry matches these filters.");
    },
    onError: (error) => say(status, explain(error), "error"),
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = query();
    history.replaceState(null, "", `/admin/audit${values.size ? `?${values}` : ""}`);
    fill($("#entries tbody"));
    entries.reset();
  });
  await entries.more();
}

main();
