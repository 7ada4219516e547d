"""Fitting and metrics on plain arrays: no model involved."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from viva.core import scoring
from viva.core.calibration import (
    Calibration,
    Sample,
    best_threshold,
    fit_logistic,
    fit_samples,
    fit_stretch,
    predict,
    predict_scores,
)
from viva.core.metrics import pearson, quadratic_weighted_kappa, rmse, spearman
from viva.core.reference import points_from_reference


def test_coverage_is_monotone_and_bounded() -> None:
    cal = Calibration()
    values = [cal.coverage({"semantic": s, "lexical": 0.5}) for s in np.linspace(-1, 1, 21)]
    assert all(0 <= v <= 1 for v in values)
    assert values == sorted(values)


def test_calibration_round_trips_and_rejects_unknown_features() -> None:
    cal = Calibration(id="x", weights={"semantic": 1.0, "align_recall": 2.0}, bias=-1)
    assert Calibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(ValueError, match="unknown calibration features"):
        Calibration.from_dict({**cal.to_dict(), "weights": {"nope": 1.0}})
    with pytest.raises(ValueError, match="unknown calibration fields"):
        Calibration.from_dict({**cal.to_dict(), "colour": "red"})
    # A stretch below 1 would squeeze covered points toward the line; a text would fail at
    # grading time instead of at start-up.
    for bad in (0.5, -2, "4", None, float("inf")):
        with pytest.raises(ValueError, match="'stretch' must be a number >= 1"):
            Calibration.from_dict({**cal.to_dict(), "stretch": bad})
    assert Calibration.from_dict({**cal.to_dict(), "stretch": 3}).stretch == 3.0
    old_file = {k: v for k, v in cal.to_dict().items() if k != "stretch"}
    assert Calibration.from_dict(old_file).stretch == 1.0  # files from before the stretch


def test_fit_logistic_recovers_a_known_mapping() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(400, 2))
    true_w, true_b = np.array([6.0, -2.0]), -1.5
    y = predict(true_w, true_b, x)
    w, b = fit_logistic(x, y, l2=0.0, iterations=4000)
    assert np.allclose(predict(w, b, x), y, atol=0.02)


def test_fit_samples_handles_multi_point_answers_and_zeroed_ones() -> None:
    rng = np.random.default_rng(1)
    true_w, true_b = np.array([5.0, 3.0]), -4.0
    samples = []
    for _ in range(120):
        x = rng.uniform(0, 1, size=(int(rng.integers(1, 4)), 2))
        wts = rng.uniform(0.5, 2, size=len(x))
        target = float(predict(true_w, true_b, x) @ wts / wts.sum())
        samples.append(Sample(x, wts, target))
    samples.append(Sample(np.ones((1, 2)), np.ones(1), 0.0, zero=True))
    w, b = fit_samples(samples, ["a", "b"], l2=0.0)
    pred = predict_scores(samples, w, b)
    gold = np.array([s.target for s in samples])
    assert pred[-1] == 0.0
    assert np.abs(pred - gold).max() < 0.05


def test_best_threshold_separates_labels() -> None:
    scores = [0.1, 0.2, 0.35, 0.6, 0.7, 0.9]
    labels = [False, False, False, True, True, True]
    t, f1 = best_threshold(scores, labels)
    assert 0.35 < t <= 0.6
    assert f1 == 1.0


def test_metrics_against_known_values() -> None:
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert pearson(x, [2 * v + 1 for v in x]) == pytest.approx(1.0)
    assert pearson(x, [-v for v in x]) == pytest.approx(-1.0)
    assert spearman(x, [1, 4, 9, 16, 25]) == pytest.approx(1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)
    assert rmse([0, 0], [3, 4]) == pytest.approx(np.sqrt(12.5))
    assert quadratic_weighted_kappa([0, 0.5, 1], [0, 0.5, 1]) == pytest.approx(1.0)
    assert quadratic_weighted_kappa([0, 0, 1, 1], [1, 1, 0, 0]) < 0
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))


def test_reference_becomes_one_point_and_blank_reference_is_refused() -> None:
    pts = points_from_reference("  To simulate   portions of the desired product.  ")
    assert [(p.id, p.text) for p in pts] == [
        ("reference", "To simulate portions of the desired product.")
    ]
    with pytest.raises(ValueError):
        points_from_reference("  ... ")


def test_floor_zeroes_coverage_below_what_unrelated_answers_get() -> None:
    from viva.core import scoring
    from viva.core.calibration import null_floor

    rng = np.random.default_rng(2)
    null = rng.uniform(0.1, 0.3, 1000)  # coverage of points by answers to other questions
    floor = null_floor(null)
    assert floor == pytest.approx(0.1 + 0.2 * scoring.NULL_QUANTILE, abs=0.01)
    cal = Calibration(weights={"lexical": 6.0, "align_recall": 2.0}, bias=-4.0, floor=floor)
    assert cal.coverage({"lexical": 0.1, "align_recall": 0.1}) == 0.0  # "not made", not 3%
    made = cal.coverage({"lexical": 0.9, "align_recall": 0.9})
    assert made == pytest.approx(1 / (1 + np.exp(-(6 * 0.9 + 2 * 0.9 - 4))))  # unchanged above
    # Fitting sees the same floor as serving.
    x = np.array([[0.1, 0.1], [0.9, 0.9]])
    sample = Sample(x, np.ones(2), 0.0)
    (served,) = predict_scores([sample], np.array([6.0, 2.0]), -4.0, floor)
    assert served == pytest.approx(made / 2)


def test_misconception_threshold_is_the_lowest_with_enough_precision() -> None:
    from viva.core import scoring
    from viva.core.calibration import fit_misconception_threshold

    # Tagged examples sit at 0.70-0.90; untagged ones reach 0.72 (one false fire below 0.75).
    sims = [0.90, 0.80, 0.75, 0.70, 0.72, 0.60, 0.50, 0.95]
    point_sims = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.99]  # the last is closer to a point
    shown = [True, True, True, True, False, False, False, False]
    t, recall = fit_misconception_threshold(sims, point_sims, shown)
    assert t == 0.75 and recall == 0.75  # 0.70 would let the untagged 0.72 fire: precision 0.8
    assert scoring.MISCONCEPTION_PRECISION > 0.8
    never, r0 = fit_misconception_threshold([0.9, 0.8], [0.1, 0.1], [False, True])
    assert (never, r0) == (1.0, 0.0)


def test_misconception_threshold_stays_above_every_strong_answer() -> None:
    """Precision alone let a misconception fire on a bank's best answer, sitting exactly at the
    threshold; an answer people graded as strong must never be told it said something wrong."""
    from viva.core.calibration import fit_misconception_threshold

    tagged = [0.95, 0.94, 0.93, 0.92, 0.91, 0.90, 0.89, 0.88, 0.84, 0.75]
    sims = [*tagged, 0.60, 0.83]  # an untagged weak answer, then the bank's best answer
    point_sims = [0.5] * 12
    shown = [True] * 10 + [False, False]
    strong = [False] * 11 + [True]
    loose, _ = fit_misconception_threshold(sims, point_sims, shown)
    assert loose == 0.75  # 10 of 11 firings right: precision alone lets 0.83 fire
    strict, recall = fit_misconception_threshold(sims, point_sims, shown, strong)
    assert strict == 0.8301 and recall == pytest.approx(0.9)
    # A strong answer closer to a rubric point than to the claim never fires anyway.
    closer, _ = fit_misconception_threshold(sims, [0.5] * 11 + [0.99], shown, strong)
    assert closer == 0.6  # and then only the weak answer is a false firing: 10 of 11


def test_a_calibration_id_covers_every_fitted_value() -> None:
    """Refitting only the misconception threshold once kept the old id: two calibrations that
    grade differently must not share the id stamped into grades."""
    from dataclasses import replace

    from viva.core.calibration import Calibration, stamped

    a = stamped(Calibration(weights={"semantic": 3.0}, bias=-1.0, floor=0.2))
    assert a.id.startswith("fit-") and stamped(a).id == a.id  # the same values, the same id
    for change in ({"misconception_threshold": 0.83}, {"floor": 0.21}, {"pass_threshold": 0.4}):
        assert stamped(replace(a, **change)).id != a.id
    assert stamped(replace(a, fitted_on="other words")).id == a.id  # a note, not a value


def test_a_margin_lets_a_lower_threshold_keep_its_precision() -> None:
    """Sentences about the topic sit near both a point and the wrong claim; a sentence stating
    the claim sits clearly nearer the claim. The fitted margin tells them apart, so the
    threshold can come down and catch more of the claims."""
    from viva.core.calibration import fit_misconception_rule, fit_misconception_threshold

    # Six tagged answers: three clear (0.90 vs points 0.60), three paraphrased (0.80 vs 0.60).
    # Four untagged answers on the topic: 0.81-0.84 from the claim, but 0.80 from a point.
    sims = [0.90, 0.90, 0.90, 0.80, 0.80, 0.80, 0.84, 0.83, 0.82, 0.81]
    point_sims = [0.60] * 6 + [0.80] * 4
    shown = [True] * 6 + [False] * 4
    t0, r0 = fit_misconception_threshold(sims, point_sims, shown)
    assert (t0, r0) == (0.9, 0.5)  # without a margin only the clear half is safe to fire
    t, margin, recall = fit_misconception_rule(sims, point_sims, shown)
    assert (t, recall) == (0.8, 1.0) and 0.04 <= margin < 0.2  # the smallest margin that works


def test_the_stretch_moves_only_covered_points_and_keeps_their_order() -> None:
    p = np.linspace(0.0, 1.0, 201)
    out = scoring.stretched(p, 4.0)
    below = p <= scoring.COVERED
    np.testing.assert_array_equal(out[below], p[below])  # missed and partial points unchanged
    assert np.all(np.diff(out) >= 0) and np.all(out[~below] > p[~below] - 1e-12)
    # Which points are covered never changes, so no wrong statement gains a point.
    assert [scoring.is_covered(x) for x in out] == [scoring.is_covered(x) for x in p]
    assert out[p == 0.6][0] == pytest.approx(1 / (1 + (0.4 / 0.6) ** 4))  # logit x 4
    np.testing.assert_array_equal(scoring.stretched(p, 1.0), p)


def test_the_stretch_is_served_as_it_is_fitted() -> None:
    cal = Calibration(weights={"align_recall": 4.0}, bias=-2.0, floor=0.3, stretch=3.0)
    rng = np.random.default_rng(5)
    samples = [
        Sample(x=rng.uniform(0, 1, size=(3, 1)), weights=np.array([1.0, 2.0, 1.0]), target=0.0)
        for _ in range(20)
    ]
    fitted = predict_scores(samples, np.array([4.0]), -2.0, 0.3, 3.0)
    served = [
        sum(
            w * cal.coverage({"align_recall": float(r)})
            for r, w in zip(s.x[:, 0], s.weights, strict=True)
        )
        / s.weights.sum()
        for s in samples
    ]
    np.testing.assert_allclose(fitted, served, atol=1e-9)
    assert not np.allclose(fitted, predict_scores(samples, np.array([4.0]), -2.0, 0.3))


def test_the_stretch_fit_finds_the_stretch_people_agree_with() -> None:
    rng = np.random.default_rng(3)
    samples = [
        Sample(x=rng.uniform(0, 1, size=(4, 1)), weights=np.ones(4), target=0.0) for _ in range(60)
    ]
    cal = Calibration(weights={"align_recall": 3.0}, bias=-1.5)

    def scores_under(c: Calibration) -> np.ndarray:
        w = np.array([c.weights["align_recall"]])
        return predict_scores(samples, w, c.bias, c.floor, c.stretch)

    people = scores_under(replace(cal, stretch=2.5))
    fitted, before, after = fit_stretch(cal, scores_under, list(people))
    assert fitted.stretch == 2.5 and after == 0.0 and before > 0.0
    # People who score like the unstretched grader get no stretch: 1 is kept on a tie.
    same, _, _ = fit_stretch(cal, scores_under, list(scores_under(cal)))
    assert same.stretch == 1.0
