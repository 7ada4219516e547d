/* Question banks and server configuration, fetched once and cached in `state`. */

import { api } from "./api.js";
import { state } from "./state.js";

/** Is an LLM configured? (served next to the page by viva.web.mount_web) */
export async function loadConfig() {
  try {
    const cfg = await api("GET", "/web/config");
    const llm = (cfg && cfg.llm) || {};
    state.llm = { enabled: !!llm.enabled, model: llm.model || null };
    if (cfg && cfg.max_answer_chars) state.maxChars = cfg.max_answer_chars;
  } catch (err) {
    state.llm = { enabled: false, model: null };
  }
}

export async function loadBanks() {
  if (state.banks) return state.banks;
  const data = await api("GET", "/v1/banks");
  state.banks = Array.isArray(data) ? data : (data && (data.banks || data.items)) || [];
  return state.banks;
}

export async function bankDetail(id) {
  if (state.bankDetails.has(id)) return state.bankDetails.get(id);
  const listed = (state.banks || []).find((b) => b.id === id);
  let bank = listed && Array.isArray(listed.questions) && listed.questions.length && listed.questions[0].topic ? listed : null;
  if (!bank) bank = await api("GET", `/v1/banks/${encodeURIComponent(id)}`);
  state.bankDetails.set(id, bank);
  return bank;
}

export function bankTitle(bankId) {
  const b = (state.banks || []).find((x) => x.id === bankId);
  return b ? b.title : bankId || "";
}

/** Topic slugs of a bank, in the bank's order when it lists them. */
export function bankTopics(bank) {
  if (Array.isArray(bank.topics) && bank.topics.length) return bank.topics.map((t) => (typeof t === "string" ? t : t.topic || t.id));
  return [...new Set((bank.questions || []).map((q) => q.topic).filter(Boolean))].sort();
}

/** A topic's display name: the API's `name` or the bank's `topic_names`, else the slug made readable. */
export function topicName(topic, bankId, given) {
  if (given) return given;
  for (const b of [state.bankDetails.get(bankId), ...(state.banks || []).filter((x) => x.id === bankId)]) {
    if (!b) continue;
    if (b.topic_names && b.topic_names[topic]) return b.topic_names[topic];
    const t = Array.isArray(b.topics) && b.topics.find((x) => x && typeof x === "object" && (x.topic || x.id) === topic);
    if (t && t.name) return t.name;
  }
  const words = String(topic || "").replace(/[-_]+/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : "";
}

/** What a candidate should read about a bank: its first sentence. The rest of a bank's
 * description is written for bank authors (sources, how it was checked), not candidates. */
export function bankBlurb(bank) {
  const text = String((bank && (bank.summary || bank.description)) || "").trim();
  const m = /^.+?[.!?](?=\s|$)/s.exec(text);
  return m ? m[0] : text;
}

export function questionCount(bank, topics) {
  const qs = bank.questions || [];
  if (!qs.length && typeof bank.question_count === "number") return bank.question_count;
  if (!topics || !topics.length) return qs.length;
  return qs.filter((q) => topics.includes(q.topic)).length;
}
