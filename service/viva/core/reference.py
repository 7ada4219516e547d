"""Reference-answer mode: rubric points derived from a model answer, for data with no bank."""

from __future__ import annotations

from viva.core.text import content_stems
from viva.domain.models import RubricPoint


def points_from_reference(reference: str) -> tuple[RubricPoint, ...]:
    """The whole reference as one point.

    Measured on the public ASAG data, matching the reference as a whole agrees with human
    grades at least as well as splitting it into per-sentence points, and it cannot punish an
    answer for ordering its ideas differently.
    """
    text = " ".join(reference.split())
    if not content_stems(text):
        raise ValueError("a reference answer with no content words cannot define rubric points")
    return (RubricPoint(id="reference", text=text, weight=1.0),)
