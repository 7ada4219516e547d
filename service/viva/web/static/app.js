/* Viva web page: a chat-style mock interview, its report, and past interviews.
 *
 * Plain JavaScript modules, no dependencies, no build step. It talks only to Viva's REST API on
 * the same origin. All text from the API or the candidate goes into the page through
 * textContent / text nodes; nothing is ever parsed as HTML markup. One module per view:
 *   js/start.js    start screen          js/chat.js      the conversation
 *   js/composer.js the answer box        js/grade.js     grade card and evidence highlights
 *   js/report.js   report (and print)    js/history.js   past interviews and progress
 * with js/api.js, js/state.js, js/banks.js, js/chart.js and js/dom.js shared by them.
 */

import { ApiError } from "./js/api.js";
import { loadBanks, loadConfig } from "./js/banks.js";
import { openInterview } from "./js/chat.js";
import { onAnswerKey, onNext, onRetry, onSend, onSkip, updateCharCount } from "./js/composer.js";
import { $ } from "./js/dom.js";
import { openHistory } from "./js/history.js";
import { drawChart, onDownload, openReport } from "./js/report.js";
import { onStart, renderStart } from "./js/start.js";
import { clearError, navigate, readRoute, remember, showError, state } from "./js/state.js";

async function route() {
  clearError();
  const { id, view } = readRoute();
  try {
    if (view === "history") {
      await openHistory();
      return;
    }
    if (!id) {
      await renderStart();
      return;
    }
    state.interviewId = id;
    if (view === "report") {
      await openReport(id);
      return;
    }
    await openInterview(id);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      remember(null);
      navigate(null, "start", true);
      await renderStart();
      showError(new ApiError(404, "Interview not found", err.detail || "That link points to an interview this server doesn't know. Start a new one below."));
      return;
    }
    showError(err);
  }
}

/** In-page links (history rows, the header's "Past interviews") route without a reload. */
function onLinkClick(ev) {
  const a = ev.target instanceof Element ? ev.target.closest("a[href^='/']") : null;
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || a.hasAttribute("download")) return;
  const url = new URL(a.href, window.location.href);
  if (url.pathname !== "/") return;
  ev.preventDefault();
  window.history.pushState({}, "", url.pathname + url.search);
  route();
}

/** The sticky answer box's height, so messages scroll into view above it, never behind it. */
function trackComposerHeight() {
  const composer = $("composer");
  const set = () => document.documentElement.style.setProperty("--composer-h", `${composer.hidden ? 0 : composer.offsetHeight}px`);
  if (window.ResizeObserver) new ResizeObserver(set).observe(composer);
  set();
}

function init() {
  $("start-form").addEventListener("submit", onStart);
  $("composer").addEventListener("submit", onSend);
  $("answer").addEventListener("keydown", onAnswerKey);
  $("answer").addEventListener("input", updateCharCount);
  $("skip-button").addEventListener("click", onSkip);
  $("retry-button").addEventListener("click", onRetry);
  $("retry-instead").addEventListener("click", onRetry);
  $("next-question").addEventListener("click", onNext);
  $("alert-close").addEventListener("click", () => {
    $("alert").hidden = true;
  });
  $("open-report").addEventListener("click", () => {
    navigate(state.interviewId, "report");
    openReport(state.interviewId);
  });
  $("back-to-chat").addEventListener("click", () => {
    navigate(state.interviewId, "chat");
    route();
  });
  $("print-report").addEventListener("click", () => window.print());
  $("download-json").addEventListener("click", onDownload);
  $("download-md").addEventListener("click", onDownload);
  document.addEventListener("click", onLinkClick);
  window.addEventListener("popstate", route);
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(drawChart, 150);
  });
  window.addEventListener("unhandledrejection", (ev) => showError(ev.reason));
  trackComposerHeight();
  loadConfig()
    .then(() => {
      updateCharCount();
      return loadBanks().catch(() => null);
    })
    .then(route);
}

// Module scripts run after the document is parsed.
init();
