"""Load and flood against a live `viva serve` with authentication on, driven by locust.

Starts `viva serve` (real model, SQLite in a temp dir, an admin key file, candidate API keys
made in its database), then runs three phases in one run and prints each:

1. load:  N candidates, each with a key of their own, run full interviews (create, answer
          every question, report) with a short think time; requests/s and p50/p95/p99.
2. idle:  one legitimate candidate alone; its p95 is the baseline.
3. flood: the same candidate while 50 clients hammer with ONE shared candidate key and no
          think time; they get 429s. The candidate's p95 is printed beside the idle one.

Rate limits are the server's defaults (a candidate key: 120 requests a minute), except the
per-address limit, raised because every locust client shares 127.0.0.1.

    pip install -e '.[bench]'
    python bench/load.py                          # 10 users, 30 s a phase
    python bench/load.py --users 4 --duration 20  # small machine
    python bench/load.py --pin                    # server on CPU 0, locust on the others

`--pin` keeps the load generator off the server's core (Linux CPU affinity), so on a small
machine the flood measures the server, not locust competing with it for the same cores.
"""

from __future__ import annotations

# locust patches the standard library with gevent on import: before anything else.
from locust import HttpUser, between, constant, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from itertools import count
from pathlib import Path
from typing import Any, ClassVar

import gevent

REPO = Path(__file__).resolve().parents[1]
ADMIN_KEY = "bench-admin-key-0123456789-abcdefghij"
ANSWER = (
    "Keras is a high-level API: you stack layers in a Sequential model, compile it with an "
    "optimizer, a loss and metrics, then call fit on the training data and evaluate on "
    "held-out data. Callbacks such as early stopping watch the validation loss."
)
IV = "/v1/interviews/{id}"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_candidate_keys(database_url: str, n: int) -> list[str]:
    from viva.app.auth import Keys
    from viva.store import open_database
    from viva.store.keys import KeyStore

    db = open_database(database_url)
    try:
        keys = Keys(KeyStore(db))
        return [keys.create("candidate", f"bench-{i}").key for i in range(n)]
    finally:
        db.dispose()


def start_server(data: Path, port: int, cpus: set[int] | None = None) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VIVA_DATA_DIR": str(data),
        "VIVA_ADMIN_KEY_FILE": str(data / "admin.key"),
        "VIVA_RATE_LIMIT_IP": "1000000/minute",
        "VIVA_LOG_LEVEL": "warning",
    }
    cmd = [sys.executable, "-c", "from viva.cli.main import main; main()", "serve"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    log = (data / "server.log").open("ab")
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pin)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"viva serve exited with {proc.returncode}; see its log")
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("viva serve did not become ready")


class Candidate(HttpUser):
    """Runs whole interviews with a key of its own."""

    abstract = True
    wait_time = between(0.3, 0.7)
    keys: ClassVar[list[str]] = []
    questions = 3
    _n = count()

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {self.keys[next(self._n)]}"

    @task
    def interview(self) -> None:
        body = {"bank_id": "keras", "question_count": self.questions}
        r = self.client.post("/v1/interviews", json=body, name="/v1/interviews")
        if r.status_code != 201:
            return
        iv = r.json()
        question = iv["question"]
        while question is not None:
            self.wait()
            r = self.client.post(
                f"/v1/interviews/{iv['id']}/answers",
                json={"question_id": question["id"], "answer": ANSWER},
                headers={"Idempotency-Key": f"{iv['id']}-{question['id']}"},
                name=IV + "/answers",
            )
            if r.status_code != 200:
                return
            question = r.json()["next_question"]
        self.client.get(f"/v1/interviews/{iv['id']}/report", name=IV + "/report")


class Flooder(HttpUser):
    """One shared candidate key, no think time: the 429s are the point."""

    abstract = True
    wait_time = constant(0)
    key = ""

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {self.key}"

    @task
    def hammer(self) -> None:
        with self.client.get("/v1/banks/keras", name="flood", catch_response=True) as r:
            if r.status_code == 429:
                r.success()  # expected; counted below from the status codes


def run_phase(
    base: str, classes: list[type[HttpUser]], counts: dict[str, int], seconds: float
) -> Environment:
    users = []
    for cls in classes:
        users.append(type(cls.__name__ + "Run", (cls,), {"fixed_count": counts[cls.__name__]}))
    env = Environment(user_classes=users, host=base)
    codes: dict[tuple[str, int], int] = {}

    def on_request(name: str, response: Any, **_: Any) -> None:
        status = getattr(response, "status_code", 0) or 0
        codes[(name, status)] = codes.get((name, status), 0) + 1

    env.events.request.add_listener(on_request)
    env.codes = codes  # type: ignore[attr-defined]
    runner = env.create_local_runner()
    runner.start(sum(counts.values()), spawn_rate=100)
    gevent.sleep(seconds)
    runner.quit()
    return env


