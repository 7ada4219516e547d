"""The API as deployed against batch grading, side by side in one run, on the same answers.

The server is the real thing in its own process (`viva serve` on a free loopback port, auth off
as on loopback, VIVA_DATA_DIR in a temporary folder); the clients are one asyncio loop in this
process (raw HTTP/1.1 with keep-alive: one connection per client, little CPU), so clients and
server do not share a GIL. Each round grades the answers of `bench_backends.load_answers` with
`grade_many` here (same backend) and then through `POST /v1/grade` with 1, 8 and 32 concurrent
clients; every round tags the answers anew (" rN") so no cache serves a repeat. The figures are
medians over the rounds. CPU ms per answer (process CPU time: the server's from /proc, batch
grading's from this process) is the figure least moved by other load on the machine.

    python bench/bench_api.py --backend onnx
    python bench/bench_api.py --backend torch --copies 4 --rounds 3 --clients 1,8,32
    python bench/bench_api.py --env VIVA_GRADE_BATCH_WAIT_MS=2     # try a server setting
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backends import REPO, grade_many_rate, load_answers, settings, warm
from viva.adapters.banks import BankRepository
from viva.composition import shared_embedder
from viva.core.grader import Grader

Answers = list[tuple[str, str]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tagged(answers: Answers, tag: str) -> Answers:
    return [(q, f"{a} {tag}") for q, a in answers]


class Server:
    """`viva serve` in a child process, on a free 127.0.0.1 port, until `stop`."""

    def __init__(self, backend: str, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        viva = Path(sys.executable).with_name("viva")
        cmd = [str(viva)] if viva.exists() else [sys.executable, "-m", "viva.cli.main"]
        cmd += ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        child_env = {
            **os.environ,
            "VIVA_EMBEDDING_BACKEND": backend,
            "VIVA_DATA_DIR": str(data_dir),
            "VIVA_RUBRICS_DIR": str(REPO / "rubrics"),
            "HF_HUB_OFFLINE": "1",
            "PYTHONPATH": f"{REPO / 'service'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            **env,
        }
        self.log_path = data_dir / "server.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, env=child_env, stdout=self._log, stderr=self._log)

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError("server not ready")

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def batched(self) -> tuple[float, float]:
        """(model batches, requests in them) so far, from /metrics; zeros without a batcher."""
        with urllib.request.urlopen(self.base + "/metrics", timeout=10) as r:
            text = r.read().decode()
        found = {"viva_grade_batches": 0.0, "viva_grade_batched_requests": 0.0}
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name in found:
                found[name] = float(value)
        return found["viva_grade_batches"], found["viva_grade_batched_requests"]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = None
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError("response without content-length")
    return status, await reader.readexactly(length)


async def _drive(port: int, bodies: list[bytes], clients: int) -> list[float]:
    """Each client: one keep-alive connection, next body as soon as its last answer is read."""
    todo = iter(bodies)
    lat: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for body in todo:
                head = (
                    f"POST /v1/grade HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                )
                t0 = time.perf_counter()
                writer.write(head.encode() + body)
                status, data = await _response(reader)
                lat.append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return lat


@dataclass
class ApiRound:
    rate: float
    p50_ms: float
    p95_ms: float
    server_cpu_ms: float  # server CPU per answer
    client_cpu_ms: float  # this process's CPU per answer (the clients)
    batch_size: float  # mean requests per model batch (0: no batcher)


def api_round(server: Server, answers: Answers, clients: int) -> ApiRound:
    bodies = [
        json.dumps({"answer": a, "bank_id": "keras", "question_id": q}).encode() for q, a in answers
    ]
    b0, r0 = server.batched()
    cpu0, mine0 = server.cpu(), time.process_time()
    t0 = time.perf_counter()
    lat = asyncio.run(_drive(server.port, bodies, clients))
    wall = time.perf_counter() - t0
    cpu, mine = server.cpu() - cpu0, time.process_time() - mine0
    b1, r1 = server.batched()
    lat.sort()
    n = len(bodies)
    return ApiRound(
        rate=n / wall,
        p50_ms=1000 * statistics.median(lat),
        p95_ms=1000 * lat[int(0.95 * (n - 1))],
        server_cpu_ms=1000 * cpu / n,
        client_cpu_ms=1000 * mine / n,
        batch_size=(r1 - r0) / (b1 - b0) if b1 > b0 else 0.0,
    )


def batch_round(grader: Grader, banks: BankRepository, answers: Answers) -> tuple[float, float]:
    """(answers/s, CPU ms per answer) of `grade_many` in this process."""
    c0 = time.process_time()
    rate = grade_many_rate(grader, banks, answers)
    return rate, 1000 * (time.process_time() - c0) / len(answers)


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("torch", "onnx", "openvino"), default="openvino")
    ap.add_argument("--copies", type=int, default=4, help="copies of the 30 example answers")
    ap.add_argument("--clients", default="1,8,32", help="concurrent API clients, comma-separated")
    ap.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    ap.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server")
    ap.add_argument("--data-dir", type=Path, help="reuse a data folder (keeps the ONNX build)")
    args = ap.parse_args()
    env = dict(kv.split("=", 1) for kv in args.env)
    counts = [int(c) for c in args.clients.split(",")]
    answers = load_answers(args.copies)
    tmp = None if args.data_dir else Path(tempfile.mkdtemp(prefix="viva-bench-api-"))
    data_dir = args.data_dir or tmp
    assert data_dir is not None
    data_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"{len(answers)} answers, backend {args.backend}, {args.rounds} rounds (medians); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}. The server, these "
        "clients and anything else on the machine share those CPUs.",
        flush=True,
    )

    # Batch grading here; this also builds the ONNX model into data_dir for the server.
    banks = BankRepository(REPO / "rubrics")
    grader = Grader(shared_embedder(settings(args.backend, data_dir)))
    warm(grader, banks, answers)
    server = Server(args.backend, data_dir, env)
    try:
        server.wait_ready()
        for q, a in tagged(answers, "warm")[:: max(1, len(answers) // 30)][:30]:
            body = json.dumps({"answer": a, "bank_id": "keras", "question_id": q}).encode()
            asyncio.run(_drive(server.port, [body], 1))
        asyncio.run(  # thread pools and the batcher warmed up at full concurrency too
            _drive(
                server.port,
                [
                    json.dumps({"answer": a, "bank_id": "keras", "question_id": q}).encode()
                    for q, a in tagged(answers, "warm2")
                ],
                max(counts),
            )
        )
        batch: list[tuple[float, float]] = []
        api: dict[int, list[ApiRound]] = {n: [] for n in counts}
        for r in range(args.rounds):
            batch.append(batch_round(grader, banks, tagged(answers, f"b{r}")))
            for n in counts:
                api[n].append(api_round(server, tagged(answers, f"c{n}r{r}"), n))
    finally:
        server.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    batch_rate = med([b[0] for b in batch])
    batch_cpu = med([b[1] for b in batch])
    rates = ", ".join(f"{b[0]:.1f}" for b in batch)
    print(f"batch grade_many: {batch_rate:7.1f} answers/s ({rates}); CPU {batch_cpu:.1f} ms/answer")
    for n in counts:
        rs = api[n]
        rate = med([x.rate for x in rs])
        print(
            f"api {n:3d} clients:  {rate:7.1f} answers/s = {rate / batch_rate:.2f}x batch "
            f"({', '.join(f'{x.rate:.1f}' for x in rs)}); "
            f"p50 {med([x.p50_ms for x in rs]):.0f} ms, p95 {med([x.p95_ms for x in rs]):.0f} ms; "
            f"server CPU {med([x.server_cpu_ms for x in rs]):.1f} ms/answer, "
            f"clients {med([x.client_cpu_ms for x in rs]):.1f}; "
            f"mean model batch {med([x.batch_size for x in rs]):.1f} requests"
        )
    if 1 in api and 8 in api:
        p95_8 = med([x.p95_ms for x in api[8]])
        p50_1, p95_1 = med([x.p50_ms for x in api[1]]), med([x.p95_ms for x in api[1]])
        print(
            f"p95(8 clients) / single client: {p95_8 / p50_1:.2f}x its p50, "
            f"{p95_8 / p95_1:.2f}x its p95 (target <= 3x)"
        )
    if 32 in api:
        cpu32 = med([x.server_cpu_ms for x in api[32]])
        print(
            f"api 32 clients / batch: {med([x.rate for x in api[32]]) / batch_rate:.2f}x "
            f"(target >= 0.8x); in CPU per answer, less moved by other load: "
            f"{batch_cpu / cpu32:.2f}x"
        )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
