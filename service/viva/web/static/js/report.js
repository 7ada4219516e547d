/* Report view: the overall score, scores by topic, advice per topic, misconceptions explained,
 * what to study next (with links), and question by question with retries and follow-ups.
 * Printing it (the print layout in app.css) is the PDF export. */

import { api, ApiError, authToken } from "./api.js";
import { bankTitle, loadBanks, topicName } from "./banks.js";
import { ring, topicChart } from "./chart.js";
import { $, h, LABEL_TEXT, pct, plural, uid } from "./dom.js";
import { formatDuration, gradeCard, scoreBadge } from "./grade.js";
import { showError, showView, state } from "./state.js";

export async function openReport(id) {
  showView("report", false);
  const body = $("report-body");
  body.replaceChildren(h("p", { class: "muted", text: "Loading the report…" }));
  const base = `/v1/interviews/${encodeURIComponent(id)}/report`;
  $("download-json").href = base;
  $("download-json").setAttribute("download", `viva-report-${id}.json`);
  $("download-md").href = `${base}?format=md`;
  $("download-md").setAttribute("download", `viva-report-${id}.md`);
  let report;
  try {
    report = await api("GET", base);
  } catch (err) {
    body.replaceChildren(h("p", { class: "form__error", text: `The report could not be loaded: ${err.detail || err.title}` }));
    showError(err);
    $("report-heading").focus();
    return;
  }
  state.reportCache = report;
  if (!state.banks) await loadBanks().catch(() => null);
  $("report-bank").textContent = bankTitle(report.bank_id) + (report.bank_version ? ` · v${report.bank_version}` : "");
  const qs = report.questions || [];
  const answered = qs.filter((q) => q.status === "answered").length;
  const mode = report.mode === "practice" ? "Practice" : report.mode === "exam" ? "Exam" : null;
  $("report-meta").textContent = [report.candidate, mode, `${answered} of ${plural(qs.length, "question")} answered`].filter(Boolean).join(" · ");
  body.replaceChildren(...renderReport(report));
  drawChart();
  $("report-heading").focus();
}

const named = (r, t) => Object.assign({}, t, { name: topicName(t.topic, r.bank_id, t.name) });

function renderReport(r) {
  const topics = (r.topics || []).map((t) => named(r, t));
  const first = studyItems(r)[0];
  const overall = h(
    "section",
    { class: "card overview", "aria-labelledby": "overall-heading" },
    h(
      "div",
      { class: "overview__score" },
      h("h2", { id: "overall-heading", class: "visually-hidden", text: "Overall score" }),
      ring(r.overall, r.label),
      h("p", { class: "overview__caption" }, h("span", { class: "muted", text: "Overall" }), h("strong", { text: LABEL_TEXT[r.label] || "Needs work" })),
    ),
    h(
      "div",
      { class: "overview__chart" },
      h("h2", { class: "section-title", id: "topics-heading", text: "By topic" }),
      h("div", { id: "topic-chart" }),
      first ? h("p", { class: "overview__next", dataset: { testid: "study-first" } }, h("strong", { text: "Start with: " }), first.text) : null,
    ),
  );
  const numbers = new Map((r.questions || []).map((q, i) => [q.question_id, i + 1]));
  const advice = topics.some((t) => t.verdict) ? topicAdvice(topics) : null;
  const lists = h(
    "section",
    { class: "lists", "aria-label": advice ? "Misconceptions and what to study next" : "Strengths, gaps and what to study next" },
    advice ? null : listCard("Strengths", r.strengths, "strengths", "Nothing stood out as strong yet.", numbers),
    advice ? null : listCard("Gaps", r.gaps, "gaps", "No gaps — every point was covered.", numbers),
    Array.isArray(r.misconceptions) && r.misconceptions.length ? misconceptionsCard(r.misconceptions, numbers) : null,
    studyCard(r, numbers),
  );
  const questions = h(
    "section",
    { class: "questions", "aria-labelledby": "questions-heading" },
    h("h2", { class: "section-title", id: "questions-heading", text: "Question by question" }),
    ...(r.questions || []).map((q, i) => questionReport(r, q, i + 1)),
  );
  return [overall, advice, lists, questions].filter(Boolean);
}

/** The chart is drawn at its container's width, so its text stays at its CSS size. */
export function drawChart() {
  const box = $("topic-chart");
  if (!box || !state.reportCache) return;
  const width = Math.round(box.clientWidth) || 420;
  if (box.dataset.width === String(width)) return;
  box.dataset.width = String(width);
  const r = state.reportCache;
  box.replaceChildren(topicChart((r.topics || []).map((t) => named(r, t)), Math.max(240, width), r.scale || {}));
}

// ---------------------------------------------------------------------------------------
// Advice

