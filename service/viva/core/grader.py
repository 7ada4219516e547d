"""Rubric grading by embedding similarity: answer spans against rubric points.

Every answer costs one model pass (span vectors are pooled from its token vectors), and rubric
texts are embedded once per model and cached, so batch grading runs at the model's speed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from viva.core import guards
from viva.core.calibration import Calibration
from viva.core.ports import Embedder, FloatArray, TokenEmbeddings
from viva.core.text import content_stems, segment, window_spans
from viva.domain.models import (
    Flag,
    Grade,
    MisconceptionResult,
    PointResult,
    Provenance,
    Question,
    Span,
)

GRADER_VERSION = "viva-grader/1"
WINDOW_CHARS = 1000  # ~200 word pieces: inside MiniLM's 256-token limit


@dataclass(frozen=True)
class GradeRequest:
    question: Question
    answer: str
    bank_id: str = "adhoc"
    bank_version: str = ""


@dataclass
class _Prepared:
    """What the guards decided before any embedding, and which spans may earn credit."""

    request: GradeRequest
    flags: list[Flag]
    spans: list[Span]
    windows: list[tuple[int, int]]
    keyword_list: bool
    allowed_stems: set[str]


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


def question_fingerprint(question: Question) -> str:
    """A stable version for ad-hoc questions, so their grades are reproducible too."""
    return hashlib.sha256(question.model_dump_json().encode()).hexdigest()[:12]


class Grader:
    def __init__(
        self,
        embedder: Embedder,
        calibration: Calibration | None = None,
        *,
        cache_size: int = 50_000,
        window_chars: int = WINDOW_CHARS,
    ) -> None:
        self.embedder = embedder
        self.calibration = calibration or Calibration()
        self.window_chars = window_chars
        self._cache: OrderedDict[str, FloatArray] = OrderedDict()
        self._cache_size = cache_size

    # --- public -----------------------------------------------------------------------

    def grade(
        self, question: Question, answer: str, *, bank_id: str = "adhoc", bank_version: str = ""
    ) -> Grade:
        return self.grade_many([GradeRequest(question, answer, bank_id, bank_version)])[0]

    def grade_many(self, requests: Sequence[GradeRequest]) -> list[Grade]:
        """Grades in one model batch: answers are embedded together, not one at a time."""
        return [self.from_features(f) for f in self.features_many(requests)]

    def embed_texts(self, texts: Sequence[str]) -> FloatArray:
        """Cached sentence vectors of rubric-side texts (points, alternatives, prompts)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vecs = self.embedder.embed(missing)
            for t, v in zip(missing, vecs, strict=True):
                self._cache[t] = np.asarray(v, dtype=np.float32)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        for t in texts:
            self._cache.move_to_end(t)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    # --- steps ------------------------------------------------------------------------

    def _warm_cache(self, questions: Sequence[Question]) -> None:
        texts: list[str] = []
        for q in {id(q): q for q in questions}.values():
            texts.append(q.prompt)
            for pt in q.points:
                texts.append(pt.text)
                texts.extend(pt.alternatives)
            texts.extend(m.text for m in q.misconceptions)
        self.embed_texts(texts)

    def _prepare(self, r: GradeRequest) -> _Prepared:
        answer = r.answer
        flags: list[Flag] = []
        if guards.is_blank(answer):
            return _Prepared(r, ["empty"], [], [], False, set())
        if guards.is_dont_know(answer):
            return _Prepared(r, ["dont_know"], [], [], False, set())
        injected = guards.injection_spans(answer)
        if injected:
            flags.append("prompt_injection")
        seg = segment(answer)

        def is_injected(sp: Span) -> bool:
            return any(sp.start < j.end and j.start < sp.end for j in injected)

        clean = [sp for sp in seg.spans if not is_injected(sp)]
        spans = [sp for sp in clean if not guards.restates(sp.text, r.question.prompt)]
        if clean and not any(
            not guards.restates(s.text, r.question.prompt)
            for s in seg.sentences
            if not is_injected(s)
        ):
            flags.append("restates_question")
        keyword_list = guards.looks_like_keyword_list(answer)
        if keyword_list:
            flags.append("keyword_list")
        sentences = [s for s in seg.sentences if not is_injected(s)]
        allowed: set[str] = set()
        for s in sentences:
            allowed.update(content_stems(s.text))
        windows = window_spans(answer, sentences, self.window_chars) if spans else []
        return _Prepared(r, flags, spans, windows, keyword_list, allowed)

    def _span_vectors(
        self, p: _Prepared, token_embs: Sequence[TokenEmbeddings]
    ) -> tuple[list[Span], FloatArray]:
        kept: list[Span] = []
        rows: list[FloatArray] = []
        for span in p.spans:
            for (ws, we), te in zip(p.windows, token_embs, strict=True):
                if span.start >= ws and span.end <= we:
                    a, b = span.start - ws, span.end - ws
                    offs = te.offsets
                    mask = (offs[:, 1] > offs[:, 0]) & (offs[:, 0] >= a) & (offs[:, 1] <= b)
                    if mask.any():
                        v = te.vectors[mask].mean(axis=0)
                        norm = float(np.linalg.norm(v))
                        if norm > 0:
                            kept.append(span)
                            rows.append((v / norm).astype(np.float32))
                    break
        if not rows:
            return [], np.zeros((0, 1), dtype=np.float32)
        return kept, np.stack(rows)

    def _features(self, p: _Prepared, token_embs: Sequence[TokenEmbeddings]) -> GradeFeatures:
        q = p.request.question
        spans, vecs = self._span_vectors(p, token_embs)
        q_stems = set(content_stems(q.prompt))
        points: list[PointFeatures] = []
        best_point_sim_per_span = np.full(len(spans), -1.0)
        topical = -1.0
        for pt in q.points:
            phrasings = [pt.text, *pt.alternatives]
            if not spans:
                points.append(PointFeatures({"semantic": 0.0, "lexical": 0.0}, None, None))
                continue
            sims = vecs @ self.embed_texts(phrasings).T  # (spans, phrasings)
            best_point_sim_per_span = np.maximum(best_point_sim_per_span, sims.max(axis=1))
            si, pi = np.unravel_index(int(np.argmax(sims)), sims.shape)
            sim = float(sims[si, pi])
            topical = max(topical, sim)
            lexical = max(_recall(ph, p.allowed_stems, q_stems) for ph in phrasings)
            points.append(
                PointFeatures({"semantic": sim, "lexical": lexical}, spans[si], phrasings[pi])
            )
        if spans:
            q_sim = float((vecs @ self.embed_texts([q.prompt]).T).max())
            topical = max(topical, q_sim)
        return GradeFeatures(
            request=p.request,
            flags=list(p.flags),
            keyword_list=p.keyword_list,
            points=points,
            topical=topical if spans else None,
            misconception_sims=self._misconception_sims(q, spans, vecs, best_point_sim_per_span),
            spans=spans,
        )

    def features_many(self, requests: Sequence[GradeRequest]) -> list[GradeFeatures]:
        """The model-dependent half of grading; `from_features` finishes it for any calibration."""
        prepared = [self._prepare(r) for r in requests]
        self._warm_cache([p.request.question for p in prepared])
        window_texts: list[str] = []
        for p in prepared:
            window_texts.extend(p.request.answer[s:e] for s, e in p.windows)
        token_embs = self.embedder.embed_tokens(window_texts) if window_texts else []
        out: list[GradeFeatures] = []
        pos = 0
        for p in prepared:
            n = len(p.windows)
            out.append(self._features(p, token_embs[pos : pos + n]))
            pos += n
        return out

    def from_features(self, f: GradeFeatures, calibration: Calibration | None = None) -> Grade:
        cal = calibration or self.calibration
        q = f.request.question
        flags = list(f.flags)
        off_topic = f.topical is not None and f.topical < cal.off_topic_threshold
        if off_topic:
            flags.append("off_topic")
        points: list[PointResult] = []
        for pt, pf in zip(q.points, f.points, strict=True):
            if pf.evidence is None or off_topic:
                cov = 0.0
            else:
                cov = cal.coverage(pf.values)
                if f.keyword_list:
                    cov = min(cov, cal.keyword_cap)
            cov = round(cov, 4)
            points.append(
                PointResult(
                    id=pt.id,
                    text=pt.text,
                    weight=pt.weight,
                    coverage=cov,
                    similarity=round(pf.values.get("semantic", 0.0), 4),
                    evidence=pf.evidence if cov >= cal.evidence_min else None,
                    matched=pf.matched if cov >= cal.evidence_min else None,
                    embedding_coverage=cov,
                )
            )
        misconceptions: list[MisconceptionResult] = []
        for m, (sim, span, point_sim) in zip(q.misconceptions, f.misconception_sims, strict=True):
            # A span closer to a rubric point than to the wrong claim is not the claim.
            hit = span is not None and sim >= cal.misconception_threshold and sim > point_sim
            misconceptions.append(
                MisconceptionResult(
                    id=m.id,
                    text=m.text,
                    penalty=m.penalty,
                    similarity=round(sim, 4),
                    triggered=hit,
                    applied_penalty=m.penalty if hit else 0.0,
                    evidence=span if hit else None,
                )
            )
        total_w = sum(pt.weight for pt in points)
        score = sum(pt.weight * pt.coverage for pt in points) / total_w
        score -= sum(m.applied_penalty for m in misconceptions)
        score = round(min(max(score, 0.0), 1.0), 4)
        return Grade(
            question_id=q.id,
            score=score,
            points=points,
            misconceptions=misconceptions,
            flags=flags,
            provenance=Provenance(
                bank_id=f.request.bank_id,
                bank_version=f.request.bank_version or question_fingerprint(q),
                question_id=q.id,
                model=self.embedder.name,
                grader_version=GRADER_VERSION,
                calibration=cal.id,
            ),
        )

    def _misconception_sims(
        self, q: Question, spans: list[Span], vecs: FloatArray, point_sims: np.ndarray
    ) -> list[tuple[float, Span | None, float]]:
        if not q.misconceptions:
            return []
        if not spans:
            return [(0.0, None, 0.0) for _ in q.misconceptions]
        sims = vecs @ self.embed_texts([m.text for m in q.misconceptions]).T
        out: list[tuple[float, Span | None, float]] = []
        for j in range(len(q.misconceptions)):
            i = int(np.argmax(sims[:, j]))
            out.append((float(sims[i, j]), spans[i], float(point_sims[i])))
        return out


def _recall(phrasing: str, answer_stems: set[str], question_stems: set[str]) -> float:
    """Share of the phrasing's own content words (not the question's) found in the answer."""
    wanted = {w for w in content_stems(phrasing) if w not in question_stems}
    if not wanted:
        return 0.0
    return len(wanted & answer_stems) / len(wanted)
