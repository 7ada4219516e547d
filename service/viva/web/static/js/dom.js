/* Small DOM helpers shared by every view. All text goes in through text nodes, never as markup. */

export const $ = (id) => document.getElementById(id);
const SVG_NS = "http://www.w3.org/2000/svg";

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Create an element. `props.text` sets textContent; `on*` adds listeners; the rest are attributes. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  return append(el, children);
}

export function svg(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  return append(el, children);
}

function setProps(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") el.textContent = String(v);
    else if (k === "class") el.setAttribute("class", v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export const pct = (x) => `${Math.round((Number(x) || 0) * 100)}%`;

/** "1 question", "2 questions". */
export const plural = (n, word, many) => `${n} ${n === 1 ? word : many || `${word}s`}`;

// Labels and where they change come from the API (core/scoring.py); the page never
// re-derives them, it only colours them.
const LABEL_BAND = { strong: "good", partial: "fair", "needs work": "poor" };
export const band = (label) => LABEL_BAND[label] || "poor";
export const LABEL_TEXT = { strong: "Strong", partial: "Partial", "needs work": "Needs work" };
// The API decides what counts as covered (core/scoring.py); a point's colour follows that call,
// so a covered point is never drawn in a "partial" colour.
export const isCovered = (p) => p.covered === true;
export const pointBand = (p) => (isCovered(p) ? "good" : Number(p.coverage) > 0 ? "fair" : "poor");

let idCounter = 0;
export const uid = (prefix) => `${prefix}-${++idCounter}`;

export function newKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
