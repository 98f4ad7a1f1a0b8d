// Moderator page: the open fraud cases of a contest, with reasons, evidence and the effect of clearing them,
// and a confirm/clear decision with a note. The contest is in the address: /moderation?contest={slug}.
import { allPages, api, hasRole } from "./api.js";
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
  const columns = ["Vote", "Song", "Voter", "Cast", "Status", "Score", "Network", "Place", "Device", "Reasons"];
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
          h("td", {}, `#${vote.id}`),
          h("td", {}, songName(vote.song_id)),
          h("td", {}, `#${vote.voter_id}`),
          h("td", {}, when(vote.cast_at)),
          h("td", {}, label(vote.status)),
          h("td", {}, vote.fraud_score ?? "—"),
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
      h("button", { type: "submit", name: "decision", value: "confirm" }, "Confirm: reject these votes"),
      " ",
      h("button", { type: "submit", name: "decision", value: "clear" }, "Clear: count these votes"),
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
    for (const button of form.querySelectorAll("button")) button.disabled = true;
    try {
      const result = await api(`/api/moderation/contests/${contest.id}/case/decision`, {
        method: "POST",
        json: { key: item.key, decision, note },
      });
      const verb = decision === "confirm" ? "rejected" : "cleared";
      say(message, `Case ${item.key}: ${result.votes} vote(s) ${verb}.`, "ok");
      form.closest("li").remove();
      cases.removed();
      if (!$("#cases").children.length) say($("#status"), `No open cases in ${contest.title}.`);
    } catch (error) {
      say(message, explain(error), "error");
      for (const button of form.querySelectorAll("button")) button.disabled = false;
    }
  });
  return form;
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
  return h(
    "li",
    { class: "case panel", dataset: { key: item.key } },
    h("h3", {}, h("code", {}, item.key), " ", h("span", { class: "badge" }, label(item.kind))),
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

function showCases(items, shown) {
  $("#cases").append(...items.map(caseItem));
  $("#cases-section").hidden = false;
  say($("#status"), shown ? `${shown} case(s) shown for ${contest.title}.` : `No open cases in ${contest.title}.`);
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
    await cases.reset();
  };
  picker.addEventListener("submit", (event) => {
    event.preventDefault();
    show();
  });
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
