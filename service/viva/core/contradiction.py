"""What a point the answer states the opposite of becomes: one rule for both judges.

The embedding grader finds a contradiction through a fired misconception that denies a point;
an LLM review finds one as a "contradicted" verdict with a literal quote. Either way the grade
must say "you said X; the rubric says Y", and the wrong statement must not earn the point.
"""

from __future__ import annotations

from viva.domain.models import PointResult, Span


def contradict(point: PointResult, said: Span, *, keep_embedding: bool = False) -> PointResult:
    """Record what was said against the point. When that statement was the point's own
    evidence (or the point has none), the point earns nothing and shows no evidence: a wrong
    statement in the rubric's words is not coverage. Coverage from another sentence stays.

    `keep_embedding` keeps `embedding_coverage` as it was, so an LLM review still shows what
    the embedding grade said before it.
    """
    if point.contradiction is not None and point.contradiction != said:
        return point  # the first statement found against it is the one shown
    # The same statement again is applied again: folding one LLM review in twice gives the
    # grade that folding it in once gives.
    update: dict[str, object] = {"contradiction": said}
    ev = point.evidence
    if ev is None or ev.overlaps(said):
        update.update(coverage=0.0, evidence=None, matched=None)
        if not keep_embedding:
            update["embedding_coverage"] = 0.0
    return point.model_copy(update=update)
