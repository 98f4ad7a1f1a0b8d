// Moderator page: the open fraud cases of a contest, with reasons, evidence and the effect of clearing them,
// and a confirm/clear decision with a note. The contest is in the address: /moderation?contest={slug}.
import { ApiError, allPages, api, hasRole } from "./api.js";
import { $, fill, h, label, say, when } from "./dom.js";
import { initPage } from "./layout.js";
import { explain, loginLink } from "./messages.js";
import { pager } from "./pager.js";

const PAGE_SIZE = 20;
let contest = null;
let cases = null; // the pager over the contest's open cases
let songTitles = new Map(); // song id -> title, for the public (approved) songs of the contest

const songName = (id) => (songTitles.has(id) ? `${songTitles.get(id)} (#${id})` : `#${id}`);

function reasons(map) {
  const entries = Object.entries(map || {});
  if (!entries.length) return h("p", {}, "No reason recorded.");
  return h(
    "ul",
    { class: "reasons" },
    entries.map(([code, count]) => h("li", {}, h("code", {}, code), ` × ${count}`)),
  );
}

function effect(rows) {
  if (!rows.length) return h("p", {}, "Clearing this case would not change any song's standing.");
  return h(
    "table",
    {},
    h("caption", {}, "If cleared"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Song", "Votes in case", "Counted now", "Rank now", "Rank if cleared"].map((name) =>
          h("th", { scope: "col" }, name),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          {},
          h("td", {}, songName(row.song_id)),
          h("td", {}, String(row.case_votes)),
          h("td", {}, String(row.counted_votes)),
          h("td", {}, String(row.rank_now)),
          h("td", {}, String(row.rank_if_cleared)),
        ),
      ),
    ),
  );
}

