"""Reference-answer mode: rubric points derived from a model answer, for data with no bank."""

from __future__ import annotations

from viva.core.text import content_stems, split_sentences
from viva.domain.models import Question, RubricPoint


def points_from_reference(reference: str) -> tuple[RubricPoint, ...]:
    """One point per sentence of the reference, weighted by how much content it carries.

    The whole reference is offered as an alternative phrasing of each point, so an answer
    that paraphrases the reference as a whole is not penalised for not matching sentence by
    sentence.
    """
    sentences = [s.text for s in split_sentences(reference) if content_stems(s.text)]
    if not sentences:
        text = reference.strip()
        if not text:
            raise ValueError("a reference answer with no words cannot define rubric points")
        sentences = [text]
    if len(sentences) == 1:
        return (RubricPoint(id="r1", text=sentences[0], weight=1.0),)
    return tuple(
        RubricPoint(
            id=f"r{i + 1}",
            text=s,
            weight=float(max(1, len(set(content_stems(s))))),
            alternatives=(),
        )
        for i, s in enumerate(sentences)
    )


def question_from_reference(
    question_id: str, prompt: str, reference: str, topic: str = "general"
) -> Question:
    return Question(
        id=question_id,
        prompt=prompt,
        topic=topic,
        reference_answer=reference,
        points=points_from_reference(reference),
    )
