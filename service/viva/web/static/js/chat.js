/* Chat view: the conversation so far, the question on screen (a follow-up is a chat turn too),
 * the per-question timer, and practice mode's "try again or move on" choice. Sending and
 * skipping live in composer.js. */

import { api } from "./api.js";
import { bankTitle, topicName } from "./banks.js";
import { $, h, plural, uid } from "./dom.js";
import { gradeCard, annotatedAnswer } from "./grade.js";
import { remember, showView, state } from "./state.js";

// ---------------------------------------------------------------------------------------
// Normalising what the API returns

export function qIndex(q, fallback) {
  // The API numbers questions from 0 (index) — accept 1-based `number` too.
  if (q && typeof q.number === "number") return q.number;
  if (q && typeof q.index === "number") return q.index + 1;
  return fallback;
}

function interviewTotal(iv) {
  if (!iv) return 0;
  if (iv.progress && typeof iv.progress.total === "number") return iv.progress.total;
  if (iv.question && typeof iv.question.total === "number") return iv.question.total;
  if (Array.isArray(iv.questions)) return iv.questions.length;
  return 0;
}

function currentQuestion(iv) {
  return iv.follow_up || iv.question || null;
}

const isFollowUpId = (id) => /~f\d+$/.test(String(id || ""));

/** Past turns as [{question, status, answer, grade, followUp, retry}] from the interview view. */
function pastTurns(iv) {
  const byId = new Map();
  for (const q of iv.questions || []) if (q && q.id) byId.set(q.id, q);
  const seen = new Set();
  return (iv.responses || []).map((a, i) => {
    const qid = a.question_id;
    const followUp = a.kind === "follow_up" || isFollowUpId(qid);
    const question = byId.get(qid) || { id: qid, prompt: a.prompt || (followUp ? "A follow-up question" : qid), topic: a.topic, difficulty: a.difficulty };
    const index = typeof a.index === "number" ? a.index : i;
    const retry = a.kind === "retry" || (!a.kind && !followUp && seen.has(qid));
    seen.add(qid);
    const status = a.status || (a.grade ? "answered" : "skipped");
    return { question: Object.assign({}, question, { id: qid, index }), status, answer: a.answer ?? "", grade: a.grade || null, followUp, retry, timeTaken: a.time_taken_s };
  });
}

// ---------------------------------------------------------------------------------------
// Opening an interview

export async function openInterview(id, created) {
  showView("chat", false);
  $("transcript").replaceChildren();
  $("finished").hidden = true;
  $("practice-choice").hidden = true;
  $("composer").hidden = false;
  state.interviewId = id;
  state.reportCache = null;
  state.retryOf = null;
  let iv;
  if (created && currentQuestion(created) && !(created.progress && created.progress.done)) {
    iv = created;
  } else {
    iv = await api("GET", `/v1/interviews/${encodeURIComponent(id)}`);
  }
  state.interview = iv;
  state.total = interviewTotal(iv);
  state.practice = iv.mode === "practice";
  state.timeLimit = Number(iv.time_limit_s) || 0;
  $("chat-mode").textContent = [state.practice ? "Practice" : "Exam", state.timeLimit ? `${formatSeconds(state.timeLimit)} per question` : null].filter(Boolean).join(" · ");
  const turns = pastTurns(iv);
  let number = 0;
  turns.forEach((t) => {
    if (!t.followUp && !t.retry) number = t.question.index + 1;
    if (t.followUp) addFollowUpMessage(t.question);
    else if (t.retry) addRetryMessage(t.question, number);
    else addQuestionMessage(t.question, number);
    if (t.status === "skipped" || !t.grade) addSkipMessage(t.followUp);
    else addAnswerWithGrade(t.answer, t.grade, t.question, { followUp: t.followUp, retry: t.retry, timeTaken: t.timeTaken });
  });
  const q = currentQuestion(iv);
  const done = iv.status === "completed" || !q;
  const heading = $("chat-heading");
  heading.textContent = bankTitle(iv.bank_id) || "Interview";
  if (done) {
    finish();
  } else {
    showQuestion(q, isFollowUpId(q.id) ? number : qIndex(q, number + 1));
  }
  heading.focus();
  if (!done) {
    // Focus moves to the answer box on the next frame so the heading is announced first.
    window.setTimeout(() => $("answer").focus({ preventScroll: true }), 0);
  }
}

function updateProgress(number, total, done) {
  state.total = total || state.total;
  const t = state.total || number;
  $("progress-label").textContent = done ? `All ${plural(t, "question")} done` : `Question ${number} of ${t}`;
  const answered = done ? t : number - 1;
  $("progress-fill").style.width = `${t ? Math.round((answered / t) * 100) : 0}%`;
}

// ---------------------------------------------------------------------------------------
// Transcript messages: a role="log" of plain blocks (not list items: a log is not a list).

function pushMessage(el) {
  $("transcript").append(el);
  return el;
}

/** Bring a message into view above the sticky answer box (its height is a CSS variable that
 * sets the messages' scroll-margin-bottom). */
export function reveal(el) {
  if (!el) return;
  // Two frames later: after the buttons below have changed and the box's height is measured.
  window.requestAnimationFrame(() => window.requestAnimationFrame(() => el.scrollIntoView({ block: "nearest", behavior: "smooth" })));
}

function interviewerMsg(meta, text, extra) {
  const id = uid("question");
  return h(
    "div",
    Object.assign({ class: "msg msg--interviewer" }, extra || {}),
    h("span", { class: "msg__who" }, h("span", { class: "avatar", "aria-hidden": "true", text: "V" }), h("span", { class: "visually-hidden", text: "Interviewer: " })),
    h("div", { class: "msg__bubble" }, h("p", { class: "msg__meta", text: meta }), h("p", { class: "msg__text", id, text })),
  );
}