function voteTable(votes) {
  const columns = ["Vote", "Song", "Cast", "Network", "Place", "Device", "Reasons"];
  return h(
    "table",
    { class: "evidence" },
    h("caption", {}, "Votes in this case"),
    h("thead", {}, h("tr", {}, columns.map((name) => h("th", { scope: "col" }, name)))),
    h(
      "tbody",
      {},
      votes.map((vote) =>
        h(
          "tr",
          {},
          h("td", {}, `#${vote.id}`, h("br"), h("span", { class: "meta" }, `voter #${vote.voter_id}`), h("br"), h("span", { class: "meta" }, `score ${vote.fraud_score ?? "—"}`)),
          h("td", {}, songName(vote.song_id)),
          h("td", {}, when(vote.cast_at)),
          h("td", {}, vote.ip, h("br"), h("span", { class: "meta" }, vote.network_prefix, vote.as_org ? ` · ${vote.as_org}` : "")),
          h("td", {}, [vote.city, vote.country].filter(Boolean).join(", ") || "unknown", vote.client_timezone ? h("br") : null, vote.client_timezone ? h("span", { class: "meta" }, vote.client_timezone) : null),
          h("td", { class: "meta" }, vote.user_agent || "no user agent", h("br"), `fp ${shorten(vote.device_fingerprint)} · cookie ${shorten(vote.device_cookie_id)}`),
          h(
            "td",
            {},
            h(
              "ul",
              { class: "reasons" },
              (vote.reasons || []).map((reason) =>
                h(
                  "li",
                  {},
                  h("code", {}, reason.code || "?"),
                  reason.points !== undefined ? ` +${reason.points}` : "",
                  reason.evidence ? `: ${reason.evidence}` : "",
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function shorten(value) {
  return value ? `${String(value).slice(0, 10)}…` : "none";
}

function decisionForm(item) {
  const id = `note-${item.key.replace(/[^A-Za-z0-9]/g, "-")}`;
  const form = h(
    "form",
    { class: "decision" },
    h("label", { for: id }, "Note (why; kept in the audit log, and shown to voters who appealed)"),
    h("textarea", { id, name: "note", rows: 2, required: true, maxlength: 1000 }),
    h(
      "p",
      {},
      h("button", { type: "submit", name: "decision", value: "confirm", class: "danger" }, "Confirm: reject these votes"),
      " ",
      h("button", { type: "submit", name: "decision", value: "clear", class: "approve" }, "Clear: count these votes"),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const message = $("#decision-message");
    const decision = event.submitter ? event.submitter.value : "confirm";
    const note = form.elements.note.value.trim();
    if (!note) {
      say(message, "Write a note saying why before deciding.", "error");
      form.elements.note.focus();
      return;
    }
    if (form.dataset.busy) return; // a double click decides once
    form.dataset.busy = "1";
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    try {
      const votes = await decide(item.key, decision, note);
      say(message, `Case ${item.key}: ${votes} vote(s) ${VERBS[decision]}.`, "ok");
      caseDecided(form.closest("li"));
    } catch (error) {
      say(message, explain(error), "error");
      if (error instanceof ApiError && error.code === "case_not_found") caseDecided(form.closest("li"));
      for (const button of form.querySelectorAll("button")) button.disabled = false;
    } finally {
      delete form.dataset.busy;
    }
  });
  return form;
}

const VERBS = { confirm: "rejected", clear: "cleared" };

async function decide(key, decision, note) {
  const result = await api(`/api/moderation/contests/${contest.id}/case/decision`, {
    method: "POST",
    json: { key, decision, note },
  });
  return result.votes;
}

/** A case left the queue: take it off the page and say how many remain. */
function caseDecided(item) {
  if (!item || !item.isConnected) return;
  item.remove();
  cases.removed();
  countShown();
  updateSelection();
}

function countShown() {
  const shown = $("#cases").children.length;
  say($("#status"), shown ? `${shown} case(s) shown for ${contest.title}.` : `No open cases in ${contest.title}.`);
  $("#bulk-form").hidden = shown === 0;
}

function selectedItems() {
  return [...document.querySelectorAll("#cases input.select-case:checked")].map((box) => box.closest("li"));
}

function updateSelection() {
  const count = selectedItems().length;
  fill($("#selected-count"), String(count));
  for (const button of $("#bulk-form").querySelectorAll("button[type=submit]")) button.disabled = count === 0;
}

function setUpBulk() {
  const form = $("#bulk-form");
  $("#select-all").addEventListener("click", () => {
    for (const box of document.querySelectorAll("#cases input.select-case")) box.checked = true;
    updateSelection();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.busy) return;
    const message = $("#decision-message");
    const decision = event.submitter ? event.submitter.value : "confirm";
    const note = form.elements.note.value.trim();
    const items = selectedItems();
    if (!note) {
      say(message, "Write a note saying why before deciding.", "error");
      form.elements.note.focus();
      return;
    }
    form.dataset.busy = "1";
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    let decided = 0;
    let votes = 0;
    const problems = [];
    for (const item of items) {
      try {
        votes += await decide(item.dataset.key, decision, note);
        decided += 1;
        caseDecided(item);
      } catch (error) {
        problems.push(`${item.dataset.key}: ${explain(error)}`);
        if (error instanceof ApiError && error.code === "case_not_found") caseDecided(item);
      }
    }
    const summary = `${decided} case(s), ${votes} vote(s) ${VERBS[decision]}.`;
    say(message, problems.length ? `${summary} Not decided: ${problems.join(" ")}` : summary, problems.length ? "error" : "ok");
    if (decided) form.elements.note.value = "";
    delete form.dataset.busy;
    $("#select-all").disabled = false;
    updateSelection();
  });
}

function showExports() {
  const base = `/api/contests/${contest.id}/leaderboard/results`;
  const forensic = `/api/moderation/contests/${contest.id}/votes/export`;
  const link = (href, text, name) => h("li", {}, h("a", { href, download: name }, text));
  fill(
    $("#exports"),
    link(`${base}?format=csv`, "Results (CSV)", `contest-${contest.id}-results.csv`),
    link(`${base}?format=json`, "Results (JSON)", `contest-${contest.id}-results.json`),
    link(`${forensic}?format=csv`, "Flagged votes with evidence (CSV)", `contest-${contest.id}-flagged-votes.csv`),
    link(`${forensic}?format=json`, "Flagged votes with evidence (JSON)", `contest-${contest.id}-flagged-votes.json`),
  );
  $("#exports-section").hidden = false;
}

const size = (value) => (Array.isArray(value) ? value.length : value);

function groupSummary(group) {
  const metrics = Object.entries(group.metrics || {})
    .map(([name, value]) => `${label(name)} ${typeof value === "number" ? +value.toFixed(3) : value}`)
    .join(", ");
  return h(
    "div",
    { class: "group" },
    h("p", {}, `Voting group #${group.id}: ${size(group.accounts)} accounts, ${size(group.songs)} songs`, metrics ? ` (${metrics})` : "", "."),
    group.evidence ? h("p", {}, typeof group.evidence === "string" ? group.evidence : JSON.stringify(group.evidence)) : null,
  );
}

function appealList(appeals) {
  if (!appeals || !appeals.length) return null;
  return h(
    "section",
    { class: "appeals", "aria-label": "Appeals" },
    h("h4", {}, `Appeals (${appeals.length})`),
    h("p", { class: "hint" }, "These voters appealed the hold on their vote: they see your decision and its note."),
    h(
      "ul",
      {},
      appeals.map((appeal) =>
        h(
          "li",
          { dataset: { voteId: appeal.vote_id } },
          `Vote #${appeal.vote_id} (account #${appeal.voter_id}), `,
          when(appeal.created_at),
          ": “",
          appeal.note,
          "”",
        ),
      ),
    ),
  );
}

function caseItem(item) {
  const details = h("div", { class: "case-votes" });
  const toggle = h(
    "button",
    {
      type: "button",
      "aria-expanded": "false",
      onclick: async () => {
        if (toggle.getAttribute("aria-expanded") === "true") {
          toggle.setAttribute("aria-expanded", "false");
          fill(details);
          return;
        }
        toggle.setAttribute("aria-expanded", "true");
        fill(details, h("p", {}, "Loading…"));
        try {
          const detail = await api(
            `/api/moderation/contests/${contest.id}/case?key=${encodeURIComponent(item.key)}`,
          );
          fill(details, appealList(detail.appeals), voteTable(detail.votes));
        } catch (error) {
          fill(details, h("p", { class: "message", dataset: { kind: "error" } }, explain(error)));
        }
      },
    },
    "Show the votes",
  );
  const group = item.group ? groupSummary(item.group) : null;
  const boxId = `select-${item.key.replace(/[^A-Za-z0-9]/g, "-")}`;
  return h(
    "li",
    { class: "case panel", dataset: { key: item.key } },
    h(
      "h3",
      { class: "case-heading" },
      h("input", { type: "checkbox", class: "select-case", id: boxId, onchange: updateSelection }),
      h("label", { for: boxId }, h("span", { class: "visually-hidden" }, "Select case "), h("code", {}, item.key)),
      " ",
      h("span", { class: "badge" }, label(item.kind)),
    ),
    h(
      "p",
      {},
      `${item.votes} vote(s) from ${item.accounts} account(s), `,
      when(item.first_cast_at),
      " – ",
      when(item.last_cast_at),
      item.appeals ? h("strong", { class: "appeal-count" }, ` · ${item.appeals} appeal(s)`) : null,
    ),
    group,
    h("h4", {}, "Reasons"),
    reasons(item.reasons),
    item.sample_evidence.length
      ? [h("h4", {}, "Evidence"), h("ul", { class: "evidence-list" }, item.sample_evidence.map((text) => h("li", {}, text)))]
      : null,
    h("h4", {}, "Effect"),
    effect(item.effect_if_cleared),
    h("p", {}, toggle),
    details,
    decisionForm(item),
  );
}

function showCases(items) {
  $("#cases").append(...items.map(caseItem));
  $("#cases-section").hidden = false;
  countShown();
  updateSelection();
}

async function main() {
  const user = await initPage();
  const status = $("#status");
  if (!user) {
    say(status, "Log in with a moderator account.", "info", loginLink());
    return;
  }
  if (!hasRole(user, "moderator", "admin")) {
    say(status, "This page is for moderators.", "error");
    return;
  }
  let contests;
  try {
    contests = await allPages("/api/contests/", { max: 500 }); // drafts too, for admins
  } catch (error) {
    say(status, explain(error), "error");
    return;
  }
  if (!contests.length) {
    say(status, "There are no contests yet.");
    return;
  }
  const select = $("#contest-select");
  fill(select, contests.map((c) => h("option", { value: c.slug }, `${c.title} (${label(c.phase)})`)));
  const wanted = new URLSearchParams(location.search).get("contest");
  if (wanted && contests.some((c) => c.slug === wanted)) select.value = wanted;
  const picker = $("#contest-picker");
  picker.hidden = false;
  const show = async () => {
    contest = contests.find((c) => c.slug === select.value);
    // Keep the address bookmarkable: it names the contest being reviewed.
    history.replaceState(null, "", `/moderation?contest=${encodeURIComponent(contest.slug)}`);
    try {
      const songs = await allPages(`/api/contests/${contest.id}/songs`);
      songTitles = new Map(songs.map((song) => [song.id, song.title]));
    } catch {
      songTitles = new Map(); // numbers alone still identify the songs
    }
    fill($("#cases"));
    showExports();
    await cases.reset();
  };
  picker.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
  setUpBulk();
  cases = pager({
    button: $("#more-cases"),
    pageSize: PAGE_SIZE,
    load: (offset, limit) => api(`/api/moderation/contests/${contest.id}/cases?limit=${limit}&offset=${offset}`),
    show: showCases,
    onError: (error) => say(status, explain(error), "error"),
  });
  await show();
}

main();
