"""Limits (issue 10): ad-hoc rubric size, grader caches bounded by bytes, a bounded queue.

The review sent 12 ad-hoc requests of ~228 KB rubric text each and watched the server grow from
818 MB to 2.9 GB, and 50 clients made a 32 ms grade take 20 s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_problem, make_settings
from tests.fakes.embedder import FakeEmbedder
from viva.api import create_app
from viva.core.grader import Grader

WORDS = (
    "gradient batch layer epoch tensor dropout optimizer loss kernel stride pooling activation "
    "embedding token vector softmax regularisation momentum schedule warmup checkpoint"
).split()


def _rubric_text(seed: int, words: int) -> str:
    """Distinct text per seed, so no two requests share cache entries."""
    return " ".join(f"{WORDS[(seed * 7 + i) % len(WORDS)]}{seed}x{i}" for i in range(words))


def _adhoc(points: list[dict[str, Any]], answer: str = "gradient layer") -> dict[str, Any]:
    return {"answer": answer, "question": {"prompt": "Explain training.", "points": points}}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path, adhoc_max_points=5, adhoc_max_alternatives=6)
    with TestClient(
        create_app(settings, grader=Grader(FakeEmbedder())), raise_server_exceptions=False
    ) as c:
        yield c


def test_too_many_points_is_a_422_naming_the_field(client: TestClient) -> None:
    points = [{"text": f"point number {i}"} for i in range(6)]
    problem = assert_problem(client.post("/v1/grade", json=_adhoc(points)), 422, "ADHOC_MAX_POINTS")
    assert problem["errors"][0]["loc"] == ["body", "question", "points"]
    assert problem["errors"][0]["limit"] == 5


def test_too_many_alternatives_is_a_422(client: TestClient) -> None:
    points = [{"text": f"point {i}", "alternatives": ["one way", "another way"]} for i in range(4)]
    assert_problem(client.post("/v1/grade", json=_adhoc(points)), 422, "ADHOC_MAX_ALTERNATIVES")


def test_too_much_rubric_text_is_a_422_naming_the_largest_field(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, adhoc_max_chars=1000)
    with TestClient(create_app(settings, grader=Grader(FakeEmbedder()))) as c:
        body = {
            "answer": "shuffle",
            "question": {"prompt": "Why shuffle?", "reference_answer": _rubric_text(1, 300)},
        }
        problem = assert_problem(c.post("/v1/grade", json=body), 422, "ADHOC_MAX_CHARS")
        assert problem["errors"][0]["loc"] == ["body", "question", "reference_answer"]
        small = {"answer": "shuffle", "question": {"prompt": "Why?", "reference_answer": "x y z."}}
        assert c.post("/v1/grade", json=small).status_code == 200


def test_grader_caches_stay_under_their_byte_cap_with_large_adhoc_rubrics(tmp_path: Path) -> None:
    """The issue's reproduction, scaled to the fake embedder: many requests with large,
    distinct rubrics. Without a byte bound the caches held every one of them."""
    cap = 4 * 1024 * 1024
    grader = Grader(FakeEmbedder(), cache_bytes=cap)
    settings = make_settings(
        tmp_path,
        adhoc_max_chars=200_000,
        adhoc_max_points=50,
        adhoc_max_alternatives=1000,
        max_body_bytes=512 * 1024,
    )
    held = []
    with TestClient(create_app(settings, grader=grader)) as c:
        for n in range(12):
            points = [
                {
                    "text": _rubric_text(n * 100 + i, 60),
                    "alternatives": [_rubric_text(n * 100 + i + 50, 60)],
                }
                for i in range(20)
            ]  # ~40 phrasings of ~1.5 KB: ~60 KB of rubric text a request
            r = c.post("/v1/grade", json=_adhoc(points))
            assert r.status_code == 200, r.text
            held.append(sum(b for _, b in grader.cache_stats().values()))
            assert held[-1] <= cap, held
        assert c.get("/healthz").status_code == 200  # still serving
    # The cap did work: the caches filled up to it and then evicted instead of growing.
    assert max(held) > cap // 2
    assert held[-1] - held[3] < cap // 4


def test_a_full_grading_queue_answers_503_with_retry_after(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_queued_grades=2)
    with TestClient(
        create_app(settings, grader=Grader(FakeEmbedder())), raise_server_exceptions=False
    ) as c:
        queue = c.app.state.grading_queue  # type: ignore[attr-defined]
        body = {"bank_id": "keras", "question_id": "keras-01", "answer": "layers and fit"}
        with queue.slot(), queue.slot():  # two grades in flight
            r = c.post("/v1/grade", json=body)
            assert_problem(r, 503, "VIVA_MAX_QUEUED_GRADES")
            assert r.headers["retry-after"] == "2"
            iv = c.post("/v1/interviews", json={"bank_id": "keras"}).json()  # no grading: admitted
            ans = c.post(
                f"/v1/interviews/{iv['id']}/answers",
                json={"question_id": iv["question"]["id"], "answer": "layers"},
            )
            assert_problem(ans, 503, "VIVA_MAX_QUEUED_GRADES")
            assert "viva_grading_queue_depth 2.0" in c.get("/metrics").text
        assert c.post("/v1/grade", json=body).status_code == 200
        assert queue.depth == 0


def test_a_grade_frees_its_queue_place_before_its_response_is_sent(tmp_path: Path) -> None:
    """A client may send its next request as soon as it has read the response: the place must
    be free by then, or a queue as long as the number of clients refuses them."""
    app = create_app(make_settings(tmp_path, max_queued_grades=1), grader=Grader(FakeEmbedder()))
    depth_at_response: list[int] = []

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        async def watch(message: Any) -> None:
            if message["type"] == "http.response.start" and scope["path"] == "/v1/grade":
                depth_at_response.append(app.state.grading_queue.depth)
            await send(message)

        await app(scope, receive, watch)

    body = {"bank_id": "keras", "question_id": "keras-01", "answer": "layers and fit"}
    with TestClient(spy) as c:
        assert [c.post("/v1/grade", json=body).status_code for _ in range(3)] == [200] * 3
    assert depth_at_response == [0, 0, 0]


class _Gate(FakeEmbedder):
    """Blocks token embedding until released, so requests pile up behind the first one."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def embed_tokens(self, texts: Any) -> Any:
        self.entered.set()
        assert self.release.wait(10)
        return super().embed_tokens(texts)


def test_requests_beyond_the_queue_are_refused_while_one_is_grading(tmp_path: Path) -> None:
    embedder = _Gate()
    settings = make_settings(tmp_path, max_queued_grades=1)
    body = {"bank_id": "keras", "question_id": "keras-01", "answer": "layers and fit"}
    with TestClient(
        create_app(settings, grader=Grader(embedder)), raise_server_exceptions=False
    ) as c:
        results: list[int] = []
        first = threading.Thread(
            target=lambda: results.append(c.post("/v1/grade", json=body).status_code)
        )
        first.start()
        assert embedder.entered.wait(10)
        second = c.post("/v1/grade", json=body)
        embedder.release.set()
        first.join(10)
        assert second.status_code == 503 and second.headers["retry-after"]
        assert results == [200]
