"""Throughput of `viva grade --engine ray` beside the default engine, on the same answers.

Writes N answers (default 20,000) to a temporary JSONL, each made from a bank's graded examples
(rubrics/*.yaml): a run of an example's sentences with up to two sentences of other examples of
the same question put in, so the answers read like real ones and most are distinct (the
grader caches embeddings by text: repeats would flatter both engines). Then it
runs `viva grade FILE -o out.jsonl` once per engine in a child process, with the real bundled
model, and prints each engine's wall time and answers/s (model load and, for Ray, starting a
local Ray included), the ratio, and whether the two outputs are byte for byte the same.

    python bench/bench_ray.py                  # 20,000 answers (tens of minutes on 2 cores)
    python bench/bench_ray.py --n 2000         # a few minutes
    RAY_ADDRESS=auto python bench/bench_ray.py # the Ray engine on a running cluster
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def answers(bank_file: Path, n: int, seed: int = 11) -> list[dict[str, str]]:
    """`n` answer rows for the bank in `bank_file`, sampled and recombined from its examples."""
    from viva.adapters.banks import load_bank_file

    bank = load_bank_file(bank_file)
    rng = random.Random(seed)
    pools = [(q.id, [ex.answer for ex in q.examples]) for q in bank.questions if q.examples]
    rows = []
    for i in range(n):
        qid, pool = rng.choice(pools)
        sentences = _SENTENCE_END.split(rng.choice(pool))
        start = rng.randrange(len(sentences))  # a run of the example's sentences...
        sentences = sentences[start : rng.randrange(start, len(sentences)) + 1]
        for _ in range(rng.choice((0, 1, 1, 2))):  # ...and a point or two from other answers
            other = _SENTENCE_END.split(rng.choice(pool))
            sentences.insert(rng.randrange(len(sentences) + 1), rng.choice(other))
        rows.append({"id": f"a{i}", "candidate": f"c{i % 500}", "question_id": qid,
                     "answer": " ".join(sentences)})  # fmt: skip
    return rows


def run(data: Path, out: Path, bank: str, engine: str) -> float:
    """Seconds `viva grade` takes in a child process, start-up included."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "service"), env.get("PYTHONPATH")) if p
    )
    cmd = [sys.executable, "-c", "from viva.cli.main import main; main()", "grade", str(data)]
    cmd += ["--bank", bank, "-o", str(out), "--engine", engine]
    start = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"--engine {engine} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="answers to grade (default 20,000)")
    ap.add_argument("--bank", default="keras", help="bank id, a file in rubrics/ (keras)")
    args = ap.parse_args()
    try:
        import ray  # noqa: F401
    except ImportError:
        sys.exit("bench_ray.py needs Ray: pip install 'viva[ray]'")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "answers.jsonl"
        rows = answers(REPO / "rubrics" / f"{args.bank}.yaml", args.n)
        data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        unique = len({(r["question_id"], r["answer"]) for r in rows})
        print(f"{args.n} answers ({unique} distinct) to bank {args.bank}; {os.cpu_count()} CPUs")
        seconds = {}
        for engine in ("default", "ray"):
            seconds[engine] = run(data, Path(tmp) / f"{engine}.jsonl", args.bank, engine)
        same = (Path(tmp) / "default.jsonl").read_bytes() == (Path(tmp) / "ray.jsonl").read_bytes()
    print(f"{'engine':<8} {'seconds':>8} {'answers/s':>10}")
    for engine, s in seconds.items():
        print(f"{engine:<8} {s:>8.1f} {args.n / s:>10.1f}")
    print(f"ray / default throughput: {seconds['default'] / seconds['ray']:.2f}x")
    print(f"outputs byte for byte the same: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
