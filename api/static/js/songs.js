// Contestant page: upload a song (the file itself is the request body, its details a JSON header) and
// follow my submissions' status, with the reason, while the media worker checks them.
import { ApiError, allPages, api, hasRole, upload } from "./api.js";
import { $, bytes, fill, h, label, say, when } from "./dom.js";
import { initPage } from "./layout.js";
import { explain, loginLink } from "./messages.js";

const IN_PROGRESS = new Set(["uploaded", "processing"]);
const WITHDRAWABLE = new Set(["uploaded", "processing", "approved", "pending_review"]);
const POLL_MS = 2000; // while the media worker checks a file (seconds to minutes)
const REVIEW_POLL_MS = 15_000; // while a moderator has yet to listen
const POLL_LIMIT = 150; // then stop; a reload starts again

let contestsById = new Map();
let polls = 0;
let pollTimer = null;

// Header values must be Latin-1 in fetch: escape everything else as JSON \u sequences (the API decodes them).
function asciiJson(value) {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function contestLabel(c) {
  return `${c.title} (${label(c.phase)})`;
}

function acceptsSubmissions(c) {
  return c.phase === "submission" || c.phase === "submission_and_voting";
}

async function submit(form) {
  const message = $("#upload-message");
  const data = new FormData(form);
  const file = $("#upload-file").files[0];
  const contest = contestsById.get(Number(data.get("contest")));
  if (!contest) return say(message, "Choose a contest.", "error");
  if (!file) return say(message, "Choose an audio file.", "error");
  if (file.size > contest.max_file_bytes) {
    return say(message, `The file is ${bytes(file.size)}; this contest accepts up to ${bytes(contest.max_file_bytes)}.`, "error");
  }
  const metadata = {
    title: String(data.get("title")).trim(),
    artist_name: String(data.get("artist_name")).trim(),
    genre: String(data.get("genre") || "").trim(),
    description: String(data.get("description") || "").trim(),
    license: String(data.get("license")),
  };
  const button = form.querySelector("button[type=submit]");
  const cancel = $("#upload-cancel");
  const progress = $("#upload-progress");
  const bar = $("#upload-bar");
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  button.disabled = true;
  cancel.hidden = false;
  cancel.addEventListener("click", onCancel, { once: true });
  progress.hidden = false;
  const showProgress = ({ loaded, total }) => {
    const percent = total ? Math.floor((loaded / total) * 100) : 0;
    bar.value = percent;
    bar.textContent = `${percent}%`;
    fill($("#upload-figures"), `${bytes(loaded)} of ${bytes(total)} sent (${percent}%)`);
  };
  showProgress({ loaded: 0, total: file.size });
  say(message, `Uploading ${file.name} (${bytes(file.size)})…`);
  try {
    const result = await upload(`/api/contests/${contest.id}/songs`, {
      body: file, // streamed as is: no multipart, the server never buffers it
      headers: {
        "Content-Type": file.type && file.type.startsWith("audio/") ? file.type : "application/octet-stream",
        "X-Song-Metadata": asciiJson(metadata),
        "X-Filename": encodeURIComponent(file.name),
      },
      onProgress: showProgress,
      signal: controller.signal,
    });
    showProgress({ loaded: file.size, total: file.size });
    say(message, `Uploaded “${metadata.title}” (${bytes(result.size_bytes)}). It is being checked: its status shows below.`, "ok");
    form.reset();
    polls = 0;
    await refreshSongs();
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") {
      say(message, `Upload of ${file.name} cancelled: nothing was submitted.`, "info");
    } else {
      say(message, explain(error), "error");
    }
  } finally {
    button.disabled = false;
    cancel.hidden = true;
    cancel.removeEventListener("click", onCancel);
  }
}

