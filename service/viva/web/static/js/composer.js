/* The answer box: send an answer (or a follow-up's, or a practice retry), skip, and move on. */

import { api } from "./api.js";
import { $, newKey } from "./dom.js";
import { addAnswerWithGrade, addSkipMessage, addTyping, finish, offerRetry, openInterview, qIndex, removeTyping, showQuestion } from "./chat.js";
import { clearError, setPending, showError, state } from "./state.js";

export async function onSend(ev) {
  if (ev) ev.preventDefault();
  if (state.pending || !state.current) return;
  clearError();
  const q = state.current;
  const retry = state.retryOf === q.id;
  const answer = $("answer").value;
  // Resending the same answer to the same question (after a network error) reuses the key,
  // so the server never records it twice.
  const idem = state.idempotency;
  if (!idem || idem.questionId !== q.id || idem.answer !== answer || idem.retry !== retry) {
    state.idempotency = { questionId: q.id, answer, retry, key: newKey() };
  }
  setPending(true, $("send-button"), "Grading…");
  $("skip-button").disabled = true;
  $("answer").setAttribute("aria-busy", "true");
  addTyping();
  try {
    const body = { question_id: q.id, answer };
    if (retry) body.retry = true;
    const res = await api("POST", `/v1/interviews/${encodeURIComponent(state.interviewId)}/answers`, body, { "Idempotency-Key": state.idempotency.key });
    removeTyping();
    state.idempotency = null;
    state.retryOf = null;
    $("answer").value = "";
    updateCharCount();
    const followUp = !!q.parent_id || /~f\d+$/.test(q.id);
    addAnswerWithGrade(answer, res.grade, q, { followUp, retry, timeTaken: res.time_taken_s, practice: res.practice });
    advance(res, followUp ? q.parent_id : q.id);
  } catch (err) {
    removeTyping();
    showError(err);
    if (err.status === 409) await resync();
  } finally {
    setPending(false, $("send-button"));
    $("skip-button").disabled = false;
    $("answer").removeAttribute("aria-busy");
  }
}

export async function onSkip() {
  if (state.pending || !state.current) return;
  clearError();
  const q = state.current;
  setPending(true, $("skip-button"), "Skipping…");
  $("send-button").disabled = true;
  try {
    // One key per question: a retried skip after a network error is replayed, not repeated.
    if (!state.skipKey || state.skipKey.questionId !== q.id) state.skipKey = { questionId: q.id, key: newKey() };
    const res = await api("POST", `/v1/interviews/${encodeURIComponent(state.interviewId)}/skip`, { question_id: q.id }, { "Idempotency-Key": state.skipKey.key });
    state.retryOf = null;
    addSkipMessage(!!q.parent_id || /~f\d+$/.test(q.id));
    advance(res, null);
  } catch (err) {
    showError(err);
    if (err.status === 409) await resync();
  } finally {
    setPending(false, $("skip-button"));
    $("send-button").disabled = false;
  }
}

/** After a grade: a follow-up first, then (practice) the retry choice, then the next question. */
function advance(res, gradedId) {
  const next = res && ("next_question" in res ? res.next_question : res.question);
  const practice = res && res.practice;
  if (res && res.follow_up) {
    showQuestion(res.follow_up, state.currentNumber);
    // Practice: the candidate may answer the follow-up or try the whole question again.
    const question = practice && practice.can_retry ? findQuestion(gradedId) : null;
    if (question) {
      state.choice = { question, number: state.currentNumber, next };
      $("retry-instead").hidden = false;
    }
    $("answer").focus({ preventScroll: true });
    return;
  }
  if (gradedId && practice && practice.can_retry) {
    const question = findQuestion(gradedId);
    if (question) {
      offerRetry(question, state.currentNumber, next);
      return;
    }
  }
  moveOn(next);
}

function moveOn(next) {
  if (next) {
    showQuestion(next, qIndex(next, (state.currentNumber || 0) + 1));
    $("answer").focus({ preventScroll: true });
  } else {
    finish();
    $("open-report").focus({ preventScroll: true });
  }
}

/** The main question a grade belongs to, as it was asked (for the retry turn). */
function findQuestion(id) {
  if (state.asked.has(id)) return state.asked.get(id);
  const el = [...document.querySelectorAll("#transcript .msg--interviewer[data-question-id]")].find((m) => m.dataset.questionId === id);
  const qs = (state.interview && state.interview.questions) || [];
  const known = qs.find((x) => x.id === id);
  if (known) return known;
  if (!el) return null;
  return { id, prompt: el.querySelector(".msg__text").textContent };
}

export function onRetry() {
  const c = state.choice;
  if (!c || state.pending) return;
  state.choice = null;
  state.retryOf = c.question.id;
  showQuestion(c.question, c.number, "retry");
  $("answer").focus({ preventScroll: true });
}

export function onNext() {
  const c = state.choice;
  if (!c) return;
  state.choice = null;
  moveOn(c.next);
}

/** The server knows better (another tab answered, say): rebuild the conversation from it. */
async function resync() {
  try {
    await openInterview(state.interviewId);
  } catch (err) {
    showError(err);
  }
}

export function updateCharCount() {
  const n = Array.from($("answer").value).length;
  const el = $("char-count");
  el.textContent = state.maxChars ? `${n} / ${state.maxChars}` : String(n);
  el.classList.toggle("over", !!state.maxChars && n > state.maxChars);
}

export function onAnswerKey(ev) {
  if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    onSend();
  }
}
