// Moderators: the songs waiting for a decision (pending review by default), oldest first.
import { allPages, api } from "./api.js";
import { $, fill, h, label, say, when } from "./dom.js";
import { allowed, initPage } from "./layout.js";
import { explain } from "./messages.js";
import { pager } from "./pager.js";

async function main() {
  const user = await initPage();
  if (!allowed(user, ["moderator", "admin"], { who: "a moderator" })) return;
  const status = $("#status");
  const form = $("#queue-filter");
  let contests = new Map();
  try {
    const list = await allPages("/api/contests/", { max: 500 });
    contests = new Map(list.map((contest) => [contest.id, contest]));
    form.elements.contest.append(...list.map((contest) => h("option", { value: contest.id }, contest.title)));
  } catch (error) {
    say(status, explain(error), "error");
  }
  const params = new URLSearchParams(location.search);
  if (params.get("contest")) form.elements.contest.value = params.get("contest");
  if (params.get("status")) form.elements.status.value = params.get("status");
  form.hidden = false;
  const query = () => {
    const values = new URLSearchParams({ status: form.elements.status.value });
    if (form.elements.contest.value) values.set("contest_id", form.elements.contest.value);
    return values;
  };
  const songs = pager({
    button: $("#more-songs"),
    pageSize: 50,
    load: async (offset, limit) => {
      const values = query();
      values.set("limit", limit);
      values.set("offset", offset);
      return (await api(`/api/moderation/songs/?${values}`)).items;
    },
    show: (items, shown) => {
      $("#queue tbody").append(
        ...items.map((song) => {
          const contest = contests.get(song.contest_id);
          return h(
            "tr",
            { dataset: { songId: song.id, status: song.status } },
            h("td", {}, song.title, h("span", { class: "meta" }, ` by ${song.artist_name}`)),
            h("td", {}, contest ? contest.title : `#${song.contest_id}`),
            h("td", {}, when(song.created_at)),
            h("td", {}, h("span", { class: `badge status-${song.status}` }, label(song.status)), " ", song.status_reason || ""),
            h("td", {}, h("a", { class: "button", href: `/moderation/songs/${song.id}`, "aria-label": `Review ${song.title}` }, "Review")),
          );
        }),
      );
      $("#queue").hidden = shown === 0;
      say(status, shown ? `${shown} song(s) ${label(form.elements.status.value)}.` : `No song is ${label(form.elements.status.value)}.`);
    },
    onError: (error) => say(status, explain(error), "error"),
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = query();
    values.delete("contest_id");
    if (form.elements.contest.value) values.set("contest", form.elements.contest.value);
    history.replaceState(null, "", `/moderation/songs?${values}`);
    fill($("#queue tbody"));
    songs.reset();
  });
  await songs.more();
}

main();
