// Home: the open contests (and finished ones below), each linking to its page.
import { allPages } from "./api.js";
import { $, fill, h, label, say, when } from "./dom.js";
import { initPage } from "./layout.js";
import { explain } from "./messages.js";

export function contestCard(contest) {
  return h(
    "li",
    { class: "card" },
    h("h3", {}, h("a", { href: `/contests/${encodeURIComponent(contest.slug)}` }, contest.title)),
    h("p", {}, h("span", { class: `badge phase-${contest.phase}` }, label(contest.phase))),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Submissions"),
      h("dd", {}, when(contest.submission_opens_at), " – ", when(contest.submission_closes_at)),
      h("dt", {}, "Voting"),
      h("dd", {}, when(contest.voting_opens_at), " – ", when(contest.voting_closes_at)),
    ),
  );
}

async function main() {
  await initPage();
  const status = $("#status");
  try {
    const [open, closed] = await Promise.all([
      allPages("/api/contests/?status=open"),
      allPages("/api/contests/?status=closed", { max: 100 }),
    ]);
    fill($("#open-contests"), open.map(contestCard));
    fill($("#closed-contests"), closed.map(contestCard));
    $("#closed-section").hidden = closed.length === 0;
    if (open.length) {
      say(status, "");
    } else {
      say(status, "No contest is open right now.");
    }
  } catch (error) {
    say(status, explain(error), "error");
  }
}

main();
