"""Against real HTTP servers: concurrent interviews store each answer exactly once, and an
interview survives `kill -9` of `viva serve`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.conftest import make_settings
from tests.api.live import call, start_viva, threaded_server, wait_ready
from tests.fakes.embedder import FakeEmbedder
from tests.pg import free_port
from viva.api import create_app
from viva.core.grader import Grader
from viva.core.ports import TokenEmbeddings
from viva.store.db import Database

INTERVIEWS = 6
QUESTIONS = 3


def _count_rows(url: str) -> list[tuple[str, str, int]]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT interview_id, question_id, COUNT(*) FROM responses "
                    "GROUP BY interview_id, question_id"
                )
            ).all()
    finally:
        db.dispose()
    return [(str(a), str(b), int(c)) for a, b, c in rows]


def test_concurrent_interviews_store_each_answer_once(tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url)
    app = create_app(settings, grader=Grader(FakeEmbedder()))
    with threaded_server(app) as base:
        ids = []
        for i in range(INTERVIEWS):
            status, body = call(
                base,
                "POST",
                "/v1/interviews",
                {"bank_id": "keras", "question_count": QUESTIONS, "seed": i},
            )
            assert status == 201, body
            ids.append(body["id"])

        outcomes: list[tuple[str, int, Any]] = []
        lock = threading.Lock()

        def run_interview(iv: str) -> None:
            qid = call(base, "GET", f"/v1/interviews/{iv}")[1]["question"]["id"]
            for n in range(QUESTIONS):
                key = f"{iv}-{n}"
                payload = {"question_id": qid, "answer": f"Keras layers and fit loop, take {n}"}
                barrier = threading.Barrier(4)

                def submit(
                    k: str, body: dict[str, str] = payload, gate: threading.Barrier = barrier
                ) -> tuple[int, Any]:
                    gate.wait()
                    return call(
                        base, "POST", f"/v1/interviews/{iv}/answers", body, {"Idempotency-Key": k}
                    )

                # Three retries with one key race one submission with another key.
                with ThreadPoolExecutor(4) as pool:
                    same = [pool.submit(submit, key) for _ in range(3)]
                    other = pool.submit(submit, key + "-other")
                    results = [f.result() for f in same]
                    rival = other.result()
                with lock:
                    outcomes.extend((iv, s, b) for s, b in [*results, rival])
                ok = [b for s, b in results if s == 200]
                if ok:  # the retries agree with each other: one stored result, replayed
                    assert all(b == ok[0] for b in ok)
                    assert len(ok) == 3, results
                    assert rival[0] == 409, rival
                    nxt = ok[0]["next_question"]
                else:  # the rival won; the retries were told the question is taken
                    assert rival[0] == 200 and all(s == 409 for s, _ in results), results
                    nxt = rival[1]["next_question"]
                if nxt is None:
                    break
                qid = nxt["id"]

        with ThreadPoolExecutor(INTERVIEWS) as pool:
            for f in [pool.submit(run_interview, iv) for iv in ids]:
                f.result()

        assert not [o for o in outcomes if o[1] >= 500], outcomes
        for iv in ids:
            state = call(base, "GET", f"/v1/interviews/{iv}")[1]
            assert state["status"] == "completed"
            assert len(state["responses"]) == QUESTIONS
    rows = _count_rows(settings.resolved_database_url)
    assert len(rows) == INTERVIEWS * QUESTIONS
    assert all(c == 1 for _, _, c in rows)


class _GatedEmbedder(FakeEmbedder):
    """Grading holds until the test opens the gate, like a long answer on a busy CPU."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()

    def embed_tokens(self, texts: Sequence[str]) -> list[TokenEmbeddings]:
        self.entered.set()
        if not self.gate.wait(60):
            raise RuntimeError("the test never opened the gate")
        return super().embed_tokens(texts)


