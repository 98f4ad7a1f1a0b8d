// An admin's contest page: create a contest, or edit every rule of one, and open/close it, hide, freeze or
// reveal its board, recompute it. /admin/contests/new or /admin/contests/{id}.
import { api } from "./api.js";
import { $, fill, h, label, say, when } from "./dom.js";
import { allowed, initPage } from "./layout.js";
import { explain } from "./messages.js";

const FORMATS = ["mp3", "flac", "ogg", "opus", "wav", "m4a", "aiff", "webm"];
const NUMBERS = [
  "votes_per_voter_per_day",
  "votes_per_song_per_day",
  "retraction_minutes",
  "freeze_hours",
  "min_account_age_hours",
  "max_entries_per_contestant",
  "min_duration_seconds",
  "max_duration_seconds",
];
const CHECKS = ["leaderboard_hidden", "allow_unknown_country", "require_verified_email"];
const WINDOWS = [
  ["submission_opens_at", "submission_closes_at", "Submissions"],
  ["voting_opens_at", "voting_closes_at", "Voting"],
];
const DEFAULTS = {
  votes_per_voter_per_day: 10,
  votes_per_song_per_day: 1,
  retraction_minutes: 10,
  freeze_hours: 0,
  min_account_age_hours: 0,
  max_entries_per_contestant: 3,
  min_duration_seconds: 30,
  max_duration_seconds: 600,
  max_file_bytes: 100 * 1024 * 1024,
  allowed_formats: ["mp3", "flac", "ogg", "wav"],
  allow_unknown_country: true,
};

let contest = null; // null while creating
const field = (name) => $(`#f-${name}`);

function contestIdFromPath() {
  const last = location.pathname.split("/").filter(Boolean).pop();
  return /^\d+$/.test(last) ? Number(last) : null;
}

