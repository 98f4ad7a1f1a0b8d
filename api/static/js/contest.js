// A contest: its rules, the approved songs with a player and a Vote button each, the votes left today and
// the leaderboard. The address is /contests/{slug}.
import { ApiError, allPages, api } from "./api.js";
import { $, duration, fill, h, label, say, when } from "./dom.js";
import { deviceFingerprint, timeZone } from "./fingerprint.js";
import { barChart, rankChart } from "./charts.js";
import { initPage } from "./layout.js";
import { explain, loginLink, needsLogin } from "./messages.js";

const BOARD_PAGE = 10;
const POLL_SECONDS = 15;
const FEED_RETRY_MS = 60_000;
const HISTORY_MIN_MS = 5_000;

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
    h("h3", {}, h("a", { href: `/songs/${song.id}` }, song.title)),
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
  // The answer shows next to the button that was pressed: the one message region moves there.
  button.closest(".actions").after(message);
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

// --- the leaderboard: live through the SSE feed, polling when the feed is down, 10 songs a page ------

const board = { country: "", offset: 0, feed: null, pollTimer: null, retryTimer: null, titles: new Map() };
const views = { live: "Live", frozen: "Frozen (the final hours are hidden)", final: "Final results" };

function boardUrl(offset) {
  const country = board.country ? `&country=${encodeURIComponent(board.country)}` : "";
  return `/api/contests/${contest.id}/leaderboard/?limit=${BOARD_PAGE}&offset=${offset}${country}`;
}

function showBoard(data) {
  const panel = $("#leaderboard");
  for (const entry of data.items) board.titles.set(entry.song_id, entry.title);
  $("#board-prev").hidden = data.offset === 0;
  $("#board-next").hidden = data.offset + data.items.length >= data.total;
  if (!data.items.length) {
    fill(panel, h("p", {}, board.country ? "No counted votes from this country yet." : "No counted votes yet."));
    $("#charts").hidden = true;
    return;
  }
  const first = data.offset + 1;
  const last = data.offset + data.items.length;
  fill(
    panel,
    h(
      "table",
      { class: "board", dataset: { version: data.version } },
      h("caption", {}, `${views[data.view] || data.view}, as of `, when(data.computed_at)),
      h(
        "thead",
        {},
        h("tr", {}, h("th", { scope: "col" }, "Rank"), h("th", { scope: "col" }, "Song"), h("th", { scope: "col" }, "Votes")),
      ),
      h(
        "tbody",
        {},
        data.items.map((entry) =>
          h(
            "tr",
            { dataset: { songId: entry.song_id } },
            h("td", {}, String(entry.rank)),
            h("td", {}, h("a", { href: `/songs/${entry.song_id}` }, entry.title), h("span", { class: "meta" }, ` by ${entry.artist_name}`)),
            h("td", { class: "votes" }, String(entry.votes)),
          ),
        ),
      ),
    ),
    h("p", { class: "hint", id: "board-range" }, `Songs ${first}–${last} of ${data.total}.`),
  );
  $("#charts").hidden = false;
  fill($("#bar-chart"), barChart(data.items.map((entry) => ({ label: entry.title, value: entry.votes }))));
}

function boardUnavailable(error) {
  // Hidden by the contest's rules, or no board at all: say so, never break the page.
  const hidden = error instanceof ApiError && error.status === 403;
  fill($("#leaderboard"), h("p", {}, hidden ? explain(error) : "The leaderboard is not available."));
  $("#charts").hidden = true;
}

async function loadBoardPage() {
  try {
    showBoard(await api(boardUrl(board.offset)));
    return true;
  } catch (error) {
    boardUnavailable(error);
    return false;
  }
}

function liveState(text) {
  fill($("#live-state"), text);
}

function stopFeed() {
  if (board.feed) board.feed.close();
  board.feed = null;
  clearInterval(board.pollTimer);
  clearTimeout(board.retryTimer);
  board.pollTimer = null;
}

