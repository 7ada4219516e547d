/* Page state, routing and alerts. The interview id lives in the URL (?interview=ID, plus
 * &view=report; ?view=history for past interviews), so a reload shows the same thing again. */

import { ApiError } from "./api.js";
import { $ } from "./dom.js";

export const state = {
  banks: null, // list from GET /v1/banks
  bankDetails: new Map(), // id -> bank with questions
  llm: { enabled: false, model: null },
  maxChars: null,
  interviewId: null,
  interview: null,
  current: null, // question on screen (a follow-up too)
  asked: new Map(), // id -> question, as served (for a retry's turn)
  currentNumber: 0,
  total: 0,
  pending: false,
  idempotency: null, // {questionId, answer, key}: reused when resending the same answer
  skipKey: null,
  retryOf: null, // the question a practice retry answers again, while one is open
  reportCache: null,
};

// ---------------------------------------------------------------------------------------
// Alerts

export function showError(err, where) {
  const title = err instanceof ApiError ? err.title : "Something went wrong";
  const detail = err instanceof ApiError ? err.detail : String((err && err.message) || err);
  if (where) {
    where.textContent = detail ? `${title}: ${detail}` : title;
    where.hidden = false;
    return;
  }
  $("alert-title").textContent = title;
  $("alert-detail").textContent = detail || "";
  $("alert").hidden = false;
}

export function clearError() {
  $("alert").hidden = true;
  $("start-error").hidden = true;
}

// ---------------------------------------------------------------------------------------
// Routing

const VIEWS = ["start", "chat", "report", "history"];
const TITLES = { start: "Viva — mock interview", chat: "Interview — Viva", report: "Report — Viva", history: "Past interviews — Viva" };

export function readRoute() {
  const q = new URLSearchParams(window.location.search);
  let id = q.get("interview");
  let view = q.get("view");
  const m = /^#\/interview\/([^/]+)(\/report)?$/.exec(window.location.hash);
  if (!id && m) {
    id = decodeURIComponent(m[1]);
    if (m[2]) view = "report";
  }
  if (!id) return { id: null, view: view === "history" ? "history" : "start" };
  return { id, view: view === "report" ? "report" : "chat" };
}

export function routeUrl(id, view) {
  if (view === "history") return "/?view=history";
  if (!id) return "/";
  const q = new URLSearchParams({ interview: id });
  if (view === "report") q.set("view", "report");
  return `/?${q.toString()}`;
}

export function navigate(id, view, replace) {
  const url = routeUrl(id, view);
  if (url === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState({}, "", url);
  else window.history.pushState({}, "", url);
}

export function showView(name, focusHeading) {
  for (const v of VIEWS) $(`view-${v}`).hidden = v !== name;
  document.body.dataset.view = name;
  document.title = TITLES[name];
  if (focusHeading) {
    const heading = $(`${name}-heading`);
    if (heading) heading.focus({ preventScroll: false });
  }
}

// ---------------------------------------------------------------------------------------
// Small shared behaviours

/** The interview to offer to resume on the start screen. */
export function remember(id) {
  try {
    if (id) localStorage.setItem("viva:last-interview", id);
    else localStorage.removeItem("viva:last-interview");
  } catch (err) {
    /* storage disabled: resuming still works from the URL */
  }
}

export function setPending(on, button, label) {
  state.pending = on;
  if (!button) return;
  if (on) {
    button.dataset.label = button.textContent;
    button.dataset.pendingLabel = label || "Working…";
    button.textContent = button.dataset.pendingLabel;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  } else {
    // Unless the view relabelled it meanwhile ("Skip the follow-up" -> "Skip question").
    if (button.dataset.label && button.textContent === button.dataset.pendingLabel) button.textContent = button.dataset.label;
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}
