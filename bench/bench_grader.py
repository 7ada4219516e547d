"""Grader throughput against the model's raw encode throughput, measured side by side.

The model is the cost; everything Viva adds (splitting, guards, alignment, scoring) should be
nearly free. Prints answers per second for both and their ratio (target: >= 0.85).

    make bench                      # 3000 answers
    python bench/bench_grader.py --answers 500 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from viva.adapters.banks import load_bank_file
from viva.adapters.embedder import SentenceTransformerEmbedder
from viva.core.grader import Grader, GradeRequest
from viva.domain.models import Bank

REPO = Path(__file__).resolve().parents[1]
FILLERS = [
    "I think",
    "In my experience,",
    "Basically,",
    "From what I remember,",
    "Honestly,",
    "So,",
]


def realistic_answers(bank: Bank, n: int, seed: int = 7) -> list[GradeRequest]:
    """Answers assembled from each question's rubric phrasings, reference and misconceptions,
    with hedges and varying length: the shape of real candidates' answers."""
    rng = random.Random(seed)
    out: list[GradeRequest] = []
    for _ in range(n):
        q = rng.choice(bank.questions)
        pool = [t for p in q.points for t in (p.text, *p.alternatives)]
        pool += [m.text for m in q.misconceptions]
        pool += [s.strip() + "." for s in q.reference_answer.split(".") if s.strip()]
        k = rng.choice([1, 2, 3, 4, 5, 6])
        parts = [
            f"{rng.choice(FILLERS)} {s[0].lower()}{s[1:]}" if rng.random() < 0.3 else s
            for s in rng.sample(pool, min(k, len(pool)))
        ]
        out.append(GradeRequest(q, " ".join(parts), bank.id, bank.version))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=256, help="answers per grade_many call")
    args = ap.parse_args()

    bank = load_bank_file(REPO / "rubrics" / "keras.yaml")
    requests = realistic_answers(bank, args.answers)
    texts = [r.answer for r in requests]
    embedder = SentenceTransformerEmbedder()
    grader = Grader(embedder)
    grader.grade_many(requests[:64])  # warm up: rubric vectors cached, kernels loaded

    def raw() -> float:
        t = time.perf_counter()
        embedder.embed(texts)
        return time.perf_counter() - t

    def graded() -> float:
        t = time.perf_counter()
        for i in range(0, len(requests), args.chunk):
            grader.grade_many(requests[i : i + args.chunk])
        return time.perf_counter() - t

    raw_times: list[float] = []
    grade_times: list[float] = []
    for _ in range(args.rounds):  # interleaved, so both see the same machine conditions
        raw_times.append(raw())
        grade_times.append(graded())
    raw_best, grade_best = min(raw_times), min(grade_times)
    n = len(requests)
    words = statistics.mean(len(t.split()) for t in texts)
    print(f"answers: {n} (mean {words:.0f} words), rounds: {args.rounds}, model: {embedder.name}")
    print(f"raw encode     : {n / raw_best:8.1f} answers/s  (best {raw_best:.2f} s)")
    print(f"viva grade_many: {n / grade_best:8.1f} answers/s  (best {grade_best:.2f} s)")
    print(f"ratio grader/raw encode: {raw_best / grade_best:.3f}  (target >= 0.85)")


if __name__ == "__main__":
    main()
