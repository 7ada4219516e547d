"""SciEntsBank's 10-fold agreement and the grader's CPU an answer under each model-batch bucket
size (adapters/onnx_embedder.LENGTH_BUCKET), for the README's note on how much that figure moves.

    for n in 1 4 8 16; do PYTHONPATH=service python bench/bucket_agreement.py $n; done

One size a process: the grader caches rubric vectors, which the bucket size moves.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import viva.adapters.onnx_embedder as onnx_embedder
from viva.adapters.banks import load_bank_file
from viva.cli.main import app
from viva.composition import get_components
from viva.core.grader import GradeRequest

DATA = "../shared/data/asag/semeval2013_scientsbank_2way_train.jsonl"


def cpu_per_answer(tag: str) -> tuple[float, float]:
    """ms of CPU an answer on the Keras bank's examples, graded alone and 15 at a time."""
    grader = get_components().grader
    bank = load_bank_file(Path("rubrics/keras.yaml"))
    reqs = [
        GradeRequest(q.model_copy(update={"examples": ()}), f"{ex.answer} {tag}")
        for q in bank.questions
        for ex in q.examples
    ]
    t0 = time.process_time()
    for r in reqs:
        grader.grade_many([r])
    alone = (time.process_time() - t0) / len(reqs) * 1000
    t0 = time.process_time()
    for i in range(0, len(reqs), 15):
        grader.grade_many([GradeRequest(r.question, r.answer + "b") for r in reqs[i : i + 15]])
    return alone, (time.process_time() - t0) / len(reqs) * 1000


def main(size: int) -> None:
    onnx_embedder.LENGTH_BUCKET = size
    cpu_per_answer("warm")  # the first pass prepares each input shape
    alone, batched = cpu_per_answer("timed")
    print(f"bucket {size}: {alone:.1f} ms CPU an answer alone, {batched:.1f} in batches of 15")
    with contextlib.suppress(SystemExit):
        app(["eval", DATA, "--cross-validate", "question", "--folds", "10"])


if __name__ == "__main__":
    main(int(sys.argv[1]))
