"""Rubric grading by embedding similarity: answer spans against rubric points.

Every answer costs one model pass (span vectors are pooled from its token vectors), and rubric
texts are embedded once per model and cached, so batch grading runs at the model's speed.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from viva.core import anchors, guards, scoring
from viva.core.cache import BoundedCache
from viva.core.calibration import FEATURES, Calibration, Sample
from viva.core.contradiction import contradict
from viva.core.ports import Embedder, FloatArray, TokenEmbeddings
from viva.core.text import (
    content_stems,
    is_content,
    segment,
    split_sentences,
    stem,
    window_spans,
)
from viva.domain.models import (
    Anchoring,
    Flag,
    Grade,
    MisconceptionResult,
    NearestExample,
    OtherQuestion,
    PointResult,
    Provenance,
    Question,
    Span,
)

GRADER_VERSION = "viva-grader/6"
"""Bumped when the same bank and calibration would grade differently: 3, a misconception's
rivals include the reference answer's sentences; 4, an answer that only says the question back
fires no misconception; 5, keyword lists behind "<term> is" (guards.looks_like_keyword_list);
6, an answer that earns nothing is flagged `other_question` when it reads as meant for one of
the request's `siblings` (scoring.reads_as_other)."""
DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
# How the cache budget is split: token vectors (one row per word piece) dominate.
_CACHE_SHARES = {"vectors": 0.15, "tokens": 0.4, "rubrics": 0.35, "anchors": 0.05, "links": 0.05}
# Flags that already say why an answer earned little; the vagueness head adds none beside them.
_EXPLAINED = frozenset(
    {
        "empty",
        "dont_know",
        "off_topic",
        "vague",
        "keyword_list",
        "restates_question",
        "prompt_injection",
        "contradicts",
    }
)
WINDOW_CHARS = 1000  # ~200 word pieces: inside MiniLM's 256-token limit


@dataclass(frozen=True)
class GradeRequest:
    question: Question
    answer: str
    bank_id: str = "adhoc"
    bank_version: str = ""
    # Other questions the candidate may have meant to answer (the bank's, or an interview's
    # asked so far): an answer that earns nothing is checked against them, and that costs no
    # model pass, only the alignment.
    siblings: tuple[Question, ...] = ()


@dataclass
class _Prepared:
    """What the guards decided before any embedding, and which spans may earn credit."""

    request: GradeRequest
    flags: list[Flag]
    spans: list[Span]
    windows: list[tuple[int, int]]
    keyword_list: bool
    allowed_stems: set[str]
    sentences: list[Span]
    words_only: set[tuple[int, int]] = field(default_factory=set)  # restate the question's words


@dataclass(frozen=True)
class _Tokens:
    """Contextual token vectors (unit length) with the stem and content flag of their word."""

    vecs: FloatArray
    stems: list[str]
    content: np.ndarray  # 1.0 for content words, 0.0 for function words and punctuation

    def weights(self, question_stems: set[str]) -> np.ndarray:
        demote = np.array(
            [scoring.QUESTION_DEMOTION if s in question_stems else 1.0 for s in self.stems]
        )
        w = self.content * demote if len(self.stems) else np.zeros(0)
        return w if w.sum() > 0 else np.ones(len(self.stems))


@dataclass(frozen=True)
class _RubricTokens:
    """All phrasings' token vectors of one question in one matrix, for one product per answer."""

    phrasings: list[str]  # those with tokens, in matrix order
    vecs: FloatArray  # (rubric tokens, dim)
    weights: np.ndarray  # question-demoted content weights, per phrasing as _Tokens.weights
    starts: np.ndarray  # first row of each phrasing

    @classmethod
    def build(
        cls, phrasings: Sequence[str], toks: Sequence[_Tokens], q_stems: set[str]
    ) -> _RubricTokens:
        kept = [(ph, t) for ph, t in zip(phrasings, toks, strict=True) if t.stems]
        if not kept:
            return cls([], np.zeros((0, 1), dtype=np.float32), np.zeros(0), np.zeros(0, int))
        sizes = [len(t.stems) for _, t in kept]
        return cls(
            phrasings=[ph for ph, _ in kept],
            vecs=np.concatenate([t.vecs for _, t in kept]),
            weights=np.concatenate([t.weights(q_stems) for _, t in kept]),
            starts=np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int),
        )

    def align(self, answer: _Tokens, answer_w: np.ndarray) -> tuple[dict[str, float], float]:
        """BERTScore-style soft recall of each phrasing in the answer, and the answer's soft
        precision against the whole rubric (how much of what it says is on-rubric)."""
        if not self.phrasings or not answer.stems:
            return {}, 0.0
        sims = self.vecs @ answer.vecs.T
        best_r = sims.max(axis=1)
        num = np.add.reduceat(best_r * self.weights, self.starts)
        den = np.add.reduceat(self.weights, self.starts)
        recall = {ph: float(n / d) for ph, n, d in zip(self.phrasings, num, den, strict=True)}
        best_a = sims.max(axis=0)
        return recall, float((best_a * answer_w).sum() / answer_w.sum())


