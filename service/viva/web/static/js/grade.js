/* Grade card (in the chat and the report) and evidence highlighting inside an answer. */

import { append, h, isCovered, LABEL_TEXT, band, pct, plural, pointBand, uid } from "./dom.js";

// Evidence offsets from the API count Unicode code points (Python), so the highlighting works
// on an array of code points rather than UTF-16 units.

export function annotatedAnswer(answer, grade, opts) {
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
  for (const p of points) {
    const c = p.contradiction;
    const dup = (s) => s.kind === "wrong" && c && s.start === c.start && s.end === c.end;
    if (c && Number.isInteger(c.start) && c.end > c.start && !spans.some(dup)) {
      spans.push({ start: Math.max(0, c.start), end: Math.min(chars.length, c.end), kind: "wrong", n: "!", label: `Says the opposite of: ${p.text || "a key point"}` });
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
  other_question: "Reads as an answer to another question",
};

export function scoreBadge(score, label, testid) {
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

/** "You said …" under a point the answer stated the opposite of, or nothing. */
function saidAgainst(p) {
  const c = p.contradiction;
  if (!c || !c.text) return null;
  return h("span", { class: "point__said", dataset: { testid: "point-contradiction" } }, "You said ", h("q", { text: c.text }), ", which is the opposite of this point");
}

/** One line where the count, the partly-covered points and the penalties explain the score. */
export function summaryLine(grade) {
  const points = grade.points || [];
  const covered = points.filter(isCovered).length;
  const partly = points.filter((p) => !isCovered(p) && Number(p.coverage) > 0).length;
  const wrong = (grade.misconceptions || []).filter((m) => m.triggered).length;
  const parts = [`${covered} of ${plural(points.length, "key point")} covered${partly ? `, ${partly} more in part` : ""}`];
  if (wrong) parts.push(`${plural(wrong, "misconception")} cost points`);
  const denied = points.filter((p) => p.contradiction).length;
  if (denied) parts.push(`${plural(denied, "key point")} stated the wrong way round`);
  return parts.join(" · ");
}

export function formatDuration(s) {
  s = Math.max(0, Math.round(Number(s) || 0));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
}

/** A grade as a card. opts: title, level (of the title heading, default 3), answer (report:
 * show it highlighted), reference, timeTaken, practice ({reference_answer, missed}). */
export function gradeCard(grade, opts) {
  opts = opts || {};
  const lv = Math.min(opts.level || 3, 4);
  const H = (d) => `h${Math.min(lv + d, 6)}`;
  const practice = opts.practice || null;
  const missedText = new Map(((practice && practice.missed) || []).map((m) => [m.id, m.text]));
  const timeTaken = opts.timeTaken ?? grade.time_taken_s;
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
        h(H(0), { class: "grade__title", id: titleId, text: opts.title || "Grade" }),
        h("p", { class: "muted", dataset: { testid: "grade-summary" }, text: summaryLine(grade) }),
        typeof timeTaken === "number" ? h("p", { class: "muted grade__time", dataset: { testid: "time-taken" }, text: `Answered in ${formatDuration(timeTaken)}` }) : null,
      ),
    ),
  );
  if (flags.length) {
    card.append(h("ul", { class: "flags", "aria-label": "Flags" }, ...flags.map((f) => h("li", { class: `flag flag--${f}`, text: FLAG_TEXT[f] || String(f).replace(/_/g, " ") }))));
  }
  const other = grade.other_question;
  if (other) {
    card.append(h("p", { class: "muted", dataset: { testid: "other-question" }, text: `This reads as an answer to another question (${pct(other.score)} there): “${other.prompt}”` }));
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
        h(H(1), { class: "grade__h", text: "Answer" }),
        ans && ans.trim() ? annotatedAnswer(ans, grade) : h("p", { class: "muted", text: "(empty answer)" }),
      ),
    );
  }
  if (covered.length) {
    card.append(
      h(
        "div",
        { class: "grade__section" },
        h(H(1), { class: "grade__h", text: "Covered" }),
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
                  ` match ${pct(p.coverage)}`,
                  p.llm_verdict ? ` · model says ${p.llm_verdict}` : "",
                  p.evidence ? "" : " · no single sentence",
                ),
                saidAgainst(p),
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
        h(H(1), { class: "grade__h", text: "Missed" }),
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
                Number(p.coverage) > 0.05 ? h("span", { class: "point__meta" }, meter(p.coverage, `Partly there: match ${pct(p.coverage)}`, pointBand(p)), ` partly there, match ${pct(p.coverage)}`) : null,
                saidAgainst(p),
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
        h(H(1), { class: "grade__h", text: "Misconceptions" }),
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
  append(card, [feedbackBlock(grade, H)]);
  const reference = opts.reference || (practice && practice.reference_answer);
  if (reference) {
    card.append(h("div", { class: "grade__section reference", dataset: { testid: "model-answer" } }, h(H(1), { class: "grade__h", text: "Model answer" }), h("p", { text: reference })));
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
            ["Guard", prov.guard],
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

function feedbackBlock(grade, H) {
  const status = grade.feedback_status;
  const fb = grade.feedback;
  if (status === "ok" && fb) {
    const list = (title, items, cls) =>
      items && items.length ? h("div", { class: `fb__group ${cls}` }, h(H(2), { class: "fb__h", text: title }), h("ul", {}, ...items.map((t) => h("li", { text: t })))) : null;
    return h(
      "div",
      { class: "grade__section feedback", dataset: { testid: "feedback" } },
      h(H(1), { class: "grade__h", text: "Interviewer's feedback" }),
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
