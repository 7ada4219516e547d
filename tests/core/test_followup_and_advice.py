"""Follow-ups, grade merging and the advising report: pure functions on hand-made grades."""

from __future__ import annotations

from viva.core import followup
from viva.core.report import build_report, gist
from viva.domain.models import (
    Grade,
    Misconception,
    MisconceptionResult,
    PointResult,
    Provenance,
    Question,
    QuestionReport,
    RubricPoint,
    Span,
)

Q = Question(
    id="q1",
    prompt="Why use dropout?",
    topic="regularisation",
    reference_answer="Dropout zeroes random units while training, so the net cannot co-adapt.",
    points=(
        RubricPoint(id="what", text="Dropout zeroes a random share of units during training."),
        RubricPoint(
            id="why",
            text="The network cannot rely on any single unit, so it generalises better.",
            weight=2,
            followups=("What happens to a unit's neighbours when it is dropped?",),
            learn=("https://keras.io/api/layers/regularization_layers/dropout/",),
        ),
        RubricPoint(id="eval", text="At inference dropout is off and nothing is dropped."),
    ),
    misconceptions=(
        Misconception(id="always", text="Dropout stays on at test time.", contradicts="eval"),
    ),
    followups=("Where in a network would you put dropout?",),
)


def grade(cov: dict[str, float], score: float | None = None, **kw: object) -> Grade:
    points = [
        PointResult(
            id=p.id,
            text=p.text,
            weight=p.weight,
            coverage=cov.get(p.id, 0.0),
            similarity=0.5,
            evidence=Span(text=f"said {p.id}", start=0, end=7) if cov.get(p.id, 0) >= 0.5 else None,
        )
        for p in Q.points
    ]
    s = score if score is not None else sum(p.weight * p.coverage for p in points) / 4
    prov = Provenance(
        bank_id="b", bank_version="1", question_id="q1", model="m", grader_version="g",
        calibration="c",
    )  # fmt: skip
    return Grade(question_id="q1", score=s, points=points, provenance=prov, **kw)  # type: ignore[arg-type]


def test_the_heaviest_missed_point_with_its_own_follow_up_is_probed() -> None:
    fu = followup.choose(Q, [grade({"what": 0.9})])
    assert fu is not None and fu.id == "q1~f1" and fu.point_ids == ("why",)
    assert fu.prompt.startswith("What happens")
    # "why" covered: the question's own follow-up probes every point still missed
    fu = followup.choose(Q, [grade({"why": 0.9})])
    assert fu is not None and fu.prompt.startswith("Where") and fu.point_ids == ("what", "eval")
    assert followup.choose(Q, [grade({"what": 1, "why": 1, "eval": 1})]) is None
    assert followup.choose(Q, [grade({}, flags=["dont_know"])]) is None
    assert followup.parent_of("q1~f1") == "q1" and followup.parent_of("q1") is None


def test_the_follow_up_is_graded_on_the_missing_points_and_joins_the_parent() -> None:
    fu = followup.choose(Q, [grade({"what": 0.9})])
    assert fu is not None
    fq = followup.as_question(Q, fu, ["why", "eval"])
    assert [p.id for p in fq.points] == ["why", "eval"] and fq.id == "q1~f1"
    assert fq.misconceptions[0].contradicts == "eval" and fq.examples == ()
    fq2 = followup.as_question(Q, fu, ["why"])
    assert fq2.misconceptions[0].contradicts is None  # its point is no longer asked
    main = grade({"what": 0.9}, score=0.225)
    follow = grade({"why": 0.8})
    merged = followup.merge(main, follow)
    cov = {p.id: p.coverage for p in merged.points}
    assert cov == {"what": 0.9, "why": 0.8, "eval": 0.0}
    assert merged.score == 0.625 and merged.score >= main.score
    assert followup.earned(main, follow) == ["why"]
    assert followup.merge(main, grade({})).score == main.score  # never lower


def test_the_better_try_counts_and_a_tie_keeps_the_first() -> None:
    assert followup.best_attempt([grade({}, score=0.3), grade({}, score=0.6)]) == 1
    assert followup.best_attempt([grade({}, score=0.6), grade({}, score=0.6)]) == 0


def test_gist_says_a_rubric_sentence_short() -> None:
    assert gist("The network cannot rely on any single unit, so it generalises better.") == (
        "the network cannot rely on any single unit"
    )
    long = "Keras is a high-level API that provides ready-made layers losses optimizers and more"
    assert gist(long).endswith("…") and len(gist(long).split()) == 12


def _item(qid: str, g: Grade | None, status: str = "answered") -> QuestionReport:
    return QuestionReport(
        question_id=qid, prompt=f"Prompt {qid}?", topic="regularisation", difficulty="easy",
        status=status, answer="x" if g else None, grade=g, reference_answer=Q.reference_answer,
    )  # fmt: skip


def test_the_report_advises_in_plain_words_with_links_and_misconceptions() -> None:
    wrong = MisconceptionResult(
        id="always", text="Dropout stays on at test time.", penalty=0.1, similarity=0.9,
        triggered=True, applied_penalty=0.1,
        evidence=Span(text="dropout also runs when predicting", start=0, end=33),
    )  # fmt: skip
    g = grade({"what": 0.9}, misconceptions=[wrong])
    skipped_q = Q.model_copy(update={"id": "q2"})
    report = build_report(
        [_item("q1", g), _item("q2", None, "skipped")],
        bank_id="b",
        bank_version="1",
        topic_names={"regularisation": "Regularisation"},
        questions={"q1": Q, "q2": skipped_q},
    )
    [topic] = report.topics
    assert topic.name == "Regularisation"
    assert topic.verdict.startswith(f"{topic.label.capitalize()} ({topic.score:.0%})")
    assert "1 question skipped" in topic.verdict
    assert topic.did_well == ["“said what”"]
    assert "the network cannot rely on any single unit" in topic.study
    assert any("you skipped" in s for s in topic.study)
    texts = [s.text for s in report.study_next]
    assert texts[0].startswith("Regularisation: unlearn “dropout also runs when predicting”")
    assert any(s.question_id == "q2" and "you skipped it" in s.text for s in report.study_next)
    q1 = next(s for s in report.study_next if s.question_id == "q1" and "unlearn" not in s.text)
    assert q1.learn == ["https://keras.io/api/layers/regularization_layers/dropout/"]
    long = Q.points[1].text.rstrip(".")  # a sentence with a clause to cut
    assert all(long not in s.text for s in report.study_next)  # notes, not the rubric copied
    assert any(gist(long) in s.text for s in report.study_next)
    [note] = report.misconceptions
    assert note.said == "dropout also runs when predicting"
    assert note.in_fact == "At inference dropout is off and nothing is dropped"
    assert report.questions[0].topic_name == "Regularisation"