/** An ISO timestamp as the value of a datetime-local input, in the reader's own time zone. */
function localValue(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fillForm(values) {
  for (const name of ["title", "description", "slug"]) if (values[name] !== undefined) field(name).value = values[name];
  for (const [opens, closes] of WINDOWS) {
    if (values[opens]) field(opens).value = localValue(values[opens]);
    if (values[closes]) field(closes).value = localValue(values[closes]);
  }
  for (const name of NUMBERS) if (values[name] !== undefined) field(name).value = values[name];
  for (const name of CHECKS) field(name).checked = Boolean(values[name]);
  field("eligible_countries").value = (values.eligible_countries || []).join(", ");
  field("max_file_mb").value = +(values.max_file_bytes / 1024 / 1024).toFixed(3);
  for (const box of document.querySelectorAll("#formats input")) box.checked = values.allowed_formats.includes(box.value);
  const fraud = { ...(values.fraud_config || {}) };
  field("review_threshold").value = fraud.review_threshold ?? "";
  delete fraud.review_threshold;
  field("fraud_config").value = Object.keys(fraud).length ? JSON.stringify(fraud, null, 2) : "";
}

/** The form as the API's rules, or a list of problems in words (checked here first; the API checks again). */
function readForm() {
  const problems = [];
  const body = { title: field("title").value.trim(), description: field("description").value.trim() };
  if (!body.title) problems.push("Give the contest a title.");
  if (!contest) {
    body.slug = field("slug").value.trim();
    if (!/^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/.test(body.slug)) {
      problems.push("The address must be 3–64 lowercase letters, digits or “-”, not starting or ending with “-”.");
    }
  }
  for (const [opens, closes, what] of WINDOWS) {
    const start = field(opens).value;
    const end = field(closes).value;
    if (!start || !end) {
      problems.push(`${what}: give both the opening and the closing time.`);
      continue;
    }
    body[opens] = new Date(start).toISOString(); // the reader's local time, sent with its offset (UTC)
    body[closes] = new Date(end).toISOString();
    if (Date.parse(body[closes]) <= Date.parse(body[opens])) problems.push(`${what} must close after it opens.`);
  }
  if (body.voting_opens_at && body.submission_opens_at && Date.parse(body.voting_opens_at) < Date.parse(body.submission_opens_at)) {
    problems.push("Voting cannot open before submissions open.");
  }
  for (const name of NUMBERS) {
    const input = field(name);
    const value = Number(input.value);
    const min = Number(input.min);
    if (input.value.trim() === "" || !Number.isInteger(value) || value < min || value > Number(input.max)) {
      problems.push(`${input.labels[0].textContent.trim()}: a whole number from ${min} to ${input.max}.`);
    } else {
      body[name] = value;
    }
  }
  for (const name of CHECKS) body[name] = field(name).checked;
  const countries = field("eligible_countries")
    .value.split(/[\s,;]+/)
    .map((code) => code.trim().toUpperCase())
    .filter(Boolean);
  const malformed = countries.filter((code) => !/^[A-Z]{2}$/.test(code));
  if (malformed.length) problems.push(`Not a two-letter country code: ${malformed.join(", ")}.`);
  body.eligible_countries = countries.length ? [...new Set(countries)] : null;
  const megabytes = Number(field("max_file_mb").value);
  if (!(megabytes > 0) || megabytes > 2048) problems.push("Largest file: more than 0 and at most 2048 MB.");
  else body.max_file_bytes = Math.max(1, Math.round(megabytes * 1024 * 1024));
  body.allowed_formats = [...document.querySelectorAll("#formats input:checked")].map((box) => box.value);
  if (!body.allowed_formats.length) problems.push("Allow at least one format.");
  let fraud = {};
  const text = field("fraud_config").value.trim();
  if (text) {
    try {
      fraud = JSON.parse(text);
      if (typeof fraud !== "object" || Array.isArray(fraud) || fraud === null) throw new TypeError("not an object");
    } catch {
      problems.push("Other fraud overrides must be a JSON object, e.g. {\"groups\": {\"min_accounts\": 15}}.");
      fraud = {};
    }
  }
  const threshold = field("review_threshold").value.trim();
  if (threshold) {
    const value = Number(threshold);
    if (!(value > 0 && value <= 100)) problems.push("Review threshold: a number above 0 and at most 100.");
    else fraud.review_threshold = value;
  }
  body.fraud_config = fraud;
  return { body, problems };
}

function showState() {
  fill(
    $("#contest-state"),
    h("dt", {}, "Status"),
    h("dd", {}, h("span", { class: `badge status-${contest.status}` }, label(contest.status)), ` (${label(contest.phase)})`),
    h("dt", {}, "Board"),
    h("dd", {}, contest.leaderboard_hidden ? "hidden from the public until voting ends" : contest.freeze_hours ? `frozen for the final ${contest.freeze_hours} h` : "public and live"),
    h("dt", {}, "Public page"),
    h("dd", {}, contest.status === "draft" ? `/contests/${contest.slug} (after opening)` : h("a", { href: `/contests/${contest.slug}` }, `/contests/${contest.slug}`)),
    h("dt", {}, "Voting"),
    h("dd", {}, when(contest.voting_opens_at), " – ", when(contest.voting_closes_at)),
  );
  const button = (action) => $(`#actions button[data-action=${action}]`);
  button("open").hidden = contest.status !== "draft";
  button("close").hidden = contest.status !== "open";
  button("hide").hidden = contest.leaderboard_hidden;
  button("reveal").hidden = !contest.leaderboard_hidden && !contest.freeze_hours;
  $("#audit-link").href = `/admin/audit?contest_id=${contest.id}`;
}

function showContest(updated) {
  contest = updated;
  document.title = `${contest.title} · Admin · Ovation`;
  fill($("#page-title"), contest.title);
  fill($("#crumb"), contest.title);
  fill($("#form-heading"), "Rules");
  $("#slug-row").hidden = true;
  $("#actions").hidden = false;
  showState();
  fillForm(contest);
}

const ACTIONS = {
  open: { confirm: "Open this contest? It becomes public.", call: () => api(`/api/contests/${contest.id}/open`, { method: "POST" }), done: "The contest is open." },
  close: { confirm: "Close this contest? It takes no more songs or votes, and this cannot be undone.", call: () => api(`/api/contests/${contest.id}/close`, { method: "POST" }), done: "The contest is closed." },
  hide: { call: () => api(`/api/contests/${contest.id}`, { method: "PATCH", json: { leaderboard_hidden: true } }), done: "The board is hidden from the public until voting ends." },
  reveal: { call: () => api(`/api/contests/${contest.id}`, { method: "PATCH", json: { leaderboard_hidden: false, freeze_hours: 0 } }), done: "The board is public and live again." },
  recompute: {
    call: async () => {
      await api(`/api/contests/${contest.id}/leaderboard/recompute`, { method: "POST" });
      return null;
    },
    done: "The leaderboard worker was asked to recompute the board; it updates within seconds.",
  },
};

function setUpActions() {
  const region = $("#action-message");
  for (const button of document.querySelectorAll("#actions button[data-action]")) {
    button.addEventListener("click", async () => {
      const action = ACTIONS[button.dataset.action];
      if (button.disabled) return;
      if (action.confirm && !confirm(action.confirm)) return;
      button.disabled = true; // a double click acts once
      say(region, "Please wait…");
      try {
        const updated = await action.call();
        if (updated) showContest(updated);
        say(region, action.done, "ok");
      } catch (error) {
        say(region, explain(error), "error");
      } finally {
        button.disabled = false;
      }
    });
  }
}

function setUpForm() {
  const form = $("#contest-form");
  const region = $("#form-message");
  const save = form.querySelector("button[type=submit]");
  fill($("#formats"), FORMATS.map((name) => h("span", { class: "check" }, h("input", { type: "checkbox", id: `format-${name}`, value: name }), h("label", { for: `format-${name}` }, name))));
  fill($("#tz"), Intl.DateTimeFormat().resolvedOptions().timeZone || "local");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (save.disabled) return;
    const { body, problems } = readForm();
    if (problems.length) {
      say(region, `Please check: ${problems.join(" ")}`, "error");
      return;
    }
    save.disabled = true;
    say(region, "Saving…");
    try {
      if (contest) {
        showContest(await api(`/api/contests/${contest.id}`, { method: "PATCH", json: body }));
        say(region, "Saved.", "ok");
      } else {
        const created = await api("/api/contests/", { method: "POST", json: body });
        location.assign(`/admin/contests/${created.id}?created=1`);
      }
    } catch (error) {
      say(region, explain(error), "error");
    } finally {
      save.disabled = false;
    }
  });
  form.hidden = false;
  save.disabled = false;
}

async function main() {
  const user = await initPage();
  if (!allowed(user, ["admin"])) return;
  setUpForm();
  const id = contestIdFromPath();
  if (id === null) {
    const now = Date.now();
    const day = 24 * 3600 * 1000;
    fillForm({
      ...DEFAULTS,
      submission_opens_at: new Date(now).toISOString(),
      submission_closes_at: new Date(now + 14 * day).toISOString(),
      voting_opens_at: new Date(now + 7 * day).toISOString(),
      voting_closes_at: new Date(now + 21 * day).toISOString(),
    });
    fill($("#page-title"), "New contest");
    fill($("#crumb"), "New contest");
    fill($("#form-heading"), "Rules of the new contest");
    document.title = "New contest · Admin · Ovation";
    return;
  }
  try {
    showContest(await api(`/api/contests/${id}`));
  } catch (error) {
    $("#contest-form").hidden = true;
    fill($("#page-title"), "Contest not found");
    say($("#status"), explain(error), "error", h("a", { href: "/admin" }, "All contests"));
    return;
  }
  setUpActions();
  if (new URLSearchParams(location.search).get("created")) {
    say($("#status"), "The contest was created as a draft: open it when its rules are right.", "ok");
  }
}

main();