_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")


def _tokens_of(
    text: str, te: TokenEmbeddings, ranges: Sequence[tuple[int, int]] | None = None, shift: int = 0
) -> _Tokens:
    """Tokens of `text` (optionally only inside `ranges`, given in text coordinates + shift)."""
    words = [(m.start(), m.end(), m.group().lower()) for m in _WORD.finditer(text)]
    starts = [w[0] for w in words]
    keep: list[int] = []
    stems: list[str] = []
    content: list[float] = []
    for i, (a, b) in enumerate(te.offsets.tolist()):
        if b <= a:
            continue
        if ranges is not None and not any(lo <= a + shift and b + shift <= hi for lo, hi in ranges):
            continue
        k = bisect.bisect_right(starts, a) - 1
        if k < 0 or words[k][1] <= a:
            continue  # punctuation
        word = words[k][2]
        keep.append(i)
        stems.append(stem(word))
        content.append(1.0 if is_content(word) else 0.0)
    if not keep:
        return _Tokens(np.zeros((0, 1), dtype=np.float32), [], np.zeros(0))
    v = te.vectors[keep]
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
    return _Tokens(v.astype(np.float32), stems, np.asarray(content))


def _concat(parts: Sequence[_Tokens]) -> _Tokens:
    parts = [p for p in parts if p.stems]
    if not parts:
        return _Tokens(np.zeros((0, 1), dtype=np.float32), [], np.zeros(0))
    return _Tokens(
        np.concatenate([p.vecs for p in parts]),
        [s for p in parts for s in p.stems],
        np.concatenate([p.content for p in parts]),
    )


@dataclass(frozen=True)
class PointFeatures:
    values: dict[str, float]
    evidence: Span | None  # best-matching span, whatever its similarity
    matched: str | None


@dataclass(frozen=True)
class GradeFeatures:
    """Everything the model contributed to one grade; cheap to re-score under new calibrations."""

    request: GradeRequest
    flags: list[Flag]
    keyword_list: bool
    points: list[PointFeatures]
    topical: float | None  # best similarity of any span to the question or its points
    misconception_sims: list[tuple[float, Span | None, float]]
    spans: list[Span]
    answer_vec: FloatArray | None = None  # pooled over the answer's sentences, unit length
    paraphrases_question: bool = False  # every sentence says the question back in other words
    filler: float | None = None  # the vagueness head's lowest reading of the answer's sentences


@dataclass(frozen=True)
class _Anchors:
    """A question's graded examples as the grader uses them (cached per question)."""

    vecs: FloatArray  # (examples, dim); zero rows for examples with nothing to embed
    scores: list[float]


def is_off_topic(f: GradeFeatures, cal: Calibration) -> bool:
    """Nothing in the answer is near the question or any point and it shares at most an
    incidental word with them; or it is only loosely near and aligns with almost nothing."""
    if f.topical is None:
        return False
    if f.topical < cal.off_topic_threshold and all(
        pf.values.get("lexical", 0.0) < scoring.OFF_TOPIC_INCIDENTAL for pf in f.points
    ):
        return True
    return (
        f.topical < scoring.OFF_TOPIC_LOOSE
        and all(pf.values.get("align_precision", 1.0) < scoring.OFF_RUBRIC for pf in f.points)
        and len(content_stems(f.request.answer)) >= scoring.OFF_TOPIC_MIN_WORDS
    )


def to_sample(f: GradeFeatures, target: float, cal: Calibration) -> Sample:
    """One graded answer as fitting sees it: the same gradability and cap as `from_features`,
    so a calibration is fitted on exactly the formula it will be served with."""
    x = np.asarray([[pf.values.get(n, 0.0) for n in FEATURES] for pf in f.points], dtype=np.float64)
    w = np.asarray([p.weight for p in f.request.question.points], dtype=np.float64)
    zero = not f.spans or is_off_topic(f, cal)
    return Sample(x, w, target, zero=zero, cap=coverage_cap(f, cal))


def is_vague(f: GradeFeatures) -> bool:
    """Filler with no rubric point's words: see guards.is_vague."""
    return bool(f.spans) and guards.is_vague(
        f.request.answer,
        f.request.question.prompt,
        [pf.values.get("lexical", 0.0) for pf in f.points],
    )


def coverage_cap(f: GradeFeatures, cal: Calibration) -> float | None:
    """Keyword lists and vague filler show words, not understanding: no point earns more than
    the keyword cap, so the answer scores at most that."""
    capped = f.keyword_list or is_vague(f)
    return cal.keyword_cap if capped else None


def question_fingerprint(question: Question) -> str:
    """A stable version for ad-hoc questions, so their grades are reproducible too."""
    return hashlib.sha256(question.model_dump_json().encode()).hexdigest()[:12]


