"""Peak memory of `viva grade` on a large answer file: it should stay flat as the file grows.

Writes an N-row CSV of short answers (default 1,000,000) to a temporary folder, runs
`viva grade FILE -o out.jsonl` on it with the real bundled model in a child process, samples the
child's resident memory while it runs, and prints the RSS at each tenth of the rows and the
peak. Run it at two sizes: equal peaks mean memory does not grow with the file.

    python bench/batch_memory.py                   # 1,000,000 rows (hours on a small CPU)
    python bench/batch_memory.py --rows 20000      # a few minutes

`--fake-embedder` runs the same `viva grade` pipeline with a fake embedder in place of the model
(bench/fake_embedder_cli.py): pipeline memory with a fake embedder, at ~1,500 rows/s instead of
~30, so a 1,000,000-row file takes minutes. The model's own memory is constant per process.

    python bench/batch_memory.py --fake-embedder --rows 100000
    python bench/batch_memory.py --fake-embedder   # 1,000,000 rows
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ANSWERS = {
    "keras-05": [
        "Dropout zeroes random activations while training so the network overfits less",
        "It switches off some neurons at random during training as regularization",
        "Dropout is only active in training; at inference every unit is kept",
    ],
    "keras-09": [
        "EarlyStopping ends fit when the validation loss stops improving",
        "It watches val_loss and stops after patience epochs without progress",
        "A callback that halts training and can restore the best weights",
    ],
    "keras-01": [
        "Sequential stacks layers one after another with one input and one output",
        "The functional API builds graphs of layers, Sequential only a straight line",
        "I am not sure, something about models",
    ],
}


def write_rows(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    qids = list(ANSWERS)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")  # the Excel style, detected like any other
        w.writerow(["id", "candidate", "question_id", "answer"])
        for i in range(n):
            qid = rng.choice(qids)
            answer = f"{rng.choice(ANSWERS[qid])} ({i})"
            w.writerow([f"r{i}", f"c{i % 5000}", qid, answer])


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class LineCounter:
    """Lines written so far to a growing file, reading only what is new since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.lines = path, 0, 0

    def __call__(self) -> int:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    self.lines += chunk.count(b"\n")
                    self.offset += len(chunk)
        except FileNotFoundError:
            pass
        return self.lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--every", type=float, default=2.0, help="seconds between RSS samples")
    ap.add_argument(
        "--fake-embedder",
        action="store_true",
        help="pipeline memory with a fake embedder (no model): fast enough for 1M rows",
    )
    args = ap.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if args.fake_embedder:
        # One BLAS thread: the fake's small matrix products are slower with more on a busy CPU.
        env |= {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "service"), env.get("PYTHONPATH")) if p
    )
    with tempfile.TemporaryDirectory() as tmp:
        data, out = Path(tmp) / "answers.csv", Path(tmp) / "out.jsonl"
        write_rows(data, args.rows)
        size_mb = data.stat().st_size / 1e6
        what = "a fake embedder (pipeline memory)" if args.fake_embedder else "the bundled model"
        print(f"{args.rows} rows, {size_mb:.1f} MB CSV; grading with {what}")
        if args.fake_embedder:
            cmd = [sys.executable, str(REPO / "bench" / "fake_embedder_cli.py")]
        else:
            cmd = [sys.executable, "-c", "from viva.cli.main import main; main()"]
        cmd += ["grade", str(data), "-o", str(out)]
        start = time.monotonic()
        log = Path(tmp) / "stderr.txt"
        with log.open("wb") as err:  # a file, not a pipe: a full pipe would stall the child
            child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=err)
        count_lines = LineCounter(out)
        peak = 0
        next_mark = 0.1
        while child.poll() is None:
            rss = rss_kib(child.pid)
            peak = max(peak, rss)
            done = count_lines() / args.rows
            if done >= next_mark:
                print(f"  {done:5.0%} of rows written, RSS {rss / 1024:7.1f} MiB")
                next_mark = (int(done * 10) + 1) / 10
            time.sleep(args.every)
        stdout, _ = child.communicate()
        stderr = log.read_bytes()
        elapsed = time.monotonic() - start
        if child.returncode != 0:
            sys.exit(f"viva grade exited {child.returncode}:\n{stderr.decode()[-2000:]}")
        # ru_maxrss of waited-for children (KiB on Linux): the true peak, not just the samples.
        maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(stdout.decode().strip())
        print(
            f"rows {args.rows}  elapsed {elapsed:.0f} s  ({args.rows / elapsed:.0f} rows/s)  "
            f"peak RSS {max(maxrss, peak) / 1024:.1f} MiB"
            + ("  (pipeline memory with a fake embedder)" if args.fake_embedder else "")
        )


if __name__ == "__main__":
    main()
