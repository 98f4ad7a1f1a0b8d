// My votes: each vote's status and, in plain words, what it means; retraction within the contest's window;
// an appeal (once, with a short note) against a hold, and the moderator's decision with its reason.
import { allPages, api } from "./api.js";
import { $, fill, h, label, say, when } from "./dom.js";
import { initPage } from "./layout.js";
import { explain, loginLink } from "./messages.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 50;
const songs = new Map(); // id -> Promise<{title, contest}>
const contests = new Map(); // id -> Promise<contest | null>
const appeals = new Map(); // vote id -> the voter's appeal of it
const APPEAL_NOTE_LIMIT = 500;

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
    h("td", { class: "explanation" }, vote.explanation, appealStatus(appeals.get(vote.id))),
    h("td", { class: "actions" }, retractButton(vote, title), appealForm(vote, title)),
  );
  return tr;
}

const DECISIONS = {
  waiting: "A moderator will look at it.",
  counted: "Decision: your vote counts.",
  not_counted: "Decision: your vote does not count.",
};

function appealStatus(appeal) {
  if (!appeal) return null;
  return h(
    "div",
    { class: "appeal", dataset: { state: appeal.state } },
    h("p", {}, "You appealed on ", when(appeal.created_at), ": “", appeal.note, "”"),
    h("p", {}, DECISIONS[appeal.state] || ""),
    appeal.decision_note ? h("p", {}, "The moderator's reason: “", appeal.decision_note, "”") : null,
  );
}

function appealForm(vote, title) {
  // Offered for a held vote that was not appealed yet; the server decides, and says so otherwise.
  if (vote.status !== "suspicious" || vote.retracted_at || appeals.has(vote.id)) return null;
  const id = `appeal-${vote.id}`;
  const form = h(
    "form",
    { class: "appeal-form", hidden: true },
    h("label", { for: id }, "Why is this vote honest? (once, short)"),
    h("textarea", { id, name: "note", rows: 3, required: true, maxlength: APPEAL_NOTE_LIMIT }),
    h("p", {}, h("button", { type: "submit" }, "Send the appeal")),
  );
  const open = h(
    "button",
    {
      type: "button",
      "aria-label": `Appeal the hold on my vote for ${title}`,
      onclick: () => {
        open.hidden = true;
        form.hidden = false;
        form.elements.note.focus();
      },
    },
    "Appeal",
  );
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = $("#status");
    const note = form.elements.note.value.trim();
    if (!note) {
      say(status, "Write a short note saying why your vote is honest.", "error");
      return;
    }
    if (busy) return; // a double click appeals once
    busy = true;
    form.querySelector("button").disabled = true;
    try {
      const appeal = await api(`/api/votes/${vote.id}/appeal`, { method: "POST", json: { note } });
      appeals.set(vote.id, appeal);
      form.closest("tr").replaceWith(await row(vote));
      say(status, `Your appeal for the vote for “${title}” was sent.`, "ok");
    } catch (error) {
      say(status, explain(error), "error");
      form.querySelector("button").disabled = false;
    } finally {
      busy = false;
    }
  });
  return [open, form];
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
  try {
    for (const appeal of await allPages("/api/me/appeals", { pageSize: 100, max: 1000 })) {
      appeals.set(appeal.vote_id, appeal);
    }
  } catch (error) {
    say(status, explain(error), "error"); // the votes still show; appeals come back on a reload
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
