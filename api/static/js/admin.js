// Admin home: every contest (drafts too) with its status and phase, linking to its settings.
import { api } from "./api.js";
import { $, h, label, say, when } from "./dom.js";
import { allowed, initPage } from "./layout.js";
import { explain } from "./messages.js";
import { pager } from "./pager.js";

function row(contest) {
  const board = contest.leaderboard_hidden ? "hidden" : contest.freeze_hours ? `frozen for the last ${contest.freeze_hours} h` : "public";
  return h(
    "tr",
    { dataset: { contestId: contest.id, status: contest.status } },
    h("td", {}, h("a", { href: `/admin/contests/${contest.id}` }, contest.title), h("br"), h("span", { class: "meta" }, `/contests/${contest.slug}`)),
    h("td", {}, h("span", { class: `badge status-${contest.status}` }, label(contest.status))),
    h("td", {}, label(contest.phase)),
    h("td", {}, when(contest.voting_opens_at), " – ", when(contest.voting_closes_at)),
    h("td", {}, board),
  );
}

async function main() {
  const user = await initPage();
  if (!allowed(user, ["admin"])) return;
  const status = $("#status");
  $("#contests-section").hidden = false;
  const contests = pager({
    button: $("#more-contests"),
    pageSize: 50,
    load: async (offset, limit) => (await api(`/api/contests/?limit=${limit}&offset=${offset}`)).items,
    show: (items, shown) => {
      $("#contests tbody").append(...items.map(row));
      if (!shown) say(status, "No contests yet: create the first one.");
    },
    onError: (error) => say(status, explain(error), "error"),
  });
  await contests.more();
}

main();