def test_a_slow_grade_does_not_stall_other_requests(tmp_path: Path) -> None:
    """While a grade is stuck in the model, other requests are still answered: they complete
    before the grade is allowed to finish (no timing involved)."""
    embedder = _GatedEmbedder()
    app = create_app(make_settings(tmp_path), grader=Grader(embedder))
    with threaded_server(app) as base:
        iv = call(base, "POST", "/v1/interviews", {"bank_id": "keras", "question_count": 1})[1]
        body = {"question_id": iv["question"]["id"], "answer": "Keras is a high-level API."}
        with ThreadPoolExecutor(1) as pool:
            grading = pool.submit(call, base, "POST", f"/v1/interviews/{iv['id']}/answers", body)
            try:
                assert embedder.entered.wait(60), "the grade never reached the model"
                assert call(base, "GET", "/healthz", timeout=20)[0] == 200
                assert call(base, "GET", f"/v1/interviews/{iv['id']}", timeout=20)[0] == 200
                assert not grading.done()  # the grade is still held in the model
            finally:
                embedder.gate.set()
            assert grading.result()[0] == 200


@pytest.mark.slow
def test_interview_survives_kill_9(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "VIVA_DATA_DIR": str(tmp_path / "data"),
        "VIVA_DATABASE_URL": database_url,
        "VIVA_LOG_LEVEL": "warning",
        "HF_HUB_OFFLINE": "1",
    }
    log = tmp_path / "server.log"
    proc = start_viva(port, env, log)
    try:
        wait_ready(base, 180, proc)
        status, iv = call(
            base,
            "POST",
            "/v1/interviews",
            {"bank_id": "keras", "question_count": 3, "seed": 7, "candidate": "Kim"},
        )
        assert status == 201, iv
        first = iv["question"]
        s1, a1 = call(
            base,
            "POST",
            f"/v1/interviews/{iv['id']}/answers",
            {"question_id": first["id"], "answer": "Keras is a high-level API."},
            {"Idempotency-Key": "one"},
        )
        second = a1["next_question"]
        s2, a2 = call(
            base,
            "POST",
            f"/v1/interviews/{iv['id']}/answers",
            {"question_id": second["id"], "answer": "Dropout randomly zeroes units."},
            {"Idempotency-Key": "two"},
        )
        assert s1 == s2 == 200
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)

        proc = start_viva(port, env, log)
        wait_ready(base, 180, proc)
        state = call(base, "GET", f"/v1/interviews/{iv['id']}")[1]
        assert state["status"] == "in_progress" and state["candidate"] == "Kim"
        assert [r["grade"] for r in state["responses"]] == [a1["grade"], a2["grade"]]
        assert state["question"] == a2["next_question"]
        # The client never saw the reply to "two" (say): its retry replays, it is not re-graded.
        assert call(
            base,
            "POST",
            f"/v1/interviews/{iv['id']}/answers",
            {"question_id": second["id"], "answer": "Dropout randomly zeroes units."},
            {"Idempotency-Key": "two"},
        ) == (200, a2)
        third = a2["next_question"]
        s3, a3 = call(
            base,
            "POST",
            f"/v1/interviews/{iv['id']}/answers",
            {"question_id": third["id"], "answer": "I don't know."},
        )
        assert s3 == 200 and a3["next_question"] is None
        status, report = call(base, "GET", f"/v1/interviews/{iv['id']}/report")
        assert status == 200
        assert [q["question_id"] for q in report["questions"]] == [
            first["id"],
            second["id"],
            third["id"],
        ]

        # The same grade: during the exam its rubric texts were hidden (exam secrecy), in the
        # report they are shown; scores, coverages and flags are what was stored.
        def stored(g: dict[str, Any]) -> Any:
            return g["score"], [(p["id"], p["coverage"]) for p in g["points"]], g["flags"]

        assert stored(report["questions"][0]["grade"]) == stored(a1["grade"])
        assert all(p["text"] == "" for p in a1["grade"]["points"])
        assert all(p["text"] for p in report["questions"][0]["grade"]["points"])
        assert report["questions"][0]["answer"] == "Keras is a high-level API."
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except Exception:
                proc.kill()
    if proc.returncode not in (0, -signal.SIGTERM):
        pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
