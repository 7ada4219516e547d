/* Start screen: pick a bank, topics, mode (practice or exam), an optional time limit, and go. */

import { api, ApiError } from "./api.js";
import { bankBlurb, bankDetail, bankTopics, loadBanks, questionCount, topicName } from "./banks.js";
import { openInterview } from "./chat.js";
import { $, h, plural } from "./dom.js";
import { clearError, navigate, remember, routeUrl, setPending, showError, showView, state } from "./state.js";

export async function renderStart() {
  showView("start", false);
  const list = $("bank-list");
  $("llm-field").hidden = !state.llm.enabled;
  $("llm-model").textContent = state.llm.model ? `(${state.llm.model})` : "";
  const last = window.localStorage && localStorage.getItem("viva:last-interview");
  if (last) {
    $("resume-link").href = routeUrl(last, "chat");
    $("resume-box").hidden = false;
  }
  let banks;
  try {
    banks = await loadBanks();
  } catch (err) {
    list.replaceChildren(h("p", { class: "form__error", text: `Could not load the question banks: ${err.detail || err.message}` }));
    list.setAttribute("aria-busy", "false");
    showError(err);
    return;
  }
  list.setAttribute("aria-busy", "false");
  if (!banks.length) {
    list.replaceChildren(h("p", { class: "muted", text: "No question banks are installed. Add a YAML bank to the rubrics directory." }));
    $("start-button").disabled = true;
    return;
  }
  list.replaceChildren(
    ...banks.map((b, i) => {
      const n = Array.isArray(b.questions) ? b.questions.length : b.question_count;
      const id = `bank-${i}`;
      return h(
        "label",
        { class: "bank", for: id },
        h("input", { type: "radio", name: "bank", id, value: b.id, checked: i === 0, onchange: () => onBankChange() }),
        h(
          "span",
          { class: "bank__body" },
          h("span", { class: "bank__title", text: b.title || b.id }),
          h("span", { class: "bank__meta", text: [n ? plural(n, "question") : null, b.version ? `v${b.version}` : null].filter(Boolean).join(" · ") }),
          bankBlurb(b) ? h("span", { class: "bank__desc", text: bankBlurb(b) }) : null,
        ),
      );
    }),
  );
  await onBankChange();
}

function selectedBankId() {
  const el = document.querySelector('input[name="bank"]:checked');
  return el ? el.value : null;
}

function selectedTopics() {
  return [...document.querySelectorAll('input[name="topic"]:checked')].map((el) => el.value);
}

async function onBankChange() {
  const id = selectedBankId();
  if (!id) return;
  let bank;
  try {
    bank = await bankDetail(id);
  } catch (err) {
    showError(err, $("start-error"));
    return;
  }
  const topics = bankTopics(bank);
  $("topics-field").hidden = topics.length < 2;
  $("topic-list").replaceChildren(
    ...topics.map((t) =>
      h("label", { class: "chip-check" }, h("input", { type: "checkbox", name: "topic", value: t, onchange: updateCount }), h("span", { text: topicName(t, id) })),
    ),
  );
  const input = $("question-count");
  const total = questionCount(bank, []);
  input.value = String(Math.min(Number(input.value) || 5, total || 5));
  updateCount();
}

function updateCount() {
  const bank = state.bankDetails.get(selectedBankId());
  if (!bank) return;
  const max = questionCount(bank, selectedTopics());
  const input = $("question-count");
  input.max = String(Math.max(max, 1));
  if (Number(input.value) > max && max > 0) input.value = String(max);
  $("question-count-hint").textContent = max ? `Up to ${max} in the chosen ${selectedTopics().length ? "topics" : "bank"}.` : "No questions in these topics.";
}

export async function onStart(ev) {
  ev.preventDefault();
  if (state.pending) return;
  clearError();
  const bankId = selectedBankId();
  const count = Number($("question-count").value);
  const max = Number($("question-count").max) || Infinity;
  if (!bankId) return showError(new ApiError(0, "Choose a question bank"), $("start-error"));
  if (!Number.isInteger(count) || count < 1 || count > max) {
    $("question-count").focus();
    return showError(new ApiError(0, "Number of questions", `Enter a whole number from 1 to ${max}.`), $("start-error"));
  }
  const body = { bank_id: bankId, question_count: count, feedback: state.llm.enabled && $("llm-feedback").checked ? "llm" : "none" };
  const topics = selectedTopics();
  if (topics.length) body.topics = topics;
  const candidate = $("candidate").value.trim();
  if (candidate) body.candidate = candidate;
  // Exam is the API's default; only a choice that differs is sent.
  const mode = document.querySelector('input[name="mode"]:checked');
  if (mode && mode.value !== "exam") body.mode = mode.value;
  const limit = Number($("time-limit").value);
  if (limit > 0) body.time_limit_s = limit;
  setPending(true, $("start-button"), "Starting…");
  try {
    const created = await api("POST", "/v1/interviews", body);
    state.interviewId = created.id;
    remember(created.id);
    navigate(created.id, "chat");
    await openInterview(created.id, created);
  } catch (err) {
    showError(err, $("start-error"));
  } finally {
    setPending(false, $("start-button"));
  }
}
