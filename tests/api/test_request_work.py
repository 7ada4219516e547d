"""What one grade request costs the server besides grading: database statements and worker
threads. Counted, not timed: a regression here (a query per bank question, a query per request
for "is any key there?", a thread handoff per dependency) cost the API half its throughput."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings
from tests.api.test_interviews import good_answer
from viva.domain.models import Bank, Grade


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine runs while the test does (BEGIN/COMMIT left out)."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            seen.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    yield seen
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)


def _grade(client: TestClient, bank: Bank, i: int, **headers: str) -> Any:
    body = {"answer": f"{good_answer(bank, 'keras-01')} take {i}", "bank_id": "keras"}
    return client.post("/v1/grade", json={**body, "question_id": "keras-01"}, headers=headers)


def test_a_grade_request_reads_the_database_about_once(
    tmp_path: Path, database_url: str, keras_bank: Bank, statements: list[str]
) -> None:
    """Open mode: the reviews' version (so a new review counts at the next grade), and now and
    then whether a key exists yet; nothing per bank question, nothing twice."""
    with serve(make_settings(tmp_path, database_url)) as c:
        assert _grade(c, keras_bank, 0).status_code == 200  # warm: rubric vectors, caches
        statements.clear()
        n = 20
        for i in range(1, n + 1):
            r = _grade(c, keras_bank, i)
            assert r.status_code == 200, r.text
    assert len(statements) <= n * 1.5, statements[:30]


def test_a_key_created_while_serving_open_is_required_at_once(
    tmp_path: Path, database_url: str, keras_bank: Bank
) -> None:
    with serve(make_settings(tmp_path, database_url)) as c:
        for i in range(3):
            assert _grade(c, keras_bank, i).status_code == 200  # open: no key needed
        keys = make_keys(database_url, ("interviewer", "ian"))  # like `viva keys create`
        assert_problem(_grade(c, keras_bank, 9), 401)
        assert _grade(c, keras_bank, 10, **bearer(keys["ian"])).status_code == 200


def test_settled_callers_use_no_worker_thread_for_dependencies(
    client: TestClient, keras_bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In open mode the principal, the use case and the queue slot are found on the event loop;
    only the route itself (which grades, blocking) runs in a worker thread."""
    import anyio.to_thread

    calls: list[str] = []
    real = anyio.to_thread.run_sync

    async def spy(func: Any, *args: Any, **kw: Any) -> Any:
        calls.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kw)

    assert _grade(client, keras_bank, 0).status_code == 200
    monkeypatch.setattr(anyio.to_thread, "run_sync", spy)
    before = threading.active_count()
    assert _grade(client, keras_bank, 1).status_code == 200
    assert len(calls) == 1, calls
    assert threading.active_count() <= before + 1


def test_the_prebuilt_grade_body_is_what_the_response_model_gives(
    client: TestClient, keras_bank: Bank
) -> None:
    """The route serialises the Grade itself: same JSON as FastAPI's response_model would
    write, and the schema still documents a Grade."""
    answer = good_answer(keras_bank, "keras-02")
    r = client.post(
        "/v1/grade", json={"answer": answer, "bank_id": "keras", "question_id": "keras-02"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    grading = client.app.state.grading  # type: ignore[attr-defined]
    expected = grading.grade(answer, bank_id="keras", question_id="keras-02")
    assert r.json() == json.loads(TypeAdapter(Grade).dump_json(expected, by_alias=True))
    schema = client.get("/openapi.json").json()["paths"]["/v1/grade"]["post"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Grade"}


def test_metrics_show_the_model_batches_and_the_requests_in_them(
    client: TestClient, keras_bank: Bank
) -> None:
    def read(name: str) -> float:
        text = client.get("/metrics").text
        return next(
            float(v) for n, _, v in (ln.partition(" ") for ln in text.splitlines()) if n == name
        )

    b0, r0 = read("viva_grade_batches"), read("viva_grade_batched_requests")
    for i in range(3):
        assert _grade(client, keras_bank, 100 + i).status_code == 200
    batches = read("viva_grade_batches") - b0
    assert read("viva_grade_batched_requests") - r0 == 3
    assert 1 <= batches <= 3