class Grader:
    """Grades answers; safe to share between threads (callers need no lock).

    Rubric-side vectors live in bounded caches; calls into the embedder are serialised by one
    lock, since tokenizers are not thread-safe and one pass already uses every core.
    """

    def __init__(
        self,
        embedder: Embedder,
        calibration: Calibration | None = None,
        *,
        cache_size: int = 50_000,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        window_chars: int = WINDOW_CHARS,
        injection_head: guards.SentenceHead | None = None,
        vague_head: guards.SentenceHead | None = None,
    ) -> None:
        self.embedder = embedder
        self.calibration = calibration or Calibration()
        self.injection_head = injection_head
        self.vague_head = vague_head
        self.window_chars = window_chars
        share = {k: int(cache_bytes * f) for k, f in _CACHE_SHARES.items()}
        self._cache: BoundedCache[str, FloatArray] = BoundedCache(cache_size, share["vectors"])
        self._tok_cache: BoundedCache[str, _Tokens] = BoundedCache(cache_size, share["tokens"])
        self._rubric_cache: BoundedCache[tuple[str, ...], _RubricTokens] = BoundedCache(
            4096, share["rubrics"]
        )
        self._anchor_cache: BoundedCache[str, _Anchors] = BoundedCache(1024, share["anchors"])
        self._link_cache: BoundedCache[str, dict[str, str]] = BoundedCache(4096, share["links"])
        self._model_lock = threading.Lock()

    def cache_stats(self) -> dict[str, tuple[int, int]]:
        """(entries, bytes) of each cache; their bytes together stay within `cache_bytes`."""
        caches: dict[str, BoundedCache[Any, Any]] = {
            "vectors": self._cache,
            "tokens": self._tok_cache,
            "rubrics": self._rubric_cache,
            "anchors": self._anchor_cache,
            "links": self._link_cache,
        }
        return {name: (len(c), c.nbytes) for name, c in caches.items()}

    # --- public -----------------------------------------------------------------------

    def grade(
        self,
        question: Question,
        answer: str,
        *,
        bank_id: str = "adhoc",
        bank_version: str = "",
        siblings: Sequence[Question] = (),
    ) -> Grade:
        request = GradeRequest(question, answer, bank_id, bank_version, tuple(siblings))
        return self.grade_many([request])[0]

    def grade_many(self, requests: Sequence[GradeRequest]) -> list[Grade]:
        """Grades in one model batch: answers are embedded together, not one at a time."""
        prepared = self._prepare_all(requests)
        out: list[Grade] = []
        for p, tokens in zip(prepared, self._embed_windows(prepared), strict=True):
            f = self._features(p, tokens)
            g = self.from_features(f)
            if p.request.siblings and "prompt_injection" not in g.flags:
                g = self._read_as_other(f, g, p, tokens)
            out.append(g)
        return out

    def _read_as_other(
        self, f: GradeFeatures, g: Grade, own: _Prepared, tokens: Sequence[TokenEmbeddings]
    ) -> Grade:
        """The same answer graded against each sibling; flagged when it reads as meant for one."""
        if not scoring.may_read_as_other(g.score, f.topical) or f.topical is None:
            return g  # earned something, or said nothing: no sibling is graded
        siblings = f.request.siblings
        prepared = self._prepare_all(
            [replace(f.request, question=s, siblings=()) for s in siblings]
        )
        # The windows depend on the answer alone, except where an injection guard reads the
        # answer differently against another prompt: only those are embedded again.
        redo = [p for p in prepared if p.windows != own.windows]
        fresh = iter(self._embed_windows(redo))
        _, vecs = self._span_vectors(own, tokens)
        others: list[tuple[float, float | None]] = []
        for p in prepared:
            if p.windows == own.windows:
                # A sibling's topical is the best of these spans (or fewer) against its prompt
                # and phrasings: when even that is not nearer by the margin, skip grading it.
                q = p.request.question
                texts = [q.prompt, *(ph for pt in q.points for ph in pt.phrasings)]
                bound = float((vecs @ self.embed_texts(texts).T).max()) if len(vecs) else -1.0
                if bound - f.topical < scoring.OTHER_QUESTION_MARGIN:
                    others.append((0.0, None))
                    continue
                sf = self._features(p, tokens)
            else:
                sf = self._features(p, next(fresh))
            others.append((self.from_features(sf).score, sf.topical))
        i = scoring.reads_as_other(g.score, f.topical, others)
        if i is None:
            return g
        other = OtherQuestion(id=siblings[i].id, prompt=siblings[i].prompt, score=others[i][0])
        flags: list[Flag] = [*g.flags, "other_question"]
        return g.model_copy(update={"flags": flags, "other_question": other})

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        """Cached sentence vectors of rubric-side texts (points, alternatives, prompts)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)

        def compute(missing: list[str]) -> list[FloatArray]:
            with self._model_lock:
                vecs = self.embedder.embed(missing)
            return [np.asarray(v, dtype=np.float32) for v in vecs]

        return np.stack(self._cache.get_many(list(texts), compute))

    # --- steps ------------------------------------------------------------------------

    def _warm_cache(self, questions: Sequence[Question]) -> None:
        texts: list[str] = []
        for q in {id(q): q for q in questions}.values():
            texts.append(q.prompt)
            for pt in q.points:
                texts.extend(pt.phrasings)
            for m in q.misconceptions:
                texts.extend(m.phrasings)
        self.embed_texts(texts)
        self.text_tokens([t for q in questions for pt in q.points for t in pt.phrasings])

    def _rubric_tokens(self, q: Question, q_stems: set[str]) -> _RubricTokens:
        phrasings = list(dict.fromkeys(t for pt in q.points for t in pt.phrasings))
        key = (q.prompt, *phrasings)
        cached = self._rubric_cache.get(key)
        if cached is None:
            cached = _RubricTokens.build(phrasings, self.text_tokens(phrasings), q_stems)
            self._rubric_cache.put(key, cached)
        return cached

    def text_tokens(self, texts: Sequence[str]) -> list[_Tokens]:
        """Cached token vectors of rubric-side texts, for soft word alignment."""

        def compute(missing: list[str]) -> list[_Tokens]:
            with self._model_lock:
                embs = self.embedder.embed_tokens(missing)
            return [_tokens_of(t, te) for t, te in zip(missing, embs, strict=True)]

        return self._tok_cache.get_many(list(texts), compute)

    def _prepare(self, r: GradeRequest) -> _Prepared:
        answer = r.answer
        flags: list[Flag] = []
        if guards.is_blank(answer):
            return _Prepared(r, ["empty"], [], [], False, set(), [])
        if guards.is_dont_know(answer):
            return _Prepared(r, ["dont_know"], [], [], False, set(), [])
        injected = guards.injection_spans(answer, r.question.prompt)
        if injected:
            flags.append("prompt_injection")
        seg = segment(answer)

        def is_injected(sp: Span) -> bool:
            return any(sp.start < j.end and j.start < sp.end for j in injected)

        spans = [sp for sp in seg.spans if not is_injected(sp)]
        # Whether a span restates the question is decided once its meaning is known
        # (`guards.restated`); the words alone name the candidates.
        words_only = {
            (sp.start, sp.end) for sp in spans if guards.restates(sp.text, r.question.prompt)
        }
        keyword_list = guards.looks_like_keyword_list(answer)
        if keyword_list:
            flags.append("keyword_list")
        sentences = [s for s in seg.sentences if not is_injected(s)]
        allowed: set[str] = set()
        for s in sentences:
            allowed.update(content_stems(s.text))
        # One model pass per sentence: tokens are contextualised by their own sentence, which
        # agreed best with human graders, and short sequences are cheap to encode.
        windows = (
            [w for s in sentences for w in window_spans(answer, [s], self.window_chars)]
            if spans
            else []
        )
        return _Prepared(r, flags, spans, windows, keyword_list, allowed, sentences, words_only)

    def _span_vectors(
        self, p: _Prepared, token_embs: Sequence[TokenEmbeddings]
    ) -> tuple[list[Span], FloatArray]:
        """Mean of the token vectors inside each span, across the passes it covers."""
        tokens = [
            (te.vectors, te.offsets + ws) for (ws, _), te in zip(p.windows, token_embs, strict=True)
        ]
        kept: list[Span] = []
        rows: list[FloatArray] = []
        for span in p.spans:
            parts = []
            for vecs, offs in tokens:
                mask = (
                    (offs[:, 1] > offs[:, 0])
                    & (offs[:, 0] >= span.start)
                    & (offs[:, 1] <= span.end)
                )
                if mask.any():
                    parts.append(vecs[mask])
            if not parts:
                continue
            v = np.concatenate(parts).mean(axis=0)
            norm = float(np.linalg.norm(v))
            if norm > 0:
                kept.append(span)
                rows.append((v / norm).astype(np.float32))
        if not rows:
            return [], np.zeros((0, 1), dtype=np.float32)
        return kept, np.stack(rows)

    def _features(self, p: _Prepared, token_embs: Sequence[TokenEmbeddings]) -> GradeFeatures:
        q = p.request.question
        spans, vecs = self._span_vectors(p, token_embs)
        flags = list(p.flags)
        sentences = p.sentences
        pleading = self._sounds_like_injection(q, p.sentences, spans, vecs)
        if pleading:
            # Same meaning as text addressed to the grader: it earns nothing, like a regex hit.
            if "prompt_injection" not in flags:
                flags.append("prompt_injection")
            keep = [
                i
                for i, sp in enumerate(spans)
                if not any(sp.start < j.end and j.start < sp.end for j in pleading)
            ]
            spans = [spans[i] for i in keep]
            vecs = vecs[keep] if keep else np.zeros((0, 1), dtype=np.float32)
            sentences = [s for s in sentences if s not in pleading]
        spans, vecs, restating, paraphrasing = self._without_restatements(
            q, p, spans, vecs, sentences
        )
        if restating:
            flags.append("restates_question")
        allowed = (
            {w for s in sentences for w in content_stems(s.text)} if pleading else p.allowed_stems
        )
        q_stems = set(content_stems(q.prompt))
        ranges = [(s.start, s.end) for s in sentences]
        answer_toks = _concat(
            [
                _tokens_of(p.request.answer[ws:we], te, ranges, shift=ws)
                for (ws, we), te in zip(p.windows, token_embs, strict=True)
            ]
        )
        rubric = self._rubric_tokens(q, q_stems)
        recall_of, precision = rubric.align(answer_toks, answer_toks.weights(q_stems))
        points: list[PointFeatures] = []
        best_point_sim_per_span = np.full(len(spans), -1.0)
        topical = -1.0
        zero = {"semantic": 0.0, "lexical": 0.0, "align_recall": 0.0, "align_precision": 0.0}
        for pt in q.points:
            phrasings = pt.phrasings
            if not spans:
                points.append(PointFeatures(dict(zero), None, None))
                continue
            sims = vecs @ self.embed_texts(phrasings).T  # (spans, phrasings)
            best_point_sim_per_span = np.maximum(best_point_sim_per_span, sims.max(axis=1))
            si, pi = np.unravel_index(int(np.argmax(sims)), sims.shape)
            sim = float(sims[si, pi])
            topical = max(topical, sim)
            lexical = max(_recall(ph, allowed, q_stems) for ph in phrasings)
            recall = max(recall_of.get(ph, 0.0) for ph in phrasings)
            values = {
                "semantic": sim,
                "lexical": lexical,
                "align_recall": recall,
                "align_precision": precision,
            }
            points.append(PointFeatures(values, spans[si], phrasings[pi]))
        answer_vec = None
        filler = None
        if spans:
            q_sim = float((vecs @ self.embed_texts([q.prompt]).T).max())
            topical = max(topical, q_sim)
            bounds = {(s.start, s.end) for s in p.sentences}
            rows = [i for i, sp in enumerate(spans) if (sp.start, sp.end) in bounds] or list(
                range(len(spans))
            )
            pooled = vecs[rows].mean(axis=0)
            answer_vec = (pooled / max(float(np.linalg.norm(pooled)), 1e-9)).astype(np.float32)
            if self.vague_head is not None:
                # Its least filler-like sentence: one checkable sentence is not filler.
                filler = float(self.vague_head.probability(vecs[rows]).min())
        return GradeFeatures(
            request=p.request,
            flags=flags,
            keyword_list=p.keyword_list,
            points=points,
            topical=topical if spans else None,
            # An answer that only says the question back makes no claim, so no wrong one:
            # "Activation functions play a role in neural networks, and picking one over
            # another changes how well the network performs" fired "activations only change
            # training speed" (0.79) and was told it said so.
            misconception_sims=(
                [(0.0, None, 0.0) for _ in q.misconceptions]
                if paraphrasing
                else self._misconception_sims(
                    q, spans, vecs, self._rubric_rivals(q, vecs, best_point_sim_per_span), sentences
                )
            ),
            spans=spans,
            answer_vec=answer_vec,
            paraphrases_question=paraphrasing and not restating,
            filler=filler,
        )

    def _without_restatements(
        self, q: Question, p: _Prepared, spans: list[Span], vecs: FloatArray, sentences: list[Span]
    ) -> tuple[list[Span], FloatArray, bool, bool]:
        """Spans in the question's own words that mean the question more than any point earn
        nothing (`guards.restated`). Also returns whether every sentence is one of those (the
        grade is flagged), and whether every sentence at least paraphrases the question
        (flagged only if the answer scores under PARTIAL)."""
        if not spans:
            return spans, vecs, False, False
        to_q = vecs @ self.embed_texts([q.prompt])[0]
        phrasings = [t for pt in q.points for t in pt.phrasings]
        to_r = (
            (vecs @ self.embed_texts(phrasings).T).max(axis=1)
            if phrasings
            else np.full(len(spans), -1.0)
        )
        bounds = [(sp.start, sp.end) for sp in spans]
        sims = {b: (float(a), float(r)) for b, a, r in zip(bounds, to_q, to_r, strict=True)}
        restated = {
            b
            for b in p.words_only & set(bounds)
            if guards.restated(to_question=sims[b][0], to_rubric=sims[b][1])
        }
        # A sentence with no vector of its own (nothing to embed) is judged by its words.
        restated |= p.words_only - set(bounds)
        every = bool(sentences) and all((s.start, s.end) in restated for s in sentences)
        paraphrased = bool(sentences) and all(
            (s.start, s.end) in restated
            or (
                (s.start, s.end) in sims
                and guards.paraphrases_question(
                    to_question=sims[(s.start, s.end)][0],
                    to_rubric=sims[(s.start, s.end)][1],
                    novel_share=guards.novel_share(s.text, q.prompt),
                )
            )
            for s in sentences
        )
        keep = [i for i, b in enumerate(bounds) if b not in restated]
        if len(keep) < len(spans):
            spans = [spans[i] for i in keep]
            vecs = vecs[keep] if keep else np.zeros((0, 1), dtype=np.float32)
        return spans, vecs, every, paraphrased

    def _sounds_like_injection(
        self, q: Question, sentences: list[Span], spans: list[Span], vecs: FloatArray
    ) -> list[Span]:
        """Sentences whose meaning is near a prototype of text addressed to the grader."""
        rows = {(sp.start, sp.end): i for i, sp in enumerate(spans)}
        hit = [(s, rows[(s.start, s.end)]) for s in sentences if (s.start, s.end) in rows]
        if not hit:
            return []
        own = vecs[[i for _, i in hit]]
        near = (own @ self.embed_texts(guards.INJECTION_PROTOTYPES).T).max(axis=1)
        fired = near >= guards.INJECTION_SIMILARITY
        if self.injection_head is not None:
            rubric = [q.prompt, *(t for pt in q.points for t in pt.phrasings)]
            about = (own @ self.embed_texts(rubric).T).max(axis=1)
            fired |= self.injection_head.fires(own) & (about < guards.INJECTION_HEAD_OFF_RUBRIC)
        return [s for (s, _), f in zip(hit, fired, strict=True) if f]

    def sentence_vectors(self, texts: Sequence[str]) -> FloatArray:
        """Each text's vector as the guards see a sentence: its token vectors from one pass,
        averaged. For fitting the injection head on the vectors it will read."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._model_lock:
            passes = self.embedder.embed_tokens(list(texts))
        rows = []
        for te in passes:
            real = te.offsets[:, 1] > te.offsets[:, 0]
            v = te.vectors[real].mean(axis=0) if real.any() else te.vectors.mean(axis=0)
            rows.append((v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32))
        return np.stack(rows)

    def features_many(self, requests: Sequence[GradeRequest]) -> list[GradeFeatures]:
        """The model-dependent half of grading; `from_features` finishes it for any calibration."""
        prepared = self._prepare_all(requests)
        return [
            self._features(p, tokens)
            for p, tokens in zip(prepared, self._embed_windows(prepared), strict=True)
        ]

    def _prepare_all(self, requests: Sequence[GradeRequest]) -> list[_Prepared]:
        prepared = [
            self._prepare(replace(r, question=anchors.with_strong_examples(r.question)))
            for r in requests
        ]
        self._warm_cache([p.request.question for p in prepared])
        return prepared

    def _embed_windows(self, prepared: Sequence[_Prepared]) -> list[list[TokenEmbeddings]]:
        """Every answer's windows in one model pass, split back per answer."""
        window_texts: list[str] = []
        for p in prepared:
            window_texts.extend(p.request.answer[s:e] for s, e in p.windows)
        token_embs: list[TokenEmbeddings] = []
        if window_texts:
            with self._model_lock:
                token_embs = self.embedder.embed_tokens(window_texts)
        out: list[list[TokenEmbeddings]] = []
        pos = 0
        for p in prepared:
            out.append(token_embs[pos : pos + len(p.windows)])
            pos += len(p.windows)
        return out

    def from_features(
        self, f: GradeFeatures, calibration: Calibration | None = None, *, anchor: bool = True
    ) -> Grade:
        cal = calibration or self.calibration
        q = f.request.question
        flags = list(f.flags)
        off_topic = is_off_topic(f, cal)
        if off_topic:
            flags.append("off_topic")
        elif is_vague(f):
            flags.append("vague")
        filler = "vague" in flags
        points: list[PointResult] = []
        for pt, pf in zip(q.points, f.points, strict=True):
            gradable = pf.evidence is not None and not off_topic
            cov = scoring.point_coverage(
                cal.coverage(pf.values) if gradable else 0.0,
                gradable=gradable,
                cap=coverage_cap(f, cal),
            )
            points.append(
                PointResult(
                    id=pt.id,
                    text=pt.text,
                    weight=pt.weight,
                    coverage=cov,
                    similarity=round(pf.values.get("semantic", 0.0), scoring.ROUND),
                    evidence=pf.evidence if cov >= cal.evidence_min else None,
                    matched=pf.matched if cov >= cal.evidence_min else None,
                    embedding_coverage=cov,
                )
            )
        misconceptions: list[MisconceptionResult] = []
        for m, (sim, span, point_sim) in zip(q.misconceptions, f.misconception_sims, strict=True):
            # A span closer to a rubric point than to the wrong claim is not the claim.
            hit = (
                span is not None
                and not filler  # praise and hedging make no claim, so no wrong one
                and sim >= cal.misconception_threshold
                and sim > point_sim + cal.misconception_margin
            )
            misconceptions.append(
                MisconceptionResult(
                    id=m.id,
                    text=m.text,
                    penalty=m.penalty,
                    similarity=round(sim, scoring.ROUND),
                    triggered=hit,
                    applied_penalty=m.penalty if hit else 0.0,
                    evidence=span if hit else None,
                )
            )
        links = self._misconception_links(q)
        points = _contradicted(points, misconceptions, links)
        raw = scoring.score(points)  # coverage alone: anchoring moves coverage, not penalties
        anchoring = None
        if anchor and q.examples and raw > 0 and f.answer_vec is not None:
            points, misconceptions, anchoring = self._anchor(f, cal, raw, points, misconceptions)
            points = _contradicted(points, misconceptions, links)
        if any(p.contradiction is not None for p in points):
            flags.append("contradicts")
        score = scoring.score(points, [m.applied_penalty for m in misconceptions])
        if f.paraphrases_question and score < scoring.PARTIAL:
            flags.append("restates_question")  # names why it earned little; changes nothing
        elif (
            f.filler is not None
            and self.vague_head is not None
            and f.filler >= self.vague_head.threshold
            and score < scoring.PARTIAL
            and not set(flags) & _EXPLAINED
            and not any(m.triggered for m in misconceptions)
        ):
            flags.append("vague")  # filler by its meaning: names why it earned little
        return Grade(
            question_id=q.id,
            score=score,
            points=points,
            misconceptions=misconceptions,
            flags=flags,
            anchoring=anchoring,
            provenance=Provenance(
                bank_id=f.request.bank_id,
                bank_version=f.request.bank_version or question_fingerprint(q),
                question_id=q.id,
                model=self.embedder.name,
                grader_version=GRADER_VERSION,
                calibration=cal.id,
                guard=guards.heads_version(self.injection_head, self.vague_head),
            ),
        )

    def _misconception_links(self, q: Question) -> dict[str, str]:
        """Which point each misconception denies: the bank's `contradicts`, else the point
        whose phrasings are most like it.

        A misconception is a wrong version of something the rubric says, so an answer that
        states it contradicts that point ("you said X; the rubric says Y")."""
        if not q.misconceptions:
            return {}
        if all(m.contradicts for m in q.misconceptions):
            return {m.id: m.contradicts for m in q.misconceptions if m.contradicts}
        key = question_fingerprint(q)
        cached = self._link_cache.get(key)
        if cached is not None:
            return cached
        mvecs = self.embed_texts([m.text for m in q.misconceptions])
        best = np.full(len(q.misconceptions), -2.0)
        links: dict[str, str] = {}
        for pt in q.points:
            sims = (mvecs @ self.embed_texts(pt.phrasings).T).max(axis=1)
            for j, m in enumerate(q.misconceptions):
                if sims[j] > best[j]:
                    best[j] = sims[j]
                    links[m.id] = pt.id
        links.update({m.id: m.contradicts for m in q.misconceptions if m.contradicts})
        self._link_cache.put(key, links)
        return links

    # --- anchors ----------------------------------------------------------------------

    def _anchors(self, q: Question) -> _Anchors:
        key = question_fingerprint(q)
        cached = self._anchor_cache.get(key)
        if cached is not None:
            return cached
        bare = q.model_copy(update={"examples": ()})
        feats = self.features_many([GradeRequest(bare, ex.answer) for ex in q.examples])
        dim = next((len(ef.answer_vec) for ef in feats if ef.answer_vec is not None), 1)
        vecs = np.stack(
            [
                ef.answer_vec if ef.answer_vec is not None else np.zeros(dim, np.float32)
                for ef in feats
            ]
        )
        built = _Anchors(vecs, [ex.score for ex in q.examples])
        self._anchor_cache.put(key, built)
        return built

    def _anchor(
        self,
        f: GradeFeatures,
        cal: Calibration,
        raw: float,
        points: list[PointResult],
        misconceptions: list[MisconceptionResult],
    ) -> tuple[list[PointResult], list[MisconceptionResult], Anchoring]:
        """Pulls the grade toward close graded examples. Coverages move with the score (one
        ratio for all, `anchors.scaled_to`), so the points covered, the score and its label
        keep agreeing; the unanchored score stays in `anchoring.raw_score`."""
        q = f.request.question
        data = self._anchors(q)
        cap = coverage_cap(f, cal) or 1.0  # anchoring never lifts a capped answer
        assert f.answer_vec is not None
        pull = anchors.neighbour_pull(list(data.vecs @ f.answer_vec), data.scores)
        if pull is not None:
            moved = anchors.scaled_to(
                [p.coverage for p in points],
                [p.weight for p in points],
                anchors.anchored(raw, pull),
                min(cap, 1.0),
            )
            points = [
                p.model_copy(update={"coverage": c, "embedding_coverage": c})
                for p, m in zip(points, moved, strict=True)
                for c in [round(float(m), scoring.ROUND)]
            ]
        points = [
            p
            if p.covered or p.coverage >= cal.evidence_min
            else p.model_copy(update={"evidence": None, "matched": None})
            for p in points
        ]
        nearest = None
        if pull is not None:
            ex = q.examples[pull.nearest]
            nearest = NearestExample(
                index=pull.nearest,
                similarity=round(pull.similarity, scoring.ROUND),
                score=ex.score,
                weight=pull.weight,
                note=ex.note,
                misconception=ex.misconception,
            )
            if ex.misconception and pull.weight >= scoring.COVERED:
                misconceptions = _fire(misconceptions, ex.misconception, f)
        anchoring = Anchoring(
            examples=len(q.examples),
            raw_score=raw,
            nearest=nearest,
        )
        return points, misconceptions, anchoring

    def _rubric_rivals(self, q: Question, vecs: FloatArray, point_sims: np.ndarray) -> np.ndarray:
        """Each span's nearest rubric statement of what is right: the points' phrasings, and
        the sentences of the reference answer. A span at least as near one of those as to a
        wrong claim is not the claim: "Clipping does nothing for vanishing gradients", said in
        a reference answer, sat 0.8 from the claim it denies and fired it."""
        if not q.misconceptions or not len(vecs):
            return point_sims  # nothing to rival
        refs = [s.text for s in split_sentences(q.reference_answer)]
        if not refs:
            return point_sims
        return np.maximum(point_sims, (vecs @ self.embed_texts(refs).T).max(axis=1))

    def _misconception_sims(
        self,
        q: Question,
        spans: list[Span],
        vecs: FloatArray,
        point_sims: np.ndarray,
        sentences: list[Span],
    ) -> list[tuple[float, Span | None, float]]:
        """Each misconception's closest span within one sentence: a wrong claim is made in a
        sentence, and a pair of sentences (one correct) can sit near a claim neither makes."""
        if not q.misconceptions:
            return []
        one = [
            i
            for i, sp in enumerate(spans)
            if sum(s.start < sp.end and sp.start < s.end for s in sentences) <= 1
        ]
        if not one:
            return [(0.0, None, 0.0) for _ in q.misconceptions]
        to_question = vecs[one] @ self.embed_texts([q.prompt])[0]
        # Only spans this near the question can be saying it back; the share of new words is
        # computed for those alone.
        near = {
            j: guards.novel_share(spans[i].text, q.prompt)
            for j, i in enumerate(one)
            if to_question[j] >= guards.RESTATE_SIMILARITY
        }
        out: list[tuple[float, Span | None, float]] = []
        for m in q.misconceptions:
            sims = (vecs[one] @ self.embed_texts(m.phrasings).T).max(axis=1)  # any wording
            # A span that says the question back (`guards.paraphrases_question`, with the wrong
            # claim as the rival) makes no claim: "the batch size is something you pick ..." is
            # not "the batch size is the number of epochs", however many words they share.
            claims = np.array(
                [
                    j
                    for j in range(len(one))
                    if j not in near
                    or not guards.paraphrases_question(
                        to_question=float(to_question[j]),
                        to_rubric=float(sims[j]),
                        novel_share=near[j],
                    )
                ],
                dtype=np.int64,
            )
            if not len(claims):
                out.append((0.0, None, 0.0))
                continue
            k = int(claims[np.argmax(sims[claims])])
            out.append((float(sims[k]), spans[one[k]], float(point_sims[one[k]])))
        return out


