// A contest: its rules, the approved songs with a player and a Vote button each, the votes left today and
// the leaderboard. The address is /contests/{slug}.
import { ApiError, allPages, api } from "./api.js";
import { $, duration, fill, h, label, say, when } from "./dom.js";
import { deviceFingerprint, timeZone } from "./fingerprint.js";
import { initPage } from "./layout.js";
import { explain, loginLink, needsLogin } from "./messages.js";

const LEADERBOARD_REFRESH_MS = 30_000;

let contest = null;
let user = null;
const voteButtons = new Map(); // song id -> its "voted today" note

function slugFromPath() {
  const parts = location.pathname.split("/").filter(Boolean); // ["contests", slug]
  return parts.length >= 2 ? decodeURIComponent(parts[1]) : "";
}

function rules(c) {
  const facts = [
    ["Phase", label(c.phase)],
    ["Submissions", [when(c.submission_opens_at), " – ", when(c.submission_closes_at)]],
    ["Voting", [when(c.voting_opens_at), " – ", when(c.voting_closes_at)]],
    [
      "Votes",
      `${c.votes_per_voter_per_day} per day, at most ${c.votes_per_song_per_day} per song per day`,
    ],
    [
      "Who can vote",
      [
        c.eligible_countries ? `voters in ${c.eligible_countries.join(", ")}` : "everyone",
        c.require_verified_email ? "; a verified email address is needed" : "",
        c.min_account_age_hours ? `; accounts must be ${c.min_account_age_hours} h old` : "",
      ].join(""),
    ],
    ["Entries", `up to ${c.max_entries_per_contestant} songs per contestant (${c.allowed_formats.join(", ")})`],
  ];
  return facts.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]);
}

function songItem(song) {
  const note = h("span", { class: "hint", id: `voted-${song.id}` });
  voteButtons.set(song.id, note);
  const button = h(
    "button",
    {
      type: "button",
      class: "vote",
      "aria-describedby": note.id,
      onclick: (event) => vote(song, event.currentTarget),
    },
    `Vote for ${song.title}`,
  );
  const details = [song.artist_name, song.genre, duration(song.duration_seconds)].filter(Boolean).join(" · ");
  return h(
    "li",
    { class: "song", dataset: { songId: song.id } },
    h("h3", {}, song.title),
    h("p", { class: "meta" }, details),
    song.description ? h("p", { class: "prose" }, song.description) : null,
    h(
      "audio",
      {
        controls: true,
        preload: "metadata",
        src: song.audio_url || `/api/songs/${song.id}/audio`,
        "aria-label": `Play ${song.title} by ${song.artist_name}`,
      },
      "Your browser cannot play this file.",
    ),
    h("p", { class: "actions" }, button, " ", note),
  );
}

function votingNotice(c) {
  const now = Date.now();
  if (now < Date.parse(c.voting_opens_at)) return ["Voting opens ", when(c.voting_opens_at), ". "];
  if (now >= Date.parse(c.voting_closes_at) || c.status !== "open") return ["Voting has ended. "];
  return [];
}

async function refreshRemaining() {
  const region = $("#remaining");
  const notice = votingNotice(contest);
  if (notice.length) {
    fill(region, ...notice); // the Vote buttons stay: the API answers with the reason, in words
    return;
  }
  if (!user) {
    fill(region, loginLink("Log in"), " to vote.");
    return;
  }
  try {
    const left = await api(`/api/contests/${contest.id}/votes/remaining`);
    fill(
      region,
      h("strong", { id: "votes-left" }, String(left.votes_left_today)),
      ` of ${left.votes_per_day} votes left today.`,
    );
    for (const [songId, note] of voteButtons) {
      fill(note, left.songs_at_limit.includes(songId) ? "You voted for this song today." : "");
    }
  } catch (error) {
    fill(region, explain(error));
  }
}

async function vote(song, button) {
  const message = $("#vote-message");
  if (!user) {
    say(message, "Log in to vote.", "error", loginLink());
    return;
  }
  button.disabled = true; // one request per click; the server also refuses duplicates
  say(message, `Sending your vote for “${song.title}”…`);
  try {
    const fingerprint = await deviceFingerprint();
    const result = await api(`/api/contests/${contest.id}/votes`, {
      method: "POST",
      json: { song_id: song.id, fingerprint, timezone: timeZone() },
    });
    say(
      message,
      `Your vote for “${song.title}” is recorded. ${result.explanation}`,
      "ok",
      h("a", { href: "/me/votes" }, "See my votes"),
    );
  } catch (error) {
    if (needsLogin(error)) {
      say(message, "Your session has ended. Log in to vote.", "error", loginLink());
    } else {
      say(message, explain(error), "error");
    }
  } finally {
    button.disabled = false;
    await refreshRemaining();
  }
}

async function refreshLeaderboard() {
  const panel = $("#leaderboard");
  let board;
  try {
    board = await api(`/api/contests/${contest.id}/leaderboard/?limit=10`);
  } catch (error) {
    // No leaderboard route, or hidden by the contest's rules: say so, never break the page.
    const hidden = error instanceof ApiError && error.status === 403;
    fill(panel, h("p", {}, hidden ? explain(error) : "The leaderboard is not available."));
    return;
  }
  if (!board.items.length) {
    fill(panel, h("p", {}, "No counted votes yet."));
    return;
  }
  const views = { live: "Live", frozen: "Frozen (the final hours are hidden)", final: "Final results" };
  fill(
    panel,
    h(
      "table",
      { class: "board" },
      h("caption", {}, `${views[board.view] || board.view}, as of `, when(board.computed_at)),
      h(
        "thead",
        {},
        h("tr", {}, h("th", { scope: "col" }, "Rank"), h("th", { scope: "col" }, "Song"), h("th", { scope: "col" }, "Votes")),
      ),
      h(
        "tbody",
        {},
        board.items.map((entry) =>
          h(
            "tr",
            {},
            h("td", {}, String(entry.rank)),
            h("td", {}, entry.title, h("span", { class: "meta" }, ` by ${entry.artist_name}`)),
            h("td", {}, String(entry.votes)),
          ),
        ),
      ),
    ),
    board.total > board.items.length ? h("p", { class: "hint" }, `Top ${board.items.length} of ${board.total}.`) : null,
  );
}

async function main() {
  user = await initPage();
  const status = $("#status");
  const slug = slugFromPath();
  try {
    contest = await api(`/api/contests/by-slug/${encodeURIComponent(slug)}`);
  } catch (error) {
    fill($("#contest-title"), "Contest not found");
    say(status, explain(error), "error", h("a", { href: "/" }, "See all contests"));
    return;
  }
  document.title = `${contest.title} · Ovation`;
  fill($("#contest-title"), contest.title);
  fill($("#contest-description"), contest.description);
  fill($("#contest-rules"), rules(contest));
  $("#contest").hidden = false;

  try {
    const songs = await allPages(`/api/contests/${contest.id}/songs`);
    fill($("#songs"), songs.length ? songs.map(songItem) : h("li", {}, "No approved songs yet."));
  } catch (error) {
    say(status, explain(error), "error");
  }
  await Promise.all([refreshRemaining(), refreshLeaderboard()]);
  // Votes are scored in the background, so the board moves after the fact: refresh it now and then.
  setInterval(() => {
    if (document.visibilityState === "visible") refreshLeaderboard();
  }, LEADERBOARD_REFRESH_MS);
}

main();