function withdrawButton(song) {
  if (!WITHDRAWABLE.has(song.status)) return null;
  const contest = contestsById.get(song.contest_id); // only open contests are listed
  if (!contest) return null;
  if (Date.now() >= Date.parse(contest.voting_opens_at)) {
    return h("span", { class: "hint" }, "Voting has opened: it can no longer be withdrawn.");
  }
  return h(
    "button",
    {
      type: "button",
      "aria-label": `Withdraw ${song.title}`,
      onclick: async (event) => {
        const button = event.currentTarget;
        if (!confirm(`Withdraw “${song.title}” from the contest? This cannot be undone.`)) return;
        button.disabled = true;
        try {
          await api(`/api/songs/${song.id}/withdraw`, { method: "POST" });
          say($("#status"), `“${song.title}” was withdrawn.`, "ok");
          await refreshSongs();
        } catch (error) {
          say($("#status"), explain(error), "error");
          button.disabled = false;
        }
      },
    },
    "Withdraw",
  );
}

function songRow(song) {
  const contest = contestsById.get(song.contest_id);
  const why = song.status_reason || (IN_PROGRESS.has(song.status) ? "Being checked…" : "");
  return h(
    "tr",
    { dataset: { songId: song.id, status: song.status } },
    h("td", {}, song.title, h("span", { class: "meta" }, ` by ${song.artist_name}`)),
    h(
      "td",
      {},
      contest ? h("a", { href: `/contests/${encodeURIComponent(contest.slug)}` }, contest.title) : `#${song.contest_id}`,
    ),
    h("td", {}, song.original_filename, h("br"), h("span", { class: "meta" }, bytes(song.size_bytes), " · ", when(song.created_at))),
    h("td", {}, h("span", { class: `badge status-${song.status}` }, label(song.status))),
    h("td", {}, why),
    h("td", {}, withdrawButton(song)),
  );
}

async function refreshSongs() {
  clearTimeout(pollTimer);
  let mine;
  try {
    mine = await allPages("/api/me/songs", { max: 500 });
  } catch (error) {
    const missing = error instanceof ApiError && error.status === 404 && error.code === "not_found";
    say($("#status"), missing ? "Your submissions cannot be listed here yet." : explain(error), "error");
    return;
  }
  $("#submissions-section").hidden = false;
  fill($("#submissions tbody"), mine.length ? mine.map(songRow) : h("tr", {}, h("td", { colspan: 6 }, "No submissions yet.")));
  // The media worker decides within seconds to minutes: look again while anything is still being checked.
  const checking = mine.some((song) => IN_PROGRESS.has(song.status));
  const reviewing = mine.some((song) => song.status === "pending_review");
  if ((checking || reviewing) && polls < POLL_LIMIT) {
    polls += 1;
    pollTimer = setTimeout(refreshSongs, checking ? POLL_MS : REVIEW_POLL_MS);
  }
}

async function main() {
  const user = await initPage();
  const status = $("#status");
  if (!user) {
    say(status, "Log in with a contestant account to submit songs.", "info", loginLink());
    return;
  }
  if (!hasRole(user, "contestant")) {
    // The same account becomes a contestant from the account page: no second account.
    say(status, "To submit songs, make your account a contestant account first.", "info", h("a", { href: "/account" }, "Become a contestant"));
    return;
  }
  let contests = [];
  try {
    contests = await allPages("/api/contests/?status=open");
  } catch (error) {
    say(status, explain(error), "error");
  }
  contestsById = new Map(contests.map((c) => [c.id, c]));
  const open = contests.filter(acceptsSubmissions);
  const form = $("#upload-form");
  if (open.length) {
    const select = $("#upload-contest");
    fill(select, open.map((c) => h("option", { value: c.id }, contestLabel(c))));
    const describe = () => {
      const c = contestsById.get(Number(select.value));
      fill(
        $("#contest-hint"),
        c
          ? `Formats: ${c.allowed_formats.join(", ")}; up to ${bytes(c.max_file_bytes)}, ${c.min_duration_seconds}–${c.max_duration_seconds} s; ` +
              `submissions close `
          : "",
        c ? when(c.submission_closes_at) : "",
      );
    };
    select.addEventListener("change", describe);
    describe();
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(form);
    });
  } else {
    say(status, "No contest is taking submissions right now.");
  }
  await refreshSongs();
}

main();