def _contradicted(
    points: list[PointResult], misconceptions: list[MisconceptionResult], links: dict[str, str]
) -> list[PointResult]:
    """A point the answer contradicts: it states a misconception that denies the point. Called
    again after anchoring, it leaves a point it already handled as anchoring left it."""
    said = {links[m.id]: m.evidence for m in misconceptions if m.triggered and m.id in links}
    return [
        contradict(p, span)
        if (span := said.get(p.id)) is not None and p.contradiction is None
        else p
        for p in points
    ]


def _fire(
    misconceptions: list[MisconceptionResult], mid: str, f: GradeFeatures
) -> list[MisconceptionResult]:
    """Trigger a misconception a close graded example showed, with the answer's span most like
    the misconception as its evidence."""
    ids = [m.id for m in f.request.question.misconceptions]
    out: list[MisconceptionResult] = []
    for m in misconceptions:
        if m.id == mid and not m.triggered:
            _, span, _ = f.misconception_sims[ids.index(mid)]
            m = m.model_copy(
                update={"triggered": True, "applied_penalty": m.penalty, "evidence": span}
            )
        out.append(m)
    return out


def _recall(phrasing: str, answer_stems: set[str], question_stems: set[str]) -> float:
    """Share of the phrasing's content words found in the answer; the question's own words
    count for little, so repeating the question earns little."""
    wanted = content_stems(phrasing)
    if not wanted:
        return 0.0
    w = np.array([scoring.QUESTION_DEMOTION if s in question_stems else 1.0 for s in wanted])
    hit = np.array([s in answer_stems for s in wanted], dtype=np.float64)
    return float((w * hit).sum() / w.sum())
