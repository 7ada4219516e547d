/* History view: the caller's past interviews (newest first, paged) and, for one bank, each
 * topic's score over time across completed interviews. */

import { api } from "./api.js";
import { bankTitle, loadBanks, topicName } from "./banks.js";
import { progressChart, shortDate } from "./chart.js";
import { $, h, pct, plural } from "./dom.js";
import { routeUrl, showError, showView, state } from "./state.js";

const STATUS = { completed: "Completed", in_progress: "In progress" };

export async function openHistory() {
  showView("history", false);
  if (!state.banks) await loadBanks().catch(() => null);
  const list = $("history-list");
  list.replaceChildren(h("p", { class: "muted", text: "Loading your interviews…" }));
  $("progress-section").hidden = true;
  $("history-more").hidden = true;
  state.history = [];
  try {
    await loadPage(null);
  } catch (err) {
    list.replaceChildren(h("p", { class: "form__error", text: `Past interviews could not be loaded: ${err.detail || err.title}` }));
    showError(err);
  }
  $("history-heading").focus();
}

async function loadPage(cursor) {
  const q = new URLSearchParams({ limit: "20" });
  if (cursor) q.set("cursor", cursor);
  const page = await api("GET", `/v1/interviews?${q.toString()}`);
  state.history = state.history.concat((page && page.items) || []);
  renderList(state.history);
  const more = $("history-more");
  more.hidden = !(page && page.next_cursor);
  more.onclick = page && page.next_cursor ? () => loadPage(page.next_cursor).catch(showError) : null;
  if (!cursor) await renderProgressPicker(state.history);
}

function renderList(items) {
  const list = $("history-list");
  if (!items.length) {
    list.replaceChildren(h("p", { class: "muted", dataset: { testid: "history-empty" }, text: "No interviews yet. Start one and it will be listed here." }));
    return;
  }
  list.replaceChildren(
    h(
      "table",
      { class: "history-table" },
      h("caption", { class: "visually-hidden", text: "Past interviews, newest first" }),
      h("thead", {}, h("tr", {}, ...["Date", "Bank", "Mode", "Answered", "Score", ""].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, ...items.map(row)),
    ),
  );
}

function row(it) {
  const done = it.status === "completed";
  const href = routeUrl(it.id, done ? "report" : "chat");
  const score = typeof it.overall === "number" && done ? pct(it.overall) : "—";
  return h(
    "tr",
    { dataset: { testid: "history-row", interviewId: it.id } },
    h("td", { text: shortDate(it.created_at, true) }),
    h("td", { text: it.bank_title || bankTitle(it.bank_id) }),
    h("td", { text: it.mode === "practice" ? "Practice" : "Exam" }),
    h("td", { text: `${it.answered ?? 0} of ${plural(it.total ?? 0, "question")}` }),
    h("td", { class: "history-table__score", text: score }),
    h("td", {}, h("a", { href, text: done ? "Report" : "Resume", "aria-label": `${done ? "Report" : "Resume"}: ${it.bank_title || it.bank_id}, ${shortDate(it.created_at)}` }), " ", h("span", { class: "muted", text: STATUS[it.status] || it.status })),
  );
}

async function renderProgressPicker(items) {
  const banks = [...new Set(items.filter((i) => i.status === "completed").map((i) => i.bank_id))];
  const section = $("progress-section");
  if (!banks.length) return;
  section.hidden = false;
  const select = $("progress-bank");
  select.replaceChildren(...banks.map((b) => h("option", { value: b, text: bankTitle(b) })));
  select.onchange = () => renderProgress(select.value).catch(showError);
  await renderProgress(banks[0]);
}

async function renderProgress(bankId) {
  const data = await api("GET", `/v1/progress?bank_id=${encodeURIComponent(bankId)}`);
  const box = $("progress-charts");
  const topics = (data && data.topics) || [];
  if (!topics.length) {
    box.replaceChildren(h("p", { class: "muted", text: "No completed interviews on this bank yet." }));
    return;
  }
  const figures = topics.map((t) => {
    const name = topicName(t.topic, bankId, t.name);
    const last = [...(t.points || [])].sort((a, b) => String(a.at).localeCompare(String(b.at))).pop();
    const plot = h("div", { class: "progress-topic__plot" });
    const fig = h(
      "figure",
      { class: "card progress-topic", dataset: { testid: "progress-topic", topic: t.topic } },
      h("figcaption", {}, h("h3", { class: "progress-topic__name", text: name }), last ? h("span", { class: "muted", text: ` latest ${pct(last.score)}` }) : null),
      plot,
    );
    return { fig, plot, topic: Object.assign({}, t, { name }) };
  });
  box.replaceChildren(...figures.map((f) => f.fig));
  // Drawn at each card's own width, so the chart's text stays at its CSS size.
  for (const f of figures) f.plot.replaceChildren(progressChart(f.topic, Math.round(f.plot.clientWidth) || 260));
}
