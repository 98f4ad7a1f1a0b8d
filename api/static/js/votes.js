// My votes: each vote's status and, in plain words, what it means; retraction within the contest's window.
import { api } from "./api.js";
import { $, fill, h, label, say, when } from "./dom.js";
import { initPage } from "./layout.js";
import { explain, loginLink } from "./messages.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 50;
const songs = new Map(); // id -> Promise<{title, contest}>
const contests = new Map(); // id -> Promise<contest | null>

function contestOf(id) {
  if (!contests.has(id)) contests.set(id, api(`/api/contests/${id}`).catch(() => null));
  return contests.get(id);
}

function songOf(id) {
  // Songs taken down since are no longer public: the vote still shows, with the song's number.
  if (!songs.has(id)) songs.set(id, api(`/api/songs/${id}`).catch(() => null));
  return songs.get(id);
}

async function row(vote) {
  const [song, contest] = await Promise.all([songOf(vote.song_id), contestOf(vote.contest_id)]);
  const title = song ? song.title : `Song #${vote.song_id}`;
  const status = vote.retracted_at ? "retracted" : vote.status;
  const tr = h(
    "tr",
    { dataset: { voteId: vote.id, status } },
    h("td", {}, title),
    h(
      "td",
      {},
      contest ? h("a", { href: `/contests/${encodeURIComponent(contest.slug)}` }, contest.title) : `#${vote.contest_id}`,
    ),
    h("td", {}, when(vote.cast_at)),
    h("td", {}, h("span", { class: `badge status-${status}` }, label(status))),
    h("td", { class: "explanation" }, vote.explanation),
    h("td", {}, retractButton(vote, title)),
  );
  return tr;
}

function retractButton(vote, title) {
  // Offered while the window the API states lasts (minutes after casting, while voting is open); the server
  // still decides, and says so if the window closed meanwhile.
  if (!vote.retractable_until || Date.parse(vote.retractable_until) <= Date.now()) return null;
  return h(
    "button",
    {
      type: "button",
      "aria-label": `Take back my vote for ${title}`,
      onclick: async (event) => {
        const button = event.currentTarget;
        const status = $("#status");
        button.disabled = true;
        try {
          const updated = await api(`/api/votes/${vote.id}/retract`, { method: "POST" });
          button.closest("tr").replaceWith(await row(updated));
          say(status, `Your vote for “${title}” was taken back.`, "ok");
        } catch (error) {
          say(status, explain(error), "error");
          button.disabled = false;
        }
      },
    },
    "Take back",
  );
}

async function main() {
  const user = await initPage();
  const status = $("#status");
  if (!user) {
    say(status, "Log in to see your votes.", "info", loginLink());
    return;
  }
  const votes = pager({
    button: $("#more-votes"),
    pageSize: PAGE_SIZE,
    load: async (offset, limit) => (await api(`/api/me/votes?limit=${limit}&offset=${offset}`)).items,
    show: async (items, shown) => {
      $("#votes tbody").append(...(await Promise.all(items.map(row))));
      $("#votes").hidden = shown === 0;
      if (shown === 0) {
        say(status, "You have not voted yet.", "info", h("a", { href: "/" }, "Find a contest"));
      } else if (status.dataset.kind !== "ok" && status.dataset.kind !== "error") {
        say(status, "");
      }
    },
    onError: (error) => say(status, explain(error), "error"),
  });
  await votes.more();
}

main();
