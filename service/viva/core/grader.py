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
        prepared = [self._prepare(r) for r in requests]
        self._warm_cache([p.request.question for p in prepared])
        window_texts: list[str] = []
        for p in prepared:
            window_texts.extend(p.request.answer[s:e] for s, e in p.windows)
        token_embs = self.embedder.embed_tokens(window_texts) if window_texts else []
        out: list[Grade] = []
        pos = 0
        for p in prepared:
            n = len(p.windows)
            out.append(self._score(p, token_embs[pos : pos + n]))
            pos += n
        return out

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

    def _score(self, p: _Prepared, token_embs: Sequence[TokenEmbeddings]) -> Grade:
        q = p.request.question
        cal = self.calibration
        flags = list(p.flags)
        spans, vecs = self._span_vectors(p, token_embs)
        q_stems = set(content_stems(q.prompt))

        points: list[PointResult] = []
        best_point_sim_per_span = np.full(len(spans), -1.0)
        topical = -1.0
        for pt in q.points:
            phrasings = [pt.text, *pt.alternatives]
            if not spans:
                points.append(
                    PointResult(id=pt.id, text=pt.text, weight=pt.weight, coverage=0.0,
                                similarity=0.0, embedding_coverage=0.0)
                )
                continue
            sims = vecs @ self.embed_texts(phrasings).T  # (spans, phrasings)
            best_per_span = sims.max(axis=1)
            best_point_sim_per_span = np.maximum(best_point_sim_per_span, best_per_span)
            si, pi = np.unravel_index(int(np.argmax(sims)), sims.shape)
            sim = float(sims[si, pi])
            topical = max(topical, sim)
            lexical = max(_recall(ph, p.allowed_stems, q_stems) for ph in phrasings)
            cov = cal.coverage({"semantic": sim, "lexical": lexical})
            if p.keyword_list:
                cov = min(cov, cal.keyword_cap)
            cov = round(cov, 4)
            points.append(
                PointResult(
                    id=pt.id, text=pt.text, weight=pt.weight, coverage=cov,
                    similarity=round(sim, 4),
                    evidence=spans[si] if cov >= cal.evidence_min else None,
                    matched=phrasings[pi], embedding_coverage=cov,
                )
            )

        if spans:
            q_sim = float((vecs @ self.embed_texts([q.prompt]).T).max())
            topical = max(topical, q_sim)
            if topical < cal.off_topic_threshold:
                flags.append("off_topic")
                points = [pt.model_copy(update={"coverage": 0.0, "evidence": None,
                                                "embedding_coverage": 0.0}) for pt in points]

        misconceptions = self._misconceptions(q, spans, vecs, best_point_sim_per_span)
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
                bank_id=p.request.bank_id,
                bank_version=p.request.bank_version or question_fingerprint(q),
                question_id=q.id,
                model=self.embedder.name,
                grader_version=GRADER_VERSION,
                calibration=cal.id,
            ),
        )

    def _misconceptions(
        self, q: Question, spans: list[Span], vecs: FloatArray, point_sims: np.ndarray
    ) -> list[MisconceptionResult]:
        out: list[MisconceptionResult] = []
        if not q.misconceptions:
            return out
        mvecs = self.embed_texts([m.text for m in q.misconceptions])
        for j, m in enumerate(q.misconceptions):
            if not spans:
                out.append(MisconceptionResult(id=m.id, text=m.text, penalty=m.penalty,
                                               similarity=0.0, triggered=False))
                continue
            sims = vecs @ mvecs[j]
            i = int(np.argmax(sims))
            sim = float(sims[i])
            # A span that is closer to a rubric point than to the wrong claim is not the claim.
            triggered = sim >= self.calibration.misconception_threshold and sim > point_sims[i]
            out.append(
                MisconceptionResult(
                    id=m.id, text=m.text, penalty=m.penalty, similarity=round(sim, 4),
                    triggered=triggered, applied_penalty=m.penalty if triggered else 0.0,
                    evidence=spans[i] if triggered else None,
                )
            )
        return out


def _recall(phrasing: str, answer_stems: set[str], question_stems: set[str]) -> float:
    """Share of the phrasing's own content words (not the question's) found in the answer."""
    wanted = {w for w in content_stems(phrasing) if w not in question_stems}
    if not wanted:
        return 0.0
    return len(wanted & answer_stems) / len(wanted)
