"""Backends and API batching, side by side in one run, on the same realistic answers.

1. Raw encoding (`embed` of the answers) and `grade_many` throughput with each embedding backend
   (torch fp32, onnx int8, openvino int8), and the cosine of their sentence vectors to the first
   backend's: the ratio is the speed-up, the cosine what it costs.
2. The API (`POST /v1/grade`, a real uvicorn server in this process) under N concurrent clients,
   with request batching on and off, against batch grading (`grade_many`) of the same answers.

Answers are examples/answers.jsonl, each made unique per request by a short suffix so no cache
serves them; rubric texts are embedded once before timing (as on a warm server).

    python bench/bench_backends.py                     # every backend that is installed
    python bench/bench_backends.py --copies 2 --clients 32 --backends onnx
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import uvicorn

from startup import installed_backends  # bench/startup.py, next to this script
from viva.adapters.banks import BankRepository
from viva.api import create_app
from viva.composition import shared_embedder
from viva.core.grader import Grader, GradeRequest
from viva.core.ports import Embedder
from viva.settings import Settings

REPO = Path(__file__).resolve().parents[1]


def load_answers(copies: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in (REPO / "examples" / "answers.jsonl").open()]
    return [
        (r["question_id"], f"{r['answer']} (take {i})")
        for i in range(copies)
        for r in rows
        if r.get("answer")
    ]


def settings(backend: str, data_dir: Path, **kw: object) -> Settings:
    return Settings(
        embedding_backend=backend,
        data_dir=data_dir,
        rubrics_dir=REPO / "rubrics",
        calibration_file=None,
        llm_model=None,
        **kw,  # type: ignore[arg-type]
    )


def warm_answers(answers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One real answer per question, made unique: grading it embeds the rubric and the graded
    examples (a one-off per question that a vague answer like "warm up" can skip)."""
    first = {q: a for q, a in reversed(answers)}
    return [(q, f"{a} (warm)") for q, a in sorted(first.items())]


def warm(grader: Grader, banks: BankRepository, answers: list[tuple[str, str]]) -> None:
    bank = banks.get("keras")
    for q, a in warm_answers(answers):
        grader.grade(bank.question(q), a, bank_id="keras", bank_version=bank.version)


def grade_many_rate(grader: Grader, banks: BankRepository, answers: list[tuple[str, str]]) -> float:
    bank = banks.get("keras")
    reqs = [GradeRequest(bank.question(q), a, "keras", bank.version) for q, a in answers]
    t0 = time.perf_counter()
    grader.grade_many(reqs)
    return len(reqs) / (time.perf_counter() - t0)


def encode_rate(emb: Embedder, texts: list[str], rounds: int = 3) -> float:
    """Sentence vectors per second, best of `rounds` (the embedder itself caches nothing)."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        emb.embed(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def post(base: str, body: dict[str, str]) -> float:
    req = urllib.request.Request(
        base + "/v1/grade",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as resp:
        resp.read()
        assert resp.status == 200
    return time.perf_counter() - t0


def api_run(s: Settings, answers: list[tuple[str, str]], clients: int) -> dict[str, float]:
    """Answers/s and latency percentiles of `clients` concurrent clients against one server."""
    app = create_app(s)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    while True:  # the model loads in the background: wait for /readyz
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    try:
        for q, a in warm_answers(answers):  # rubric and examples cached, as on a warm server
            post(base, {"answer": a, "bank_id": "keras", "question_id": q})
        bodies = [{"answer": a, "bank_id": "keras", "question_id": q} for q, a in answers]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            lat = list(pool.map(lambda b: post(base, b), bodies))
        wall = time.perf_counter() - t0
    finally:
        server.should_exit = True
        thread.join(30)
    lat.sort()
    return {
        "rate": len(bodies) / wall,
        "p50_ms": 1000 * statistics.median(lat),
        "p95_ms": 1000 * lat[int(0.95 * (len(lat) - 1))],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=2, help="copies of the 30 example answers")
    ap.add_argument("--backends", default=installed_backends(), help="first is the baseline")
    ap.add_argument("--clients", default="1,8,32", help="concurrent API clients, comma-separated")
    ap.add_argument("--api-backend", default="", help="backend for the API part (default: last)")
    args = ap.parse_args()
    answers = load_answers(args.copies)
    backends = [b for b in args.backends.split(",") if b]
    data_dir = Path(os.environ.get("VIVA_DATA_DIR") or tempfile.mkdtemp(prefix="viva-bench-"))
    banks = BankRepository(REPO / "rubrics")
    print(f"{len(answers)} answers; cpu count {os.cpu_count()}")

    rates: dict[str, float] = {}
    encodes: dict[str, float] = {}
    vecs: dict[str, np.ndarray] = {}
    texts = [a for _, a in answers]
    for b in backends:
        emb = shared_embedder(settings(b, data_dir))
        grader = Grader(emb)
        warm(grader, banks, answers)
        encodes[b] = encode_rate(emb, texts)
        rates[b] = grade_many_rate(grader, banks, answers)
        vecs[b] = emb.embed(texts[:60])
        print(f"encode      {emb.name:55s} {encodes[b]:7.1f} texts/s")
        print(f"grade_many  {emb.name:55s} {rates[b]:7.1f} answers/s")
    base = backends[0]
    for b in backends[1:]:
        cos = (vecs[b] * vecs[base]).sum(axis=1)
        print(
            f"ratio       {b} / {base}: {encodes[b] / encodes[base]:.2f}x encode, "
            f"{rates[b] / rates[base]:.2f}x grade_many; sentence "
            f"cosine to {base} mean {cos.mean():.4f}, min {cos.min():.4f}"
        )

    api_backend = args.api_backend or backends[-1]
    batch_rate = rates[api_backend]
    print(f"\nAPI, backend {api_backend}; batch grading (grade_many) {batch_rate:.1f} answers/s")
    for n in [int(c) for c in args.clients.split(",")]:
        for max_batch in (32, 1):
            s = settings(api_backend, data_dir, grade_batch_max=max_batch)
            r = api_run(s, answers, n)
            label = "batching on " if max_batch > 1 else "batching off"
            print(
                f"api {n:3d} clients, {label}: {r['rate']:7.1f} answers/s = "
                f"{r['rate'] / batch_rate:.2f}x batch; p50 {r['p50_ms']:.0f} ms, "
                f"p95 {r['p95_ms']:.0f} ms"
            )
            if n == 1:
                break  # one client: nothing to coalesce


if __name__ == "__main__":
    main()
