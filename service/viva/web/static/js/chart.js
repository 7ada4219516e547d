/* SVG charts: the overall score ring, scores by topic (with labelled guide lines at the
 * "partial" and "strong" thresholds), and per-topic progress over time for the history view. */

import { append, band, h, pct, svg } from "./dom.js";

export function ring(score, label) {
  const r = 52;
  const c = 2 * Math.PI * r;
  const v = Math.max(0, Math.min(1, Number(score) || 0));
  const arc = svg("circle", { cx: 60, cy: 60, r, class: `ring__arc ring__arc--${band(label)}`, "stroke-dasharray": `${(c * v).toFixed(2)} ${c.toFixed(2)}`, transform: "rotate(-90 60 60)" });
  return h(
    "div",
    { class: "ring", dataset: { testid: "overall-score", score: String(score) } },
    svg("svg", { viewBox: "0 0 120 120", width: 140, height: 140, "aria-hidden": "true", focusable: "false" }, svg("circle", { cx: 60, cy: 60, r, class: "ring__track" }), arc),
    h("span", { class: "ring__value", text: pct(v) }),
  );
}

/** The guide lines' thresholds and names, from the report's scale. */
function guides(scale) {
  return [
    [scale.passing, "partial"],
    [scale.strong, "strong"],
  ].filter(([x]) => typeof x === "number");
}

/** Topics as [{topic, name, score, label, answered, total}], drawn `width` pixels wide. */
export function topicChart(topics, width, scale) {
  if (!topics.length) return h("p", { class: "muted", text: "No topics." });
  const W = width;
  const top = 18; // room for the guide labels
  const labelH = 18;
  const barH = 14;
  const rowH = labelH + barH + 14;
  const H = top + topics.length * rowH + 8;
  const nameOf = (t) => t.name || t.topic;
  const summary = topics.map((t) => `${nameOf(t)}: ${pct(t.score)} (${t.answered} of ${t.total} answered)`).join("; ");
  const lines = guides(scale || {});
  const legend = lines.map(([g, name]) => `${pct(g)} is ${name}`).join(", ");
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": `Score by topic${legend ? ` (${legend})` : ""}. ${summary}`, preserveAspectRatio: "xMinYMin meet", dataset: { testid: "topic-chart" } },
    svg("title", { text: "Score by topic" }),
  );
  const barW = W - 56;
  for (const [g, name] of lines) {
    const x = barW * g;
    chart.append(
      svg("line", { x1: x, x2: x, y1: top - 2, y2: H - 8, class: "chart__guide" }),
      svg("text", { x, y: 11, class: "chart__guide-label", "text-anchor": "middle", dataset: { testid: "chart-guide" }, text: `${pct(g)} ${name}` }),
    );
  }
  topics.forEach((t, i) => {
    const y = top + i * rowH;
    const v = Math.max(0, Math.min(1, Number(t.score) || 0));
    chart.append(
      svg(
        "g",
        { class: "chart__row", dataset: { topic: t.topic, score: String(t.score), testid: "topic-row" } },
        svg("text", { x: 0, y: y + 13, class: "chart__label", text: nameOf(t) }),
        svg("text", { x: barW, y: y + 13, class: "chart__sub", "text-anchor": "end", text: `${t.answered}/${t.total} answered` }),
        svg("rect", { x: 0, y: y + labelH, width: barW, height: barH, rx: 4, class: "chart__track" }),
        svg("rect", { x: 0, y: y + labelH, width: Math.max(v * barW, v > 0 ? 3 : 0), height: barH, rx: 4, class: `chart__bar chart__bar--${band(t.label)}` }),
        svg("text", { x: W, y: y + labelH + barH - 2, class: "chart__value", "text-anchor": "end", text: pct(v) }),
      ),
    );
  });
  return chart;
}

/** Per-topic score over time: one small line chart per topic, oldest interview on the left. */
export function progressChart(topic, width) {
  const pts = (topic.points || []).slice().sort((a, b) => String(a.at).localeCompare(String(b.at)));
  const W = Math.max(180, width);
  const H = 120;
  const pad = { l: 42, r: 12, t: 10, b: 22 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const x = (i) => pad.l + (pts.length > 1 ? (iw * i) / (pts.length - 1) : iw / 2);
  const y = (s) => pad.t + ih * (1 - Math.max(0, Math.min(1, Number(s) || 0)));
  const name = topic.name || topic.topic;
  const said = pts.map((p) => `${shortDate(p.at)} ${pct(p.score)}`).join(", ");
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart progress-chart", role: "img", "aria-label": `${name} over time: ${said || "no completed interviews"}`, dataset: { testid: "progress-chart", topic: topic.topic } },
    svg("title", { text: `${name} over time` }),
  );
  for (const g of [0, 0.5, 1]) {
    chart.append(
      svg("line", { x1: pad.l, x2: W - pad.r, y1: y(g), y2: y(g), class: "chart__grid" }),
      svg("text", { x: pad.l - 6, y: y(g) + 4, class: "chart__sub", "text-anchor": "end", text: pct(g) }),
    );
  }
  if (pts.length > 1) {
    chart.append(svg("polyline", { points: pts.map((p, i) => `${x(i).toFixed(1)},${y(p.score).toFixed(1)}`).join(" "), class: "chart__line" }));
  }
  pts.forEach((p, i) => {
    append(chart, [
      svg("circle", { cx: x(i), cy: y(p.score), r: 4, class: "chart__dot", dataset: { score: String(p.score), interview: p.interview_id } }),
      // Dates under the first and the last point only, so they never overlap.
      i === 0 || i === pts.length - 1
        ? svg("text", { x: x(i), y: H - 6, class: "chart__sub", "text-anchor": pts.length > 1 ? (i === 0 ? "start" : "end") : "middle", text: shortDate(p.at) })
        : null,
    ]);
  });
  return chart;
}

export function shortDate(at, withTime) {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at || "");
  const day = d.toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return withTime ? `${day}, ${d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}` : day;
}
