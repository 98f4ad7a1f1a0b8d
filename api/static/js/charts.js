// Two small SVG charts for the leaderboard: votes per song (bars) and rank over time (lines). Written here
// rather than taken from a chart library: the pages have no build step and load only this site's files,
// both charts are a few dozen lines, and each has the board's table beside it for screen readers.
const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f5fbf", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#475569"];

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

export const colour = (index) => PALETTE[index % PALETTE.length];

/** Horizontal bars: [{label, value}] -> <svg>. */
export function barChart(rows, { width = 380, barHeight = 20, labelWidth = 130 } = {}) {
  const max = Math.max(1, ...rows.map((row) => row.value));
  const height = rows.length * (barHeight + 6) + 4;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  chart.append(svg("title", {}, "Votes per song"));
  const room = width - labelWidth - 50;
  rows.forEach((row, index) => {
    const y = index * (barHeight + 6) + 2;
    const length = Math.max(1, Math.round((row.value / max) * room));
    const label = row.label.length > 18 ? `${row.label.slice(0, 17)}…` : row.label;
    chart.append(
      svg("text", { x: labelWidth - 8, y: y + barHeight * 0.7, "text-anchor": "end", class: "chart-label" }, label),
      svg("rect", { x: labelWidth, y, width: length, height: barHeight, rx: 3, fill: colour(index) }),
      svg("text", { x: labelWidth + length + 6, y: y + barHeight * 0.7, class: "chart-value" }, row.value),
    );
  });
  return chart;
}

/**
 * Rank over time: points [{at: Date, ranks: Map(songId -> rank)}], names Map(songId -> title) -> <svg>.
 * Rank 1 at the top; one line per song.
 */
export function rankChart(points, names, { width = 380, height = 220 } = {}) {
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  chart.append(svg("title", {}, "Rank of the top songs over time"));
  const left = 34;
  const right = 10;
  const top = 10;
  const bottom = 26;
  const worst = Math.max(2, ...points.flatMap((point) => [...point.ranks.values()]));
  const first = points[0].at.getTime();
  const span = Math.max(1, points[points.length - 1].at.getTime() - first);
  const x = (at) => left + ((at.getTime() - first) / span) * (width - left - right);
  const y = (rank) => top + ((rank - 1) / (worst - 1)) * (height - top - bottom);
  for (let rank = 1; rank <= worst; rank += Math.max(1, Math.ceil(worst / 6))) {
    chart.append(
      svg("line", { x1: left, x2: width - right, y1: y(rank), y2: y(rank), class: "chart-grid" }),
      svg("text", { x: left - 6, y: y(rank) + 4, "text-anchor": "end", class: "chart-value" }, `#${rank}`),
    );
  }
  const time = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "short" });
  chart.append(
    svg("text", { x: left, y: height - 6, class: "chart-value" }, time.format(points[0].at)),
    svg("text", { x: width - right, y: height - 6, "text-anchor": "end", class: "chart-value" }, time.format(points[points.length - 1].at)),
  );
  [...names.keys()].forEach((songId, index) => {
    const path = points
      .filter((point) => point.ranks.has(songId))
      .map((point, step) => `${step ? "L" : "M"}${x(point.at).toFixed(1)},${y(point.ranks.get(songId)).toFixed(1)}`)
      .join(" ");
    if (!path) return;
    const line = svg("path", { d: path, fill: "none", stroke: colour(index), "stroke-width": 2.5 });
    line.append(svg("title", {}, names.get(songId)));
    chart.append(line);
  });
  return chart;
}
