// Small DOM helpers. Text always goes in through text nodes, never innerHTML: song titles, notes and
// evidence come from users.

/** h("a", {href: "/"}, "Home", child...) — attributes, `on*` handlers, then children (strings or nodes). */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, "");
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's content. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** An ISO timestamp in the reader's own time zone, inside a <time> element. */
export function when(iso) {
  if (!iso) return "—";
  return h("time", { datetime: iso }, dateTime.format(new Date(iso)));
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const total = Math.round(seconds);
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

export function bytes(count) {
  if (count >= 1024 * 1024) return `${(count / 1024 / 1024).toFixed(1)} MB`;
  if (count >= 1024) return `${Math.round(count / 1024)} kB`;
  return `${count} bytes`;
}

/**
 * Show a message in a live region (role="status" or role="alert" in the page): screen readers read it out.
 * kind: "info" | "ok" | "error". `extra` nodes (e.g. a log-in link) follow the text.
 */
export function say(region, text, kind = "info", ...extra) {
  region.dataset.kind = kind;
  fill(region, text, extra.length ? " " : "", ...extra);
}

/** Words for the API's phases and statuses. */
export function label(value) {
  return String(value || "").replaceAll("_", " ");
}
