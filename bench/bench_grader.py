"""Grader throughput against the model's raw encode throughput, measured side by side.

The model is the cost; everything Viva adds (splitting, guards, alignment, anchors, scoring)
should cost little next to it. Each round grades fresh answers with a fresh grader (no cache
stays warm across rounds: rubric vectors and graded examples are embedded again), and encodes
the same answers raw. Prints answers per second for both, their ratio (target: >= 0.4) and
where the grader's time goes. Each answer carries the bank's other questions, as `viva grade`
gives them, so an answer that earns nothing is also read against them (`other_question`).

    make bench                      # 3000 answers a round
    python bench/bench_grader.py --answers 500 --rounds 2
    python bench/bench_grader.py --compare-siblings   # and the same rounds without siblings
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from viva.adapters.banks import load_bank_file
from viva.adapters.calibration_file import load_calibration
from viva.adapters.embedder import SentenceTransformerEmbedder
from viva.core.grader import Grader, GradeRequest
from viva.domain.models import Bank

REPO = Path(__file__).resolve().parents[1]
HEDGES = ["I think", "In my experience,", "Basically,", "From what I remember,", "So,"]


def realistic_answers(bank: Bank, n: int, seed: int) -> list[GradeRequest]:
    """Candidate-style answers: sentences of the bank's graded example answers (written as
    candidates write, across the whole range from excellent to wrong), recombined within a
    question with hedges and varying length. Never rubric sentences."""
    rng = random.Random(seed)
    by_q = {
        q.id: [s.strip() for ex in q.examples for s in ex.answer.split(". ") if s.strip()]
        for q in bank.questions
    }
    questions = [q for q in bank.questions if by_q[q.id]]
    out: list[GradeRequest] = []
    for _ in range(n):
        q = rng.choice(questions)
        pool = by_q[q.id]
        parts = [
            f"{rng.choice(HEDGES)} {s[0].lower()}{s[1:]}" if rng.random() < 0.3 else s
            for s in rng.sample(pool, min(rng.randint(1, 5), len(pool)))
        ]
        answer = ". ".join(p.rstrip(".") for p in parts) + "."
        out.append(GradeRequest(q, answer, bank.id, bank.version, bank.siblings(q.id)))
    return out


class TimedEmbedder:
    """The real embedder, timing every call, to say what the model costs inside grading."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0

    def _timed(self, fn, texts):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        try:
            return fn(texts)
        finally:
            self.seconds += time.perf_counter() - t

    def embed(self, texts):  # type: ignore[no-untyped-def]
        return self._timed(self.inner.embed, texts)

    def embed_tokens(self, texts):  # type: ignore[no-untyped-def]
        return self._timed(self.inner.embed_tokens, texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=256, help="answers per grade_many call")
    ap.add_argument(
        "--compare-siblings",
        action="store_true",
        help="also grade each round without the bank's other questions, and print the ratio",
    )
    args = ap.parse_args()

    bank = load_bank_file(REPO / "rubrics" / "keras.yaml")
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up the kernels"])
    cal = load_calibration(None)

    raw_times: list[float] = []
    grade_times: list[float] = []
    model_times: list[float] = []
    words: list[float] = []
    alone_times: list[float] = []
    for r in range(args.rounds):  # interleaved, so both see the same machine conditions
        requests = realistic_answers(bank, args.answers, seed=1000 + r)  # fresh answers
        texts = [q.answer for q in requests]
        words.append(statistics.mean(len(t.split()) for t in texts))
        t = time.perf_counter()
        embedder.embed(texts)
        raw_times.append(time.perf_counter() - t)
        timed = TimedEmbedder(embedder)
        grader = Grader(timed, cal)  # fresh caches
        t = time.perf_counter()
        for i in range(0, len(requests), args.chunk):
            grader.grade_many(requests[i : i + args.chunk])
        grade_times.append(time.perf_counter() - t)
        model_times.append(timed.seconds)
        if args.compare_siblings:
            alone = [replace(q, siblings=()) for q in requests]
            grader = Grader(embedder, cal)
            t = time.perf_counter()
            for i in range(0, len(alone), args.chunk):
                grader.grade_many(alone[i : i + args.chunk])
            alone_times.append(time.perf_counter() - t)
    best = min(range(args.rounds), key=lambda i: grade_times[i])
    raw_best, grade_best = min(raw_times), grade_times[best]
    n = args.answers
    print(
        f"answers: {n} a round, fresh each round (mean {statistics.mean(words):.0f} words), "
        f"rounds: {args.rounds}, model: {embedder.name}, calibration: {cal.id}"
    )
    print(f"raw encode     : {n / raw_best:8.1f} answers/s  (best {raw_best:.2f} s)")
    print(f"viva grade_many: {n / grade_best:8.1f} answers/s  (best {grade_best:.2f} s)")
    model = model_times[best]
    print(
        f"  of which model passes {model:.2f} s ({model / grade_best:.0%}: one pass per "
        f"sentence, rubric and graded examples once), the rest {grade_best - model:.2f} s "
        "(splitting, guards, alignment, anchors, scoring)"
    )
    print(f"ratio grader/raw encode: {raw_best / grade_best:.3f}  (target >= 0.4)")
    if alone_times:
        alone_best = min(alone_times)
        print(
            f"without siblings: {n / alone_best:8.1f} answers/s (best {alone_best:.2f} s); "
            f"with/without: {alone_best / grade_best:.3f}"
        )


if __name__ == "__main__":
    main()
