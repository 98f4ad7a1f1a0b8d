// Moderators: one song with the evidence the checks collected (the song it duplicates or sounds like, with a
// player for both, the similarity, the probe, the rule that failed) and approve/reject with a reason the
// contestant reads. /moderation/songs/{id}.
import { ApiError, api } from "./api.js";
import { $, bytes, duration, fill, h, label, say, when } from "./dom.js";
import { allowed, initPage } from "./layout.js";
import { explain } from "./messages.js";

const DECIDABLE = { approve: new Set(["pending_review"]), reject: new Set(["pending_review", "approved"]) };

function songIdFromPath() {
  const last = location.pathname.split("/").filter(Boolean).pop();
  return /^\d+$/.test(last) ? Number(last) : null;
}

function player(songId, title) {
  return h("audio", { controls: true, preload: "metadata", src: `/api/songs/${songId}/audio`, "aria-label": `Play ${title}` }, "Your browser cannot play this file.");
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, value]) => value !== null && value !== undefined && value !== "").flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

function thisSong(song) {
  return [
    h("p", { class: "meta" }, `by ${song.artist_name} · contestant #${song.contestant_id}`),
    song.status !== "rejected" ? player(song.id, song.title) : h("p", { class: "hint" }, "Refused files are not kept: there is nothing to play."),
    facts([
      ["Status", h("span", { class: `badge status-${song.status}` }, label(song.status))],
      ["Told the contestant", song.status_reason || "—"],
      ["File", `${song.original_filename} (${bytes(song.size_bytes)})`],
      ["Submitted", when(song.created_at)],
      ["Format", [song.format, song.codec, song.sample_rate ? `${song.sample_rate} Hz` : null, song.channels ? `${song.channels} ch` : null].filter(Boolean).join(" · ")],
      ["Length", duration(song.duration_seconds)],
      ["Genre", song.genre],
      ["Description", song.description],
    ]),
  ];
}

function matchCard(match, kind, current) {
  return h(
    "li",
    { class: "panel match", dataset: { songId: match.song_id } },
    h("h3", {}, `${kind}: “${match.title}” (#${match.song_id})`),
    facts([
      ["Similarity", match.similarity !== undefined ? `${Math.round(match.similarity * 100)}%` : null],
      ["Status", label(match.status)],
      ["Contest", match.contest_id === current.contest_id ? "this contest" : `contest #${match.contest_id}`],
      ["Contestant", match.same_contestant ? "the same contestant" : `another contestant (#${match.contestant_id})`],
    ]),
    player(match.song_id, match.title),
  );
}

function matches(song) {
  const evidence = song.review_evidence || {};
  const cards = [];
  if (evidence.duplicate_of) cards.push(matchCard(evidence.duplicate_of, "The exact same file", song));
  for (const match of evidence.near_duplicates || []) cards.push(matchCard(match, "Sounds like", song));
  for (const match of evidence.exact_duplicates || []) cards.push(matchCard(match, "The same file, elsewhere", song));
  if (!cards.length) return h("p", {}, "It matches no other song.");
  return h("ol", { class: "matches" }, cards);
}

function checks(song) {
  const evidence = song.review_evidence || {};
  const probe = evidence.probe || {};
  const rows = [];
  if (evidence.rule) rows.push(["Rule that failed", `${label(evidence.rule)}: limit ${JSON.stringify(evidence.limit ?? evidence.allowed)}, this file ${JSON.stringify(evidence.actual)}`]);
  if (evidence.error) rows.push(["Problem", label(evidence.error)]);
  if (evidence.probe_error) rows.push(["Could not read the audio", `${evidence.probe_error.kind}: ${evidence.probe_error.detail}`]);
  if (evidence.fingerprint) {
    rows.push([
      "Acoustic fingerprint",
      evidence.fingerprint.error ? `not made (${evidence.fingerprint.error}); near-duplicate check skipped` : `compared with ${evidence.fingerprint.compared_with} song(s)`,
    ]);
  }
  if (Object.keys(probe).length) {
    rows.push(["Container and codec", `${probe.container} · ${probe.codec} (${probe.mime_type})`]);
    rows.push(["Decoded length", `${probe.duration_s} s (the header says ${probe.header_duration_s ?? "nothing"})`]);
    rows.push(["Bit rate, sample rate, channels", `${probe.bitrate_bps ?? "?"} bit/s · ${probe.sample_rate_hz ?? "?"} Hz · ${probe.channels ?? "?"}`]);
    rows.push(["Decoded completely", probe.decoded ? "yes" : "no"]);
    if (probe.warnings && probe.warnings.length) rows.push(["Warnings", probe.warnings.join("; ")]);
  }
  if (evidence.sha256) rows.push(["SHA-256", h("code", { class: "hash" }, evidence.sha256)]);
  if (evidence.gave_up_after_attempts) rows.push(["Checks gave up after", `${evidence.gave_up_after_attempts} attempts`]);
  if (!rows.length) return h("p", {}, "No check results recorded.");
  return facts(rows);
}

function setUpDecision(song) {
  const form = $("#decision-form");
  const region = $("#decision-message");
  const buttons = [...form.querySelectorAll("button[type=submit]")];
  const refresh = ({ quiet = false } = {}) => {
    for (const button of buttons) {
      button.disabled = false;
      button.hidden = !DECIDABLE[button.value].has(song.status);
    }
    const nothingLeft = buttons.every((button) => button.hidden);
    if (nothingLeft && !quiet) say(region, `This song is ${label(song.status)}: there is nothing to decide.`);
  };
  refresh();
  if (song.status === "approved") fill(buttons.find((b) => b.value === "reject"), "Take the song down");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.busy) return; // a double click decides once
    const decision = event.submitter ? event.submitter.value : "approve";
    const reason = form.elements.reason.value.trim();
    if (decision === "reject" && !reason) {
      say(region, "Write the reason the contestant will read before rejecting.", "error");
      form.elements.reason.focus();
      return;
    }
    form.dataset.busy = "1";
    for (const button of buttons) button.disabled = true;
    try {
      const updated = await api(`/api/moderation/songs/${song.id}/${decision}`, { method: "POST", json: { reason: reason || null } });
      Object.assign(song, updated);
      fill($("#this-song"), thisSong(song));
      say(region, decision === "approve" ? `“${song.title}” is approved and public.` : `“${song.title}” is rejected; the contestant reads: “${song.status_reason}”`, "ok", h("a", { href: "/moderation/songs" }, "Next song"));
    } catch (error) {
      say(region, explain(error), "error");
    } finally {
      delete form.dataset.busy;
      refresh({ quiet: true }); // the answer above says what happened
    }
  });
}

async function main() {
  const user = await initPage();
  if (!allowed(user, ["moderator", "admin"], { who: "a moderator" })) return;
  const status = $("#status");
  const id = songIdFromPath();
  let song;
  try {
    song = await api(`/api/songs/${id}`);
    await api(`/api/contests/${song.contest_id}`); // a contest this moderator cannot see: nothing to review
  } catch (error) {
    fill($("#song-title"), "Song not found");
    const missing = error instanceof ApiError && error.status === 404;
    say(status, missing ? "There is no such song, or it belongs to a contest you cannot see." : explain(error), "error", h("a", { href: "/moderation/songs" }, "Songs to review"));
    return;
  }
  document.title = `Review “${song.title}” · Ovation`;
  fill($("#song-title"), `Review “${song.title}”`);
  fill($("#crumb"), song.title);
  fill($("#this-song"), thisSong(song));
  fill($("#matches"), matches(song));
  fill($("#checks"), checks(song));
  $("#review").hidden = false;
  setUpDecision(song);
}

main();
