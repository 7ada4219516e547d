"""How far Viva agrees with people on the answers they reviewed: the figure a teacher checks
before trusting Viva with the rest. Plain arithmetic on score pairs (core/metrics.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from viva.core import metrics


@dataclass(frozen=True)
class Pair:
    """One reviewed answer: Viva's score and the person's, both in [0, 1]."""

    bank_id: str
    question_id: str
    answer: str
    viva: float
    human: float
    note: str | None = None
    reviewer: str = ""
    item: str | None = None  # the sheet row's id or the interview id

    @property
    def gap(self) -> float:
        return abs(self.viva - self.human)


@dataclass(frozen=True)
class Agreement:
    """Agreement over one group of reviewed answers (a bank or a question)."""

    n: int
    pearson: float  # nan when either side is constant or n < 2
    qwk: float  # quadratic weighted kappa on 0.1 steps
    mae: float
    bias: float  # mean of viva - human: positive when Viva is more generous


def agreement(pairs: Sequence[Pair]) -> Agreement:
    viva = [p.viva for p in pairs]
    human = [p.human for p in pairs]
    n = len(pairs)
    if n == 0:
        nan = float("nan")
        return Agreement(0, nan, nan, nan, nan)
    return Agreement(
        n=n,
        pearson=metrics.pearson(viva, human),
        qwk=metrics.quadratic_weighted_kappa(viva, human),
        mae=sum(p.gap for p in pairs) / n,
        bias=sum(v - h for v, h in zip(viva, human, strict=True)) / n,
    )


@dataclass(frozen=True)
class AgreementReport:
    by_bank: dict[str, Agreement]
    by_question: dict[tuple[str, str], Agreement]
    worst: list[Pair]  # largest disagreement first


def report(pairs: Sequence[Pair], *, worst: int = 10) -> AgreementReport:
    banks: dict[str, list[Pair]] = defaultdict(list)
    questions: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    for p in pairs:
        banks[p.bank_id].append(p)
        questions[(p.bank_id, p.question_id)].append(p)
    return AgreementReport(
        by_bank={b: agreement(ps) for b, ps in sorted(banks.items())},
        by_question={k: agreement(ps) for k, ps in sorted(questions.items())},
        worst=sorted(pairs, key=lambda p: -p.gap)[:worst],
    )
