/* Viva web page: a chat-style mock interview and its report.
 *
 * Plain JavaScript, no dependencies, no build step. It talks only to Viva's REST API on the
 * same origin. All text from the API or the candidate goes into the page through textContent /
 * text nodes; nothing is ever parsed as HTML markup.
 */
"use strict";

(() => {
  // ---------------------------------------------------------------------------------------
  // Small DOM helpers

  const $ = (id) => document.getElementById(id);
  const SVG_NS = "http://www.w3.org/2000/svg";

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** Create an element. `props.text` sets textContent; `on*` adds listeners; the rest are attributes. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    setProps(el, props);
    return append(el, children);
  }

  function svg(tag, props, ...children) {
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

  const pct = (x) => `${Math.round((Number(x) || 0) * 100)}%`;
  // Labels and where they change come from the API (core/scoring.py); the page never
  // re-derives them, it only colours them.
  const LABEL_BAND = { strong: "good", partial: "fair", "needs work": "poor" };
  const band = (label) => LABEL_BAND[label] || "poor";
  const LABEL_TEXT = { strong: "Strong", partial: "Partial", "needs work": "Needs work" };
  const pointBand = (p) => (p.covered === true ? "good" : Number(p.coverage) > 0 ? "fair" : "poor");

  let idCounter = 0;
  const uid = (prefix) => `${prefix}-${++idCounter}`;

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  // ---------------------------------------------------------------------------------------
  // API client: every failure becomes an ApiError carrying the problem+json title and detail.

  class ApiError extends Error {
    constructor(status, title, detail) {
      super(detail || title);
      this.status = status;
      this.title = title;
      this.detail = detail;
    }
  }

  // Credentials, when the server has accounts: an API key or a candidate link token, taken
  // from ?key= or ?link= (then removed from the address bar) or asked for after a 401. Kept
  // for this tab only (sessionStorage), sent as `Authorization: Bearer`.
  const CREDENTIAL = "viva.credential";

  function credential() {
    try {
      return window.sessionStorage.getItem(CREDENTIAL) || "";
    } catch (err) {
      return "";
    }
  }

  function keepCredential(token) {
    try {
      window.sessionStorage.setItem(CREDENTIAL, token);
    } catch (err) {
      /* storage off: the token lasts for this page only */
    }
    memoryCredential = token;
  }

  let memoryCredential = "";
  (function takeCredentialFromUrl() {
    const q = new URLSearchParams(window.location.search);
    const token = q.get("link") || q.get("key");
    if (!token) return;
    keepCredential(token);
    q.delete("link");
    q.delete("key");
    const rest = q.toString();
    const url = window.location.pathname + (rest ? `?${rest}` : "") + window.location.hash;
    window.history.replaceState(window.history.state, "", url);
  })();

  async function api(method, path, body, headers, retried, warm = 0) {
    let res;
    const token = credential() || memoryCredential;
    try {
      res = await fetch(path, {
        method,
        headers: Object.assign(
          { Accept: "application/json" },
          body !== undefined ? { "Content-Type": "application/json" } : {},
          token ? { Authorization: `Bearer ${token}` } : {},
          headers || {},
        ),
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      throw new ApiError(0, "Can't reach the Viva service", "Check that the server is running, then try again.");
    }
    const type = res.headers.get("content-type") || "";
    let data = null;
    if (type.includes("json")) {
      try {
        data = await res.json();
      } catch (err) {
        data = null;
      }
    }
    if (res.status === 401 && !retried) {
      const given = window.prompt("This Viva server needs an API key or your interview link's token:");
      if (given && given.trim()) {
        keepCredential(given.trim());
        return api(method, path, body, headers, true);
      }
    }
    // While the model loads the server answers 503 "warming up": say so, wait, retry.
    if (res.status === 503 && data && /^warming up/.test(String(data.detail)) && warm < 120) {
      showError(new ApiError(503, "Warming up", "The grader is loading; this takes a few seconds."));
      await new Promise((done) => window.setTimeout(done, 1000));
      const out = await api(method, path, body, headers, retried, warm + 1);
      if (!warm) $("alert").hidden = true;
      return out;
    }
    if (!res.ok) {
      let title = `Request failed (${res.status})`;
      let detail = res.statusText || "";
      if (data && typeof data === "object") {
        if (data.title) title = String(data.title);
        if (typeof data.detail === "string") detail = data.detail;
        else if (Array.isArray(data.detail)) detail = data.detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
        if (Array.isArray(data.errors) && !detail) detail = data.errors.map((d) => d.msg || String(d)).join("; ");
      }
      throw new ApiError(res.status, title, detail);
    }
    if (data === null && !type.includes("json")) data = await res.text().catch(() => null);
    return data;
  }

  // Report downloads. A plain link cannot send `Authorization`, so with accounts on it would
  // get a 401: the click fetches the file with the credential and saves it from a blob URL.
  async function onDownload(ev) {
    const link = ev.currentTarget;
    const path = link.getAttribute("href");
    if (!path || path === "#") return;
    ev.preventDefault();
    const token = credential() || memoryCredential;
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

  // ---------------------------------------------------------------------------------------
  // Alerts

  function showError(err, where) {
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

  function clearError() {
    $("alert").hidden = true;
    $("start-error").hidden = true;
  }

  // ---------------------------------------------------------------------------------------
  // State and routing. The interview id lives in the URL (?interview=ID, plus &view=report),
  // so a reload resumes where the candidate was.

  const state = {
    banks: null, // list from GET /v1/banks
    bankDetails: new Map(), // id -> bank with questions
    llm: { enabled: false, model: null },
    interviewId: null,
    interview: null,
    current: null, // question on screen
    pending: false,
    idempotency: null, // {questionId, answer, key}: reused when resending the same answer
    reportCache: null,
  };

  function readRoute() {
    const q = new URLSearchParams(window.location.search);
    let id = q.get("interview");
    let view = q.get("view");
    const m = /^#\/interview\/([^/]+)(\/report)?$/.exec(window.location.hash);
    if (!id && m) {
      id = decodeURIComponent(m[1]);
      if (m[2]) view = "report";
    }
    return { id, view: view === "report" ? "report" : id ? "chat" : "start" };
  }

  function routeUrl(id, view) {
    if (!id) return "/";
    const q = new URLSearchParams({ interview: id });
    if (view === "report") q.set("view", "report");
    return `/?${q.toString()}`;
  }

  function navigate(id, view, replace) {
    const url = routeUrl(id, view);
    if (url === window.location.pathname + window.location.search) return;
    if (replace) window.history.replaceState({}, "", url);
    else window.history.pushState({}, "", url);
  }

  function showView(name, focusHeading) {
    for (const v of ["start", "chat", "report"]) $(`view-${v}`).hidden = v !== name;
    document.body.dataset.view = name;
    const titles = { start: "Viva — mock interview", chat: "Interview — Viva", report: "Report — Viva" };
    document.title = titles[name];
    if (focusHeading) {
      const heading = $(`${name}-heading`);
      if (heading) heading.focus({ preventScroll: false });
    }
  }

  // ---------------------------------------------------------------------------------------
  // Configuration: is an LLM configured? (served next to the page by viva.web.mount_web)

  async function loadConfig() {
    try {
      const cfg = await api("GET", "/web/config");
      const llm = (cfg && cfg.llm) || {};
      state.llm = { enabled: !!llm.enabled, model: llm.model || null };
      if (cfg && cfg.max_answer_chars) state.maxChars = cfg.max_answer_chars;
    } catch (err) {
      state.llm = { enabled: false, model: null };
    }
  }

  // ---------------------------------------------------------------------------------------
  // Start screen

  async function loadBanks() {
    if (state.banks) return state.banks;
    const data = await api("GET", "/v1/banks");
    state.banks = Array.isArray(data) ? data : (data && (data.banks || data.items)) || [];
    return state.banks;
  }

  async function bankDetail(id) {
    if (state.bankDetails.has(id)) return state.bankDetails.get(id);
    const listed = (state.banks || []).find((b) => b.id === id);
    let bank = listed && Array.isArray(listed.questions) && listed.questions.length && listed.questions[0].topic ? listed : null;
    if (!bank) bank = await api("GET", `/v1/banks/${encodeURIComponent(id)}`);
    state.bankDetails.set(id, bank);
    return bank;
  }

  function bankTopics(bank) {
    if (Array.isArray(bank.topics) && bank.topics.length) return bank.topics.map((t) => (typeof t === "string" ? t : t.topic || t.id));
    return [...new Set((bank.questions || []).map((q) => q.topic).filter(Boolean))].sort();
  }

  function questionCount(bank, topics) {
    const qs = bank.questions || [];
    if (!qs.length && typeof bank.question_count === "number") return bank.question_count;
    if (!topics || !topics.length) return qs.length;
    return qs.filter((q) => topics.includes(q.topic)).length;
  }

  async function renderStart() {
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
            h("span", { class: "bank__meta", text: [n ? `${n} questions` : null, b.version ? `v${b.version}` : null].filter(Boolean).join(" · ") }),
            b.description ? h("span", { class: "bank__desc", text: b.description }) : null,
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
        h("label", { class: "chip-check" }, h("input", { type: "checkbox", name: "topic", value: t, onchange: updateCount }), h("span", { text: t })),
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

  async function onStart(ev) {
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

  function remember(id) {
    try {
      if (id) localStorage.setItem("viva:last-interview", id);
      else localStorage.removeItem("viva:last-interview");
    } catch (err) {
      /* storage disabled: resuming still works from the URL */
    }
  }

  function setPending(on, button, label) {
    state.pending = on;
    if (!button) return;
    if (on) {
      button.dataset.label = button.textContent;
      button.textContent = label || "Working…";
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    } else {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  // ---------------------------------------------------------------------------------------
  // Interview: normalising what the API returns

  function qIndex(q, fallback) {
    // The API numbers questions from 0 (index) — accept 1-based `number` too.
    if (q && typeof q.number === "number") return q.number;
    if (q && typeof q.index === "number") return q.index + 1;
    return fallback;
  }

  function interviewTotal(iv) {
    if (!iv) return 0;
    if (iv.progress && typeof iv.progress.total === "number") return iv.progress.total;
    if (typeof iv.total === "number") return iv.total;
    if (iv.question && typeof iv.question.total === "number") return iv.question.total;
    if (Array.isArray(iv.questions)) return iv.questions.length;
    if (Array.isArray(iv.question_ids)) return iv.question_ids.length;
    return 0;
  }

  function currentQuestion(iv) {
    return iv.question || iv.current_question || (iv.progress && iv.progress.question) || null;
  }

  /** Past turns as [{question, status, answer, grade}] from whatever shape the API uses. */
  function pastTurns(iv) {
    const items = iv.responses || iv.answers || iv.turns || [];
    const byId = new Map();
    for (const q of iv.questions || []) if (q && q.id) byId.set(q.id, q);
    return items.map((a, i) => {
      const qid = a.question_id || (a.question && a.question.id);
      const question = a.question || byId.get(qid) || { id: qid, prompt: a.prompt || qid, topic: a.topic, difficulty: a.difficulty };
      const status = a.status || (a.skipped ? "skipped" : a.grade ? "answered" : "skipped");
      const index = typeof a.index === "number" ? a.index : i;
      return { question: Object.assign({}, question, { id: qid || question.id, index }), status, answer: a.answer ?? "", grade: a.grade || null };
    });
  }

  async function openInterview(id, created) {
    showView("chat", false);
    $("transcript").replaceChildren();
    $("finished").hidden = true;
    $("composer").hidden = false;
    state.interviewId = id;
    state.reportCache = null;
    let iv;
    if (created && currentQuestion(created) && !(created.progress && created.progress.done)) {
      iv = created;
    } else {
      iv = await api("GET", `/v1/interviews/${encodeURIComponent(id)}`);
    }
    state.interview = iv;
    state.total = interviewTotal(iv);
    const turns = pastTurns(iv);
    turns.forEach((t) => {
      addQuestionMessage(t.question, t.question.index + 1);
      if (t.status === "skipped" || !t.grade) addSkipMessage();
      else addAnswerWithGrade(t.answer, t.grade, t.question);
    });
    const q = currentQuestion(iv);
    const done = iv.status === "completed" || !q;
    const heading = $("chat-heading");
    heading.textContent = bankTitle(iv.bank_id) || "Interview";
    if (done) {
      finish(turns.length);
    } else {
      showQuestion(q, qIndex(q, turns.length + 1));
    }
    heading.focus();
    if (!done) {
      // Focus moves to the answer box on the next frame so the heading is announced first.
      window.setTimeout(() => $("answer").focus(), 0);
    }
  }

  function bankTitle(bankId) {
    const b = (state.banks || []).find((x) => x.id === bankId);
    return b ? b.title : bankId || "";
  }

  function updateProgress(number, total, done) {
    state.total = total || state.total;
    const t = state.total || number;
    $("progress-label").textContent = done ? `All ${t} questions done` : `Question ${number} of ${t}`;
    const answered = done ? t : number - 1;
    $("progress-fill").style.width = `${t ? Math.round((answered / t) * 100) : 0}%`;
  }

  // ---------------------------------------------------------------------------------------
  // Transcript messages

  function pushMessage(li) {
    $("transcript").append(li);
    li.scrollIntoView({ block: "nearest", behavior: "smooth" });
    return li;
  }

  function addQuestionMessage(q, number) {
    const id = uid("question");
    const total = state.total || q.total;
    const meta = [`Question ${number}${total ? ` of ${total}` : ""}`, q.topic, q.difficulty].filter(Boolean).join(" · ");
    return pushMessage(
      h(
        "li",
        { class: "msg msg--interviewer", dataset: { questionId: q.id || "" } },
        h("span", { class: "msg__who" }, h("span", { class: "avatar", "aria-hidden": "true", text: "V" }), h("span", { class: "visually-hidden", text: "Interviewer: " })),
        h("div", { class: "msg__bubble" }, h("p", { class: "msg__meta", text: meta }), h("p", { class: "msg__text", id, text: q.prompt || "" })),
      ),
    );
  }

  function candidateLi(...content) {
    return h(
      "li",
      { class: "msg msg--candidate" },
      h("span", { class: "msg__who" }, h("span", { class: "visually-hidden", text: "You: " })),
      h("div", { class: "msg__bubble" }, ...content),
    );
  }

  function addSkipMessage() {
    pushMessage(candidateLi(h("p", { class: "msg__text msg__text--skipped", text: "Skipped this question." })));
  }

  function addAnswerWithGrade(answer, grade, question) {
    const body = answer && answer.trim() ? annotatedAnswer(answer, grade) : h("p", { class: "msg__text msg__text--empty", text: "(empty answer)" });
    pushMessage(candidateLi(body));
    pushMessage(h("li", { class: "msg msg--grade" }, gradeCard(grade, { question })));
  }

  function addTyping() {
    return pushMessage(
      h(
        "li",
        { class: "msg msg--interviewer msg--typing", id: "typing" },
        h("span", { class: "msg__who" }, h("span", { class: "avatar", "aria-hidden": "true", text: "V" })),
        h("div", { class: "msg__bubble" }, h("span", { class: "dots", "aria-hidden": "true" }, h("span"), h("span"), h("span")), h("span", { class: "visually-hidden", text: "Grading your answer…" })),
      ),
    );
  }

  function removeTyping() {
    const t = $("typing");
    if (t) t.remove();
  }

  function showQuestion(q, number) {
    state.current = q;
    state.currentNumber = number;
    const li = addQuestionMessage(q, number);
    const textId = li.querySelector(".msg__text").id;
    $("answer").setAttribute("aria-describedby", `${textId} composer-hint`);
    updateProgress(number, q.total || state.total, false);
    $("composer").hidden = false;
    $("finished").hidden = true;
  }

  function finish(count) {
    state.current = null;
    updateProgress(count, state.total || count, true);
    $("composer").hidden = true;
    $("finished").hidden = false;
    remember(null);
  }

  // ---------------------------------------------------------------------------------------
  // Highlighting evidence inside the answer. Offsets from the API count Unicode code points
  // (Python), so work on an array of code points rather than UTF-16 units.

  function annotatedAnswer(answer, grade, opts) {
    const chars = Array.from(answer);
    const spans = [];
    const points = (grade && grade.points) || [];
    const covered = points.filter(isCovered);
    covered.forEach((p, i) => {
      const ev = p.evidence;
      if (ev && Number.isInteger(ev.start) && Number.isInteger(ev.end) && ev.end > ev.start) {
        spans.push({ start: Math.max(0, ev.start), end: Math.min(chars.length, ev.end), kind: "point", n: i + 1, label: p.text });
      }
    });
    for (const m of (grade && grade.misconceptions) || []) {
      const ev = m.evidence;
      if (m.triggered && ev && Number.isInteger(ev.start) && ev.end > ev.start) {
        spans.push({ start: Math.max(0, ev.start), end: Math.min(chars.length, ev.end), kind: "wrong", n: "!", label: `Misconception: ${m.text}` });
      }
    }
    const valid = spans.filter((s) => s.end > s.start && s.start < chars.length);
    const cuts = new Set([0, chars.length]);
    for (const s of valid) {
      cuts.add(s.start);
      cuts.add(s.end);
    }
    const bounds = [...cuts].sort((a, b) => a - b);
    const out = h("p", { class: "answer-text", dataset: { testid: "answer-text" } });
    if (opts && opts.id) out.id = opts.id;
    for (let i = 0; i < bounds.length - 1; i++) {
      const a = bounds[i];
      const b = bounds[i + 1];
      const text = chars.slice(a, b).join("");
      const here = valid.filter((s) => s.start <= a && s.end >= b);
      if (!here.length) {
        out.append(document.createTextNode(text));
      } else {
        const wrong = here.some((s) => s.kind === "wrong");
        const mark = h("mark", {
          class: `ev ${wrong ? "ev--wrong" : "ev--point"}${here.length > 1 ? " ev--multi" : ""}`,
          title: here.map((s) => (s.kind === "point" ? `Point ${s.n}: ${s.label}` : s.label)).join("\n"),
          dataset: { points: here.map((s) => s.n).join(",") },
          text,
        });
        out.append(mark);
      }
      const ending = valid.filter((s) => s.end === b);
      if (ending.length) {
        out.append(
          h("sup", { class: "ev-ref", "aria-hidden": "true", text: ending.map((s) => s.n).join(",") }),
          h("span", { class: "visually-hidden", text: ` (${ending.map((s) => (s.kind === "point" ? `point ${s.n}` : "misconception")).join(", ")})` }),
        );
      }
    }
    return out;
  }

  // The API decides what counts as covered (core/scoring.py); the page never re-derives it.
  const isCovered = (p) => p.covered === true;

  // ---------------------------------------------------------------------------------------
  // Grade card

  const FLAG_TEXT = {
    empty: "Empty answer",
    dont_know: "Said they don't know",
    prompt_injection: "Tried to instruct the grader",
    keyword_list: "A list of keywords, not an explanation",
    restates_question: "Mostly restates the question",
    off_topic: "Off topic",
    truncated: "Answer was cut to the length limit",
    vague: "Vague: nothing specific enough to check",
    contradicts: "States the opposite of a key point",
  };

  function scoreBadge(score, label, testid) {
    const b = band(label);
    return h(
      "div",
      { class: `score score--${b}`, dataset: { testid, score: String(score) } },
      h("span", { class: "score__value", text: pct(score) }),
      h("span", { class: "score__band", text: LABEL_TEXT[label] || "Needs work" }),
    );
  }

  function meter(value, label, bandName) {
    const fill = h("span", { class: `meter__fill meter__fill--${bandName}` });
    fill.style.width = `${Math.max(0, Math.min(1, value)) * 100}%`;
    return h("span", { class: "meter", role: "img", "aria-label": label || pct(value) }, fill);
  }

  function gradeCard(grade, opts) {
    opts = opts || {};
    const points = grade.points || [];
    const covered = points.filter(isCovered);
    const missed = points.filter((p) => !isCovered(p));
    const wrong = (grade.misconceptions || []).filter((m) => m.triggered);
    const flags = grade.flags || [];
    const titleId = uid("grade");
    const card = h(
      "section",
      { class: "grade", "aria-labelledby": titleId, dataset: { testid: "grade-card", questionId: grade.question_id || "" } },
      h(
        "header",
        { class: "grade__head" },
        scoreBadge(grade.score, grade.label, "grade-score"),
        h(
          "div",
          { class: "grade__summary" },
          h("h3", { class: "grade__title", id: titleId, text: opts.title || "Grade" }),
          h("p", { class: "muted", text: `${covered.length} of ${points.length} key points covered${wrong.length ? ` · ${wrong.length} misconception${wrong.length > 1 ? "s" : ""}` : ""}` }),
        ),
      ),
    );
    if (flags.length) {
      card.append(h("ul", { class: "flags", "aria-label": "Flags" }, ...flags.map((f) => h("li", { class: `flag flag--${f}`, text: FLAG_TEXT[f] || String(f).replace(/_/g, " ") }))));
    }
    const near = grade.anchoring && grade.anchoring.nearest;
    if (near && near.weight >= 0.5) {
      const what = near.note ? `: ${near.note}` : "";
      card.append(h("p", { class: "muted", dataset: { testid: "nearest-example" }, text: `Close to a graded example that scored ${pct(near.score)}${what}` }));
    }
    if (opts.answer !== undefined) {
      const ans = opts.answer;
      card.append(
        h(
          "div",
          { class: "grade__answer" },
          h("h4", { text: "Answer" }),
          ans && ans.trim() ? annotatedAnswer(ans, grade) : h("p", { class: "muted", text: "(empty answer)" }),
        ),
      );
    }
    if (covered.length) {
      card.append(
        h(
          "div",
          { class: "grade__section" },
          h("h4", { text: "Covered" }),
          h(
            "ol",
            { class: "points points--covered" },
            ...covered.map((p, i) =>
              h(
                "li",
                { class: "point", dataset: { pointId: p.id } },
                h("span", { class: "point__n", "aria-hidden": "true", text: String(i + 1) }),
                h(
                  "span",
                  { class: "point__body" },
                  h("span", { class: "point__text", text: p.text || "(shown when the interview ends)" }),
                  h(
                    "span",
                    { class: "point__meta" },
                    meter(p.coverage, `Coverage ${pct(p.coverage)}`, pointBand(p)),
                    ` ${pct(p.coverage)} covered`,
                    p.llm_verdict ? ` · model says ${p.llm_verdict}` : "",
                    p.evidence ? "" : " · no single sentence",
                  ),
                ),
              ),
            ),
          ),
        ),
      );
    }
    if (missed.length) {
      card.append(
        h(
          "div",
          { class: "grade__section" },
          h("h4", { text: "Missed" }),
          h(
            "ul",
            { class: "points points--missed" },
            ...missed.map((p) =>
              h(
                "li",
                { class: "point", dataset: { pointId: p.id } },
                h("span", { class: "point__n point__n--missed", "aria-hidden": "true", text: "–" }),
                h(
                  "span",
                  { class: "point__body" },
                  h("span", { class: "point__text", text: p.text || "(shown when the interview ends)" }),
                  Number(p.coverage) > 0.05 ? h("span", { class: "point__meta" }, meter(p.coverage, `Coverage ${pct(p.coverage)}`, pointBand(p)), ` ${pct(p.coverage)} covered`) : null,
                ),
              ),
            ),
          ),
        ),
      );
    }
    if (wrong.length) {
      card.append(
        h(
          "div",
          { class: "grade__section" },
          h("h4", { text: "Misconceptions" }),
          h(
            "ul",
            { class: "points points--wrong" },
            ...wrong.map((m) =>
              h(
                "li",
                { class: "point" },
                h("span", { class: "point__n point__n--wrong", "aria-hidden": "true", text: "!" }),
                h("span", { class: "point__body" }, h("span", { class: "point__text", text: m.text }), h("span", { class: "point__meta", text: `−${pct(m.applied_penalty || m.penalty || 0)} from the score` })),
              ),
            ),
          ),
        ),
      );
    }
    append(card, [feedbackBlock(grade)]);
    if (opts.reference) {
      card.append(h("div", { class: "grade__section reference" }, h("h4", { text: "Reference answer" }), h("p", { text: opts.reference })));
    }
    const prov = grade.provenance;
    if (prov) {
      card.append(
        h(
          "details",
          { class: "grade__details" },
          h("summary", { text: "How this was graded" }),
          h(
            "dl",
            { class: "kv" },
            ...[
              ["Model", prov.model],
              ["Grader", prov.grader_version],
              ["Calibration", prov.calibration],
              ["Bank", prov.bank_id && `${prov.bank_id} ${prov.bank_version || ""}`],
              ["LLM", prov.llm_model],
            ]
              .filter(([, v]) => v)
              .map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
          ),
        ),
      );
    }
    return card;
  }

  function feedbackBlock(grade) {
    const status = grade.feedback_status;
    const fb = grade.feedback;
    if (status === "ok" && fb) {
      const list = (title, items, cls) =>
        items && items.length ? h("div", { class: `fb__group ${cls}` }, h("h5", { text: title }), h("ul", {}, ...items.map((t) => h("li", { text: t })))) : null;
      return h(
        "div",
        { class: "grade__section feedback", dataset: { testid: "feedback" } },
        h("h4", { text: "Interviewer's feedback" }),
        list("What was good", fb.good, "fb--good"),
        list("What to add", fb.add, "fb--add"),
        fb.tip ? h("p", { class: "fb__tip" }, h("strong", { text: "Tip: " }), fb.tip) : null,
      );
    }
    if (status === "unavailable") {
      return h("p", { class: "grade__note", text: `Written feedback is unavailable for this answer${grade.feedback_reason ? `: ${grade.feedback_reason}` : "."}` });
    }
    return null;
  }

  // ---------------------------------------------------------------------------------------
  // Answering and skipping

  async function onSend(ev) {
    if (ev) ev.preventDefault();
    if (state.pending || !state.current) return;
    clearError();
    const q = state.current;
    const answer = $("answer").value;
    // Resending the same answer to the same question (after a network error) reuses the key,
    // so the server never records it twice.
    if (!state.idempotency || state.idempotency.questionId !== q.id || state.idempotency.answer !== answer) {
      state.idempotency = { questionId: q.id, answer, key: newKey() };
    }
    setPending(true, $("send-button"), "Grading…");
    $("skip-button").disabled = true;
    $("answer").setAttribute("aria-busy", "true");
    addTyping();
    try {
      const res = await api(
        "POST",
        `/v1/interviews/${encodeURIComponent(state.interviewId)}/answers`,
        { question_id: q.id, answer },
        { "Idempotency-Key": state.idempotency.key },
      );
      removeTyping();
      state.idempotency = null;
      $("answer").value = "";
      updateCharCount();
      addAnswerWithGrade(answer, res.grade, q);
      advance(res);
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

  async function onSkip() {
    if (state.pending || !state.current) return;
    clearError();
    const q = state.current;
    setPending(true, $("skip-button"), "Skipping…");
    $("send-button").disabled = true;
    try {
      // One key per question: a retried skip after a network error is replayed, not repeated.
      if (!state.skipKey || state.skipKey.questionId !== q.id) state.skipKey = { questionId: q.id, key: newKey() };
      const res = await api("POST", `/v1/interviews/${encodeURIComponent(state.interviewId)}/skip`, { question_id: q.id }, { "Idempotency-Key": state.skipKey.key });
      addSkipMessage();
      advance(res);
    } catch (err) {
      showError(err);
      if (err.status === 409) await resync();
    } finally {
      setPending(false, $("skip-button"));
      $("send-button").disabled = false;
    }
  }

  function advance(res) {
    const next = res && ("next_question" in res ? res.next_question : res.question);
    if (next) {
      showQuestion(next, qIndex(next, (state.currentNumber || 0) + 1));
      $("answer").focus();
    } else {
      finish(state.total || state.currentNumber || 0);
      $("open-report").focus();
    }
  }

  /** The server knows better (another tab answered, say): rebuild the conversation from it. */
  async function resync() {
    try {
      await openInterview(state.interviewId);
    } catch (err) {
      showError(err);
    }
  }

  function updateCharCount() {
    const n = Array.from($("answer").value).length;
    const el = $("char-count");
    el.textContent = state.maxChars ? `${n} / ${state.maxChars}` : String(n);
    el.classList.toggle("over", !!state.maxChars && n > state.maxChars);
  }

  function onAnswerKey(ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      onSend();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Report

  async function openReport(id) {
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
    const answered = (report.questions || []).filter((q) => q.status === "answered").length;
    $("report-meta").textContent = [report.candidate, `${answered} of ${(report.questions || []).length} questions answered`].filter(Boolean).join(" · ");
    body.replaceChildren(...renderReport(report));
    drawChart();
    $("report-heading").focus();
  }

  function renderReport(r) {
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
      h("div", { class: "overview__chart" }, h("h2", { class: "section-title", id: "topics-heading", text: "By topic" }), h("div", { id: "topic-chart" })),
    );
    const numbers = new Map((r.questions || []).map((q, i) => [q.question_id, i + 1]));
    const lists = h(
      "section",
      { class: "lists", "aria-label": "Strengths, gaps and what to study next" },
      listCard("Strengths", r.strengths, "strengths", "Nothing stood out as strong yet.", numbers),
      listCard("Gaps", r.gaps, "gaps", "No gaps — every point was covered.", numbers),
      listCard("Study next", r.study_next, "study", "Nothing to add: keep practising.", numbers),
    );
    const questions = h(
      "section",
      { class: "questions", "aria-labelledby": "questions-heading" },
      h("h2", { class: "section-title", id: "questions-heading", text: "Question by question" }),
      ...(r.questions || []).map((q, i) => questionReport(q, i + 1)),
    );
    return [overall, lists, questions];
  }

  function ring(score, label) {
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

  /** The chart is drawn at its container's width, so its text stays at its CSS size. */
  function drawChart() {
    const box = $("topic-chart");
    if (!box || !state.reportCache) return;
    const width = Math.round(box.clientWidth) || 420;
    if (box.dataset.width === String(width)) return;
    box.dataset.width = String(width);
    box.replaceChildren(topicChart(state.reportCache.topics || [], Math.max(240, width), state.reportCache.scale || {}));
  }

  function topicChart(topics, width, scale) {
    if (!topics.length) return h("p", { class: "muted", text: "No topics." });
    const W = width;
    const labelH = 18;
    const barH = 14;
    const rowH = labelH + barH + 14;
    const H = topics.length * rowH + 16;
    const summary = topics.map((t) => `${t.topic}: ${pct(t.score)} (${t.answered} of ${t.total} answered)`).join("; ");
    const chart = svg(
      "svg",
      { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": `Score by topic. ${summary}`, preserveAspectRatio: "xMinYMin meet", dataset: { testid: "topic-chart" } },
      svg("title", { text: "Score by topic" }),
    );
    const x0 = 0;
    const barW = W - 56;
    // Guides at the "partial" and "strong" thresholds.
    for (const g of [scale.passing, scale.strong].filter((x) => typeof x === "number")) {
      chart.append(svg("line", { x1: x0 + barW * g, x2: x0 + barW * g, y1: 4, y2: H - 8, class: "chart__guide" }));
    }
    topics.forEach((t, i) => {
      const y = i * rowH + 8;
      const v = Math.max(0, Math.min(1, Number(t.score) || 0));
      chart.append(
        svg(
          "g",
          { class: "chart__row", dataset: { topic: t.topic, score: String(t.score), testid: "topic-row" } },
          svg("text", { x: x0, y: y + 13, class: "chart__label", text: t.topic }),
          svg("text", { x: x0 + barW, y: y + 13, class: "chart__sub", "text-anchor": "end", text: `${t.answered}/${t.total} answered` }),
          svg("rect", { x: x0, y: y + labelH, width: barW, height: barH, rx: 4, class: "chart__track" }),
          svg("rect", { x: x0, y: y + labelH, width: Math.max(v * barW, v > 0 ? 3 : 0), height: barH, rx: 4, class: `chart__bar chart__bar--${band(t.label)}` }),
          svg("text", { x: W, y: y + labelH + barH - 2, class: "chart__value", "text-anchor": "end", text: pct(v) }),
        ),
      );
    });
    return chart;
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

  function questionReport(q, n) {
    const head = h(
      "header",
      { class: "qr__head" },
      h("p", { class: "msg__meta", text: [`Q${n}`, q.topic, q.difficulty, STATUS_TEXT[q.status] || q.status].filter(Boolean).join(" · ") }),
      h("h3", { class: "qr__prompt", text: q.prompt }),
    );
    const art = h("article", { class: `card qr qr--${q.status}`, dataset: { testid: "question-report", questionId: q.question_id } }, head);
    if (q.grade) {
      art.append(gradeCard(q.grade, { answer: q.answer || "", reference: q.reference_answer, title: "Grade" }));
    } else {
      art.append(
        h(
          "div",
          { class: "grade grade--none", dataset: { testid: "grade-card" } },
          h("header", { class: "grade__head" }, scoreBadge(0, "needs work", "grade-score"), h("div", { class: "grade__summary" }, h("p", { class: "muted", text: q.error ? `Not graded: ${q.error}` : `${STATUS_TEXT[q.status] || "Not answered"} — counts as 0.` }))),
          q.reference_answer ? h("div", { class: "grade__section reference" }, h("h4", { text: "Reference answer" }), h("p", { text: q.reference_answer })) : null,
        ),
      );
    }
    return art;
  }

  // ---------------------------------------------------------------------------------------
  // Boot

  async function route() {
    clearError();
    const { id, view } = readRoute();
    try {
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

  function init() {
    $("start-form").addEventListener("submit", onStart);
    $("composer").addEventListener("submit", onSend);
    $("answer").addEventListener("keydown", onAnswerKey);
    $("answer").addEventListener("input", updateCharCount);
    $("skip-button").addEventListener("click", onSkip);
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
    window.addEventListener("popstate", route);
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(drawChart, 150);
    });
    window.addEventListener("unhandledrejection", (ev) => showError(ev.reason));
    loadConfig()
      .then(() => {
        updateCharCount();
        return loadBanks().catch(() => null);
      })
      .then(route);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