function questionMeta(q, number) {
  const total = state.total || q.total;
  const bankId = state.interview && state.interview.bank_id;
  return [`Question ${number}${total ? ` of ${total}` : ""}`, q.topic ? topicName(q.topic, bankId, q.topic_name) : null, q.difficulty].filter(Boolean).join(" · ");
}

function addQuestionMessage(q, number) {
  return pushMessage(interviewerMsg(questionMeta(q, number), q.prompt || "", { dataset: { questionId: q.id || "" } }));
}

function addFollowUpMessage(q) {
  return pushMessage(interviewerMsg("Follow-up", q.prompt || "", { class: "msg msg--interviewer msg--followup", dataset: { questionId: q.id || "", followUp: "true" } }));
}

function addRetryMessage(q, number) {
  return pushMessage(interviewerMsg(`${questionMeta(q, number)} · Second try`, q.prompt || "", { class: "msg msg--interviewer msg--retry", dataset: { questionId: q.id || "", retry: "true" } }));
}

function candidateMsg(...content) {
  return h(
    "div",
    { class: "msg msg--candidate" },
    h("span", { class: "msg__who" }, h("span", { class: "visually-hidden", text: "You: " })),
    h("div", { class: "msg__bubble" }, ...content),
  );
}

export function addSkipMessage(followUp) {
  const text = followUp ? "Skipped the follow-up." : "Skipped this question.";
  pushMessage(candidateMsg(h("p", { class: `msg__text ${followUp ? "msg__text--declined" : "msg__text--skipped"}`, text })));
}

/** The candidate's answer (evidence highlighted) and its grade card, with practice extras. */
export function addAnswerWithGrade(answer, grade, question, opts) {
  opts = opts || {};
  const body = answer && answer.trim() ? annotatedAnswer(answer, grade) : h("p", { class: "msg__text msg__text--empty", text: "(empty answer)" });
  pushMessage(candidateMsg(body));
  const title = opts.followUp ? "Grade for the follow-up" : opts.retry ? "Grade for the second try" : "Grade";
  const card = gradeCard(grade, { question, title, level: 2, timeTaken: opts.timeTaken, practice: opts.practice });
  return pushMessage(h("div", { class: "msg msg--grade" }, card));
}

export function addTyping() {
  return pushMessage(
    h(
      "div",
      { class: "msg msg--interviewer msg--typing", id: "typing" },
      h("span", { class: "msg__who" }, h("span", { class: "avatar", "aria-hidden": "true", text: "V" })),
      h("div", { class: "msg__bubble" }, h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")), h("span", { class: "visually-hidden", text: "Grading your answer…" })),
    ),
  );
}

export function removeTyping() {
  const t = $("typing");
  if (t) t.remove();
}

// ---------------------------------------------------------------------------------------
// The question on screen

/** Ask a question (or a follow-up, or a practice retry) and point the answer box at it. */
export function showQuestion(q, number, how) {
  state.current = q;
  state.asked.set(q.id, q);
  const followUp = isFollowUpId(q.id) || !!q.parent_id;
  if (!followUp) state.currentNumber = number;
  const msg = how === "retry" ? addRetryMessage(q, number) : followUp ? addFollowUpMessage(q) : addQuestionMessage(q, number);
  const textId = msg.querySelector(".msg__text").id;
  $("answer").setAttribute("aria-describedby", `${textId} composer-hint`);
  $("composer-label").textContent = how === "retry" ? "Your second try" : followUp ? "Your answer to the follow-up" : "Your answer";
  $("skip-button").textContent = followUp ? "Skip the follow-up" : "Skip question";
  updateProgress(state.currentNumber || number, q.total || state.total, false);
  $("composer").hidden = false;
  $("finished").hidden = true;
  $("practice-choice").hidden = true;
  $("retry-instead").hidden = true;
  startTimer();
  reveal(msg);
  return msg;
}

export function finish() {
  state.current = null;
  stopTimer();
  updateProgress(state.total, state.total, true);
  $("composer").hidden = true;
  $("practice-choice").hidden = true;
  $("finished").hidden = false;
  reveal($("finished"));
  remember(null);
}

/** Practice: after a grade that may be retried, the candidate picks: try again or move on. */
export function offerRetry(question, number, next) {
  stopTimer();
  state.current = null;
  state.choice = { question, number, next };
  $("composer").hidden = true;
  $("practice-choice").hidden = false;
  $("next-question").textContent = next ? "Next question" : "Finish the interview";
  reveal($("practice-choice"));
  $("retry-button").focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------
// Timer: counts down the optional per-question limit (the server measures the time taken).

let timer = 0;

export function formatSeconds(s) {
  s = Math.max(0, Math.round(Number(s) || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function startTimer() {
  stopTimer();
  const box = $("timer");
  if (!state.timeLimit) {
    box.hidden = true;
    return;
  }
  const started = Date.now();
  box.hidden = false;
  box.classList.remove("timer--over");
  const tick = () => {
    const left = state.timeLimit - (Date.now() - started) / 1000;
    $("timer-value").textContent = left > 0 ? `${formatSeconds(left)} left` : "Time is up: send what you have";
    if (left <= 0) {
      box.classList.add("timer--over");
      stopTimer();
    }
  };
  tick();
  timer = window.setInterval(tick, 1000);
}

export function stopTimer() {
  window.clearInterval(timer);
  timer = 0;
}
