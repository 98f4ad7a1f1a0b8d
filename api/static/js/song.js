// A song's own page, to share: the player, its standing on the board, a Vote button, and its link.
// /songs/{id}.
import { ApiError, api, currentUser } from "./api.js";
import { $, duration, fill, h, say } from "./dom.js";
import { deviceFingerprint, timeZone } from "./fingerprint.js";
import { initPage } from "./layout.js";
import { explain, loginLink, needsLogin } from "./messages.js";

function songIdFromPath() {
  const last = location.pathname.split("/").filter(Boolean).pop();
  return /^\d+$/.test(last) ? Number(last) : null;
}

async function showStanding(song) {
  const region = $("#standing");
  try {
    const standing = await api(`/api/contests/${song.contest_id}/leaderboard/songs/${song.id}`);
    const tied = standing.tied_with ? ` (tied with ${standing.tied_with} other${standing.tied_with === 1 ? "" : "s"})` : "";
    fill(region, h("strong", { id: "rank" }, `#${standing.rank}`), ` of ${standing.board_size} with ${standing.votes} vote(s)${tied}.`);
  } catch (error) {
    const hidden = error instanceof ApiError && error.status === 403;
    fill(region, hidden ? explain(error) : "Not on the board yet.");
  }
}

function setUpShare(song) {
  const url = `${location.origin}/songs/${song.id}`;
  const input = $("#share-url");
  input.value = url;
  const feedback = $("#share-feedback");
  $("#copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(url);
      say(feedback, "Link copied.", "ok");
    } catch {
      input.select(); // no clipboard access (plain HTTP): the reader copies it themselves
      say(feedback, "Press Ctrl+C (or ⌘C) to copy the selected link.");
    }
  });
  if (navigator.share) {
    const share = $("#share");
    share.hidden = false;
    share.addEventListener("click", () => navigator.share({ title: song.title, text: `${song.title} by ${song.artist_name}`, url }).catch(() => {}));
  }
}

function setUpVote(song) {
  const button = $("#vote");
  const feedback = $("#vote-feedback");
  fill(button, `Vote for ${song.title}`);
  button.addEventListener("click", async () => {
    if (button.disabled) return;
    if (!(await currentUser())) return say(feedback, "Log in to vote.", "error", loginLink());
    button.disabled = true;
    say(feedback, "Sending your vote…");
    try {
      const result = await api(`/api/contests/${song.contest_id}/votes`, {
        method: "POST",
        json: { song_id: song.id, fingerprint: await deviceFingerprint(), timezone: timeZone() },
      });
      say(feedback, `Your vote is recorded. ${result.explanation}`, "ok");
    } catch (error) {
      say(feedback, needsLogin(error) ? "Your session has ended. Log in to vote." : explain(error), "error", needsLogin(error) ? loginLink() : null);
    } finally {
      button.disabled = false;
    }
  });
}

async function main() {
  await initPage();
  const id = songIdFromPath();
  let song;
  try {
    song = await api(`/api/songs/${id}`);
  } catch (error) {
    fill($("#song-title"), "Song not found");
    say($("#status"), explain(error), "error", h("a", { href: "/" }, "See all contests"));
    return;
  }
  document.title = `${song.title} · Ovation`;
  fill($("#song-title"), song.title);
  fill($("#song-meta"), [song.artist_name, song.genre, duration(song.duration_seconds)].filter(Boolean).join(" · "));
  fill($("#song-description"), song.description || "");
  const player = $("#player");
  player.src = song.audio_url || `/api/songs/${song.id}/audio`;
  player.setAttribute("aria-label", `Play ${song.title} by ${song.artist_name}`);
  try {
    const contest = await api(`/api/contests/${song.contest_id}`);
    const link = $("#contest-link");
    link.href = `/contests/${encodeURIComponent(contest.slug)}`;
    fill(link, `← ${contest.title}`);
  } catch {
    // the contest's own page is not public: the song page stands alone
  }
  $("#song").hidden = false;
  setUpShare(song);
  setUpVote(song);
  await showStanding(song);
}

main();