function startPolling() {
  if (board.pollTimer) return;
  liveState(`Updated every ${POLL_SECONDS} s (the live feed is not reachable).`);
  board.pollTimer = setInterval(() => {
    if (document.visibilityState === "visible") loadBoardPage().then(refreshHistory);
  }, POLL_SECONDS * 1000);
  // Try the live feed again now and then: it takes over when it answers.
  board.retryTimer = setTimeout(startFeed, FEED_RETRY_MS);
}

function startFeed() {
  stopFeed();
  if (typeof EventSource === "undefined") return startPolling();
  const country = board.country ? `&country=${encodeURIComponent(board.country)}` : "";
  const feed = new EventSource(`/api/contests/${contest.id}/leaderboard/feed?limit=${BOARD_PAGE}${country}`);
  board.feed = feed;
  let failures = 0;
  feed.addEventListener("open", () => {
    failures = 0;
    clearInterval(board.pollTimer);
    board.pollTimer = null;
    liveState("Live: the board updates by itself.");
  });
  feed.addEventListener("board", (event) => {
    // The feed carries the top of the board; a later page is read again when the board moved.
    if (board.offset === 0) showBoard(JSON.parse(event.data));
    else loadBoardPage();
    refreshHistory();
  });
  feed.addEventListener("closed", (event) => {
    stopFeed();
    const code = JSON.parse(event.data).code;
    boardUnavailable(new ApiError(403, code, ""));
    liveState("");
  });
  feed.addEventListener("error", () => {
    failures += 1;
    // EventSource reconnects by itself; after a few failed attempts poll instead, and try again later.
    if (feed.readyState === EventSource.CLOSED || failures >= 3) {
      feed.close();
      board.feed = null;
      startPolling();
    }
  });
}

let historyBusy = false;
let historyWanted = false;

async function drawHistory() {
  try {
    const history = await api(`/api/contests/${contest.id}/leaderboard/history?top=5&limit=200`);
    const points = history.points.map((point) => ({
      at: new Date(point.taken_at),
      ranks: new Map(point.entries.map(([songId, rank]) => [songId, rank])),
    }));
    const chart = $("#history-chart");
    if (points.length < 2) {
      fill(chart, h("p", { class: "hint" }, "The chart appears once the board has changed a few times."));
      return;
    }
    const latest = [...points[points.length - 1].ranks.entries()].sort((a, b) => a[1] - b[1]).slice(0, 5);
    const names = new Map(latest.map(([songId]) => [songId, board.titles.get(songId) || `Song #${songId}`]));
    fill(
      chart,
      rankChart(points, names),
      h(
        "ul",
        { class: "legend" },
        [...names.entries()].map(([songId, name], index) =>
          h("li", {}, h("span", { class: `swatch swatch-${index}`, "aria-hidden": "true" }), name),
        ),
      ),
    );
  } catch {
    fill($("#history-chart"), h("p", { class: "hint" }, "No history to show."));
  }
}

/** Redraw the rank chart: at most once per HISTORY_MIN_MS, and once more after it if asked meanwhile. */
async function refreshHistory() {
  if (historyBusy) {
    historyWanted = true;
    return;
  }
  historyBusy = true;
  historyWanted = false;
  await drawHistory();
  setTimeout(() => {
    historyBusy = false;
    if (historyWanted) refreshHistory();
  }, HISTORY_MIN_MS);
}

async function setUpBoard() {
  const select = $("#board-country");
  const names = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(undefined, { type: "region" }) : null;
  try {
    const { countries } = await api(`/api/contests/${contest.id}/leaderboard/countries`);
    select.append(...countries.map((code) => h("option", { value: code }, names ? `${names.of(code)} (${code})` : code)));
  } catch {
    $("#board-options").hidden = true; // hidden board: the panel says why
  }
  select.addEventListener("change", async () => {
    board.country = select.value;
    board.offset = 0;
    await loadBoardPage();
    startFeed();
  });
  $("#board-next").addEventListener("click", () => {
    board.offset += BOARD_PAGE;
    loadBoardPage();
  });
  $("#board-prev").addEventListener("click", () => {
    board.offset = Math.max(0, board.offset - BOARD_PAGE);
    loadBoardPage();
  });
  if (await loadBoardPage()) {
    startFeed();
    refreshHistory();
  }
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
  await Promise.all([refreshRemaining(), setUpBoard()]);
}

main();