function topicAdvice(topics) {
  return h(
    "section",
    { class: "advice", "aria-labelledby": "advice-heading" },
    h("h2", { class: "section-title", id: "advice-heading", text: "What to take away" }),
    h(
      "div",
      { class: "advice__grid" },
      ...topics.map((t) =>
        h(
          "article",
          { class: "card advice__topic", dataset: { testid: "topic-advice", topic: t.topic } },
          h("h3", { class: "advice__name" }, t.name, " ", h("span", { class: "muted", text: pct(t.score) })),
          t.verdict ? h("p", { class: "advice__verdict", text: t.verdict }) : null,
          t.did_well && t.did_well.length
            ? h("div", {}, h("h4", { text: "Done well" }), h("ul", { class: "quotes" }, ...t.did_well.map((q) => h("li", {}, h("q", { text: unquote(q) })))))
            : null,
          t.study && t.study.length ? h("div", {}, h("h4", { text: "To study" }), h("ul", {}, ...t.study.map((s) => h("li", { text: s })))) : null,
        ),
      ),
    ),
  );
}

/** The API may quote the candidate's words itself; <q> adds the quotation marks here. */
const unquote = (s) => String(s).replace(/^["“”']+|["“”']+$/g, "");

function misconceptionsCard(items, numbers) {
  const id = uid("list");
  return h(
    "div",
    { class: "card list-card list-card--gaps", role: "region", "aria-labelledby": id, dataset: { testid: "misconceptions" } },
    h("h2", { class: "section-title", id, text: "Misconceptions" }),
    h(
      "ul",
      {},
      ...items.map((m) =>
        h(
          "li",
          {},
          numbers.has(m.question_id) ? [h("span", { class: "qtag", title: m.question_id, text: `Q${numbers.get(m.question_id)}` }), " "] : null,
          "You said ",
          h("q", { text: unquote(m.said) }),
          "; in fact ",
          m.in_fact,
        ),
      ),
    ),
  );
}

/** Study-next items as {text, question_id, learn}; older reports give plain strings. */
function studyItems(r) {
  return (r.study_next || []).map((s) => (typeof s === "string" ? { text: s, question_id: null, learn: [] } : s));
}

function studyCard(r, numbers) {
  const items = studyItems(r);
  if (items.every((s) => !s.question_id && !(s.learn || []).length)) {
    return listCard("Study next", items.map((s) => s.text), "study", "Nothing to add: keep practising.", numbers);
  }
  const id = uid("list");
  return h(
    "div",
    { class: "card list-card list-card--study", role: "region", "aria-labelledby": id, dataset: { testid: "study-next" } },
    h("h2", { class: "section-title", id }, "Study next", h("span", { class: "count", text: ` ${items.length}` })),
    h(
      "ol",
      { class: "study" },
      ...items.map((s) =>
        h(
          "li",
          {},
          numbers.has(s.question_id) ? [h("span", { class: "qtag", title: s.question_id, text: `Q${numbers.get(s.question_id)}` }), " "] : null,
          s.text,
          (s.learn || []).length ? h("ul", { class: "learn" }, ...s.learn.map((u) => h("li", {}, h("a", { href: u, rel: "noopener noreferrer", text: linkText(u) })))) : null,
        ),
      ),
    ),
  );
}

/** "keras.io/guides/…" rather than the whole address. */
function linkText(url) {
  try {
    const u = new URL(url);
    const path = u.pathname.replace(/\/$/, "");
    return u.host + (path.length > 40 ? `${path.slice(0, 38)}…` : path);
  } catch (err) {
    return String(url);
  }
}

/** Report lines start "question-id: …"; show that as a short "Q2" tag instead. */
function listItem(text, numbers) {
  const m = /^([^:\s]+): (.*)$/s.exec(String(text));
  if (m && numbers.has(m[1])) {
    return h("li", {}, h("span", { class: "qtag", title: m[1], text: `Q${numbers.get(m[1])}` }), " ", m[2]);
  }
  // Study-next lines: "topic (40%): what to review".
  const t = /^(.+?) \((\d+%)\): (.*)$/s.exec(String(text));
  if (t) return h("li", {}, h("strong", { text: t[1] }), ` (${t[2]}): `, t[3]);
  return h("li", { text });
}

const LIST_SHOWN = 5;

function listCard(title, items, cls, empty, numbers) {
  const id = uid("list");
  const listId = uid("items");
  items = items || [];
  const card = h(
    "div",
    { class: `card list-card list-card--${cls}`, "aria-labelledby": id, role: "region" },
    h("h2", { class: "section-title", id }, title, items.length ? h("span", { class: "count", text: ` ${items.length}` }) : null),
    items.length
      ? h("ul", { id: listId }, ...items.map((t, i) => {
          const li = listItem(t, numbers);
          if (i >= LIST_SHOWN) li.classList.add("extra");
          return li;
        }))
      : h("p", { class: "muted", text: empty }),
  );
  // Long lists start collapsed on screen (print shows everything).
  if (items.length > LIST_SHOWN + 1) {
    card.classList.add("collapsed");
    const more = items.length - LIST_SHOWN;
    const btn = h("button", {
      type: "button",
      class: "btn btn--ghost btn--small list-card__toggle no-print",
      "aria-expanded": "false",
      "aria-controls": listId,
      text: `Show ${more} more`,
      onclick: () => {
        const open = card.classList.toggle("collapsed") === false;
        btn.setAttribute("aria-expanded", String(open));
        btn.textContent = open ? "Show fewer" : `Show ${more} more`;
      },
    });
    card.append(btn);
  }
  return card;
}

const STATUS_TEXT = { answered: "Answered", skipped: "Skipped", unanswered: "Not reached", error: "Error" };

function questionReport(r, q, n) {
  const topic = q.topic ? topicName(q.topic, r.bank_id, q.topic_name) : null;
  const time = typeof q.time_taken_s === "number" ? `${formatDuration(q.time_taken_s)}${q.over_time ? ", over the time limit" : ""}` : null;
  const head = h(
    "header",
    { class: "qr__head" },
    h("p", { class: "msg__meta", text: [`Q${n}`, topic, q.difficulty, STATUS_TEXT[q.status] || q.status, time].filter(Boolean).join(" · ") }),
    h("h3", { class: "qr__prompt", text: q.prompt }),
  );
  const art = h("article", { class: `card qr qr--${q.status}`, dataset: { testid: "question-report", questionId: q.question_id } }, head);
  const attempts = Array.isArray(q.attempts) ? q.attempts.filter(Boolean) : [];
  if (attempts.length > 1) art.append(attemptsLine(attempts));
  if (q.grade) {
    art.append(gradeCard(q.grade, { answer: q.answer || "", reference: q.reference_answer, title: attempts.length > 1 ? "Grade (better try)" : "Grade", level: 4 }));
  } else {
    art.append(
      h(
        "div",
        { class: "grade grade--none", dataset: { testid: "grade-card" } },
        h("header", { class: "grade__head" }, scoreBadge(0, "needs work", "grade-score"), h("div", { class: "grade__summary" }, h("p", { class: "muted", text: q.error ? `Not graded: ${q.error}` : `${STATUS_TEXT[q.status] || "Not answered"} — counts as 0.` }))),
        q.reference_answer ? h("div", { class: "grade__section reference" }, h("h4", { class: "grade__h", text: "Model answer" }), h("p", { text: q.reference_answer })) : null,
      ),
    );
  }
  if (q.follow_up) art.append(followUpBlock(q.follow_up, q.grade));
  return art;
}

/** Practice: every try's score and the improvement. */
function attemptsLine(attempts) {
  const scores = attempts.map((a) => Number(a.grade ? a.grade.score : a.score) || 0);
  const gain = scores[scores.length - 1] - scores[0];
  const tries = scores.map((s, i) => `try ${i + 1}: ${pct(s)}`).join(", ");
  const change = gain > 0 ? `up ${pct(gain)}` : gain < 0 ? `down ${pct(-gain)}; the better try counts` : "no change";
  return h("p", { class: "qr__attempts", dataset: { testid: "attempts" }, text: `${plural(attempts.length, "try", "tries")}, ${tries} (${change}).` });
}

function followUpBlock(f, grade) {
  const texts = new Map(((grade && grade.points) || []).map((p) => [p.id, p.text]));
  const earned = (f.earned || []).map((id) => texts.get(id) || id);
  return h(
    "div",
    { class: "qr__followup", dataset: { testid: "report-follow-up" } },
    h("h4", { text: "Follow-up" }),
    h("p", { class: "qr__followup-prompt", text: f.prompt || "" }),
    f.answer ? h("p", { class: "qr__followup-answer" }, h("strong", { text: "You said: " }), f.answer) : h("p", { class: "muted", text: f.status === "unanswered" ? "Not answered." : "Skipped." }),
    f.grade ? h("p", { class: "muted", text: `Follow-up score ${pct(f.grade.score)}` }) : null,
    earned.length ? h("p", {}, h("strong", { text: "Earned from the follow-up: " }), earned.join("; ")) : null,
  );
}

// Report downloads. A plain link cannot send `Authorization`, so with accounts on it would
// get a 401: the click fetches the file with the credential and saves it from a blob URL.
export async function onDownload(ev) {
  const link = ev.currentTarget;
  const path = link.getAttribute("href");
  if (!path || path === "#") return;
  ev.preventDefault();
  const token = authToken();
  let res;
  try {
    res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    showError(new ApiError(0, "Can't reach the Viva service", "Check that the server is running, then try again."));
    return;
  }
  if (!res.ok) {
    let detail = res.statusText || "";
    try {
      const data = await res.json();
      if (data && typeof data.detail === "string") detail = data.detail;
    } catch (err) {
      /* not a problem body */
    }
    showError(new ApiError(res.status, `The download failed (${res.status})`, detail));
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const save = h("a", { href: url, download: link.getAttribute("download") || "viva-report" });
  save.hidden = true;
  document.body.append(save);
  save.click();
  save.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60000);
}