def _ms(entry: Any, pct: float) -> float:
    return float(entry.get_response_time_percentile(pct) or 0)


def print_table(title: str, env: Environment, names: list[str] | None = None) -> None:
    stats = env.stats
    rows = [(n, stats.entries[k]) for k in stats.entries for n in [k[0]] if not names or n in names]
    print(f"\n{title}")
    print(f"  {'endpoint':<34}{'reqs':>7}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
    for name, e in sorted(rows, key=lambda r: r[0]):
        print(
            f"  {name:<34}{e.num_requests:>7}{e.total_rps:>8.1f}"
            f"{_ms(e, 0.5):>8.0f}{_ms(e, 0.95):>8.0f}{_ms(e, 0.99):>8.0f}"
        )
    if not names:
        t = stats.total
        print(
            f"  {'all':<34}{t.num_requests:>7}{t.total_rps:>8.1f}"
            f"{_ms(t, 0.5):>8.0f}{_ms(t, 0.95):>8.0f}{_ms(t, 0.99):>8.0f}"
        )
    codes = env.codes  # type: ignore[attr-defined]
    print("  status codes:", ", ".join(f"{n} {s}: {c}" for (n, s), c in sorted(codes.items())))


def legit_p95(env: Environment) -> float:
    """p95 over the legitimate candidate's requests (every name but the flood's)."""
    from locust.stats import StatsEntry

    merged = StatsEntry(env.stats, "legit", "")
    for (name, _), e in env.stats.entries.items():
        if name != "flood":
            merged.extend(e)
    return _ms(merged, 0.95)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--users", type=int, default=10, help="candidates in the load phase")
    ap.add_argument("--flooders", type=int, default=50, help="clients sharing one key")
    ap.add_argument("--duration", type=float, default=30, help="seconds per phase")
    ap.add_argument("--questions", type=int, default=3, help="questions per interview")
    ap.add_argument(
        "--pin", action="store_true", help="server on CPU 0, locust on the other CPUs (Linux)"
    )
    args = ap.parse_args()
    server_cpus: set[int] | None = None
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("--pin needs at least 2 CPUs")
        server_cpus = {cpus[0]}
        os.sched_setaffinity(0, set(cpus[1:]))

    with tempfile.TemporaryDirectory(prefix="viva-load-") as tmp:
        data = Path(tmp)
        (data / "admin.key").write_text(ADMIN_KEY)
        keys = make_candidate_keys(f"sqlite:///{data / 'viva.db'}", args.users + 2)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_server(data, port, server_cpus)
        try:
            wait_ready(base, proc)
            print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}")
            print(f"server: viva serve, 1 worker, real model, SQLite, auth on, {base}")
            if server_cpus is not None:
                print(f"pinned: server on CPU {server_cpus}, locust on {os.sched_getaffinity(0)}")
            Candidate.questions = args.questions

            Candidate.keys = keys[: args.users]
            Candidate._n = count()
            load = run_phase(base, [Candidate], {"Candidate": args.users}, args.duration)
            print_table(
                f"load: {args.users} candidates, full interviews, {args.duration:.0f} s", load
            )

            Candidate.keys = [keys[args.users]]
            Candidate._n = count()
            idle = run_phase(base, [Candidate], {"Candidate": 1}, args.duration)
            print_table(f"idle: 1 candidate alone, {args.duration:.0f} s", idle)

            Candidate.keys = [keys[args.users]]
            Candidate._n = count()
            Flooder.key = keys[args.users + 1]
            counts = {"Candidate": 1, "Flooder": args.flooders}
            flood = run_phase(base, [Candidate, Flooder], counts, args.duration)
            print_table(
                f"flood: 1 candidate + {args.flooders} clients on one key, {args.duration:.0f} s",
                flood,
            )
            codes = flood.codes  # type: ignore[attr-defined]
            sent = sum(c for (n, _), c in codes.items() if n == "flood")
            limited = codes.get(("flood", 429), 0)
            p_idle, p_flood = legit_p95(idle), legit_p95(flood)
            print(
                f"\nflood: {limited} of {sent} flood requests got 429"
                f" ({100 * limited / max(sent, 1):.1f}%)"
            )
            print(
                f"legitimate candidate p95: idle {p_idle:.0f} ms, under flood {p_flood:.0f} ms,"
                f" ratio {p_flood / max(p_idle, 1):.2f}x (target <= 3x)"
            )
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
