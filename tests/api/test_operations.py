"""Operations (issue 10): each test reproduces one finding of the network-readiness review.

Undecodable text, security headers, Markdown escaping, server paths, the Idempotency-Key and
`?format=` schema mismatches, a full disk, request ids, logs and metrics.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.api.conftest import PROBLEM, assert_problem, make_settings
from tests.fakes.embedder import FakeEmbedder
from viva.api import create_app
from viva.api.observe import JsonFormatter
from viva.api.problems import scrub_paths
from viva.core.grader import Grader
from viva.settings import Settings

GRADE = {"bank_id": "keras", "question_id": "keras-01"}


def _start(client: TestClient, n: int = 1, **kw: Any) -> dict[str, Any]:
    r = client.post("/v1/interviews", json={"bank_id": "keras", "question_count": n, **kw})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _finish(client: TestClient, answer: str, candidate: str | None = None) -> str:
    iv = _start(client, 1, candidate=candidate)
    r = client.post(
        f"/v1/interviews/{iv['id']}/answers",
        json={"question_id": iv["question"]["id"], "answer": answer},
    )
    assert r.status_code == 200, r.text
    return str(iv["id"])


# --- undecodable text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/v1/grade",
            '{"bank_id":"keras","question_id":"keras-01","answer":"a \\ud800 b"}',
            "answer",
        ),
        ("/v1/interviews", '{"bank_id":"keras","candidate":"Ada \\udfff"}', "candidate"),
        (
            "/v1/grade",
            '{"answer":"x","question":{"prompt":"Why shuffle data?",'
            '"points":[{"text":"order is not learned","alternatives":["ok","\\ud83d"]}]}}',
            "alternatives",
        ),
    ],
)
def test_a_lone_surrogate_is_a_422_naming_the_field(
    client: TestClient, path: str, body: str, field: str
) -> None:
    r = client.post(path, content=body.encode(), headers={"content-type": "application/json"})
    problem = assert_problem(r, 422)  # pydantic refuses some surrogates itself, in its words
    assert field in json.dumps(problem["errors"])


def test_a_lone_surrogate_in_an_answer_is_refused_before_it_reaches_the_database(
    client: TestClient,
) -> None:
    iv = _start(client)
    qid = iv["question"]["id"]
    body = '{"question_id":"' + qid + '","answer":"\\ud800 keras layers"}'
    r = client.post(
        f"/v1/interviews/{iv['id']}/answers",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert_problem(r, 422, "surrogate")
    # Nothing was stored: the question is still open and can be answered.
    assert client.get(f"/v1/interviews/{iv['id']}").json()["progress"]["done"] == 0


def test_bytes_that_are_not_utf8_are_a_422(client: TestClient) -> None:
    body = b'{"bank_id":"keras","question_id":"keras-01","answer":"caf\xe9 \xff"}'
    r = client.post("/v1/grade", content=body, headers={"content-type": "application/json"})
    assert_problem(r, 422)


# --- HTML: security headers and escaping ---------------------------------------------------

SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "cache-control",
)


def test_every_html_response_has_the_pages_security_headers(client: TestClient) -> None:
    iv_id = _finish(client, "Keras gives ready-made layers and a fit loop.")
    page = client.get("/")
    for resp in (
        page,
        client.get(f"/v1/interviews/{iv_id}/report?format=html"),
        client.get("/docs"),
    ):
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
        for name in SECURITY_HEADERS:
            assert resp.headers.get(name), (resp.url, name)
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
    report_csp = client.get(f"/v1/interviews/{iv_id}/report?format=html").headers[
        "content-security-policy"
    ]
    assert "script-src" not in report_csp and "default-src 'none'" in report_csp  # no scripts


def test_markdown_report_escapes_html_from_answers_and_names(client: TestClient) -> None:
    evil = "<script>alert(1)</script> Keras has <b>layers</b> & a fit loop"
    iv_id = _finish(client, evil, candidate="<img src=x onerror=alert(2)>")
    md = client.get(f"/v1/interviews/{iv_id}/report?format=md").text
    assert "<script>" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "<details>" in md  # the template's own markup is kept


# --- errors: no server paths, request ids ---------------------------------------------------


def test_errors_do_not_reveal_server_paths(client: TestClient, settings: Settings) -> None:
    problem = assert_problem(client.get("/v1/banks/nope"), 404, "nope", "known: keras")
    assert str(settings.rubrics_dir) not in json.dumps(problem)
    assert "/" not in problem["detail"]


def test_scrub_paths_keeps_route_paths_and_hides_server_ones() -> None:
    text = "no bank in /srv/viva/rubrics; see /v1/banks; read /home/ada/x.yaml"
    out = scrub_paths(text, ["/srv/viva/rubrics"])
    assert out == "no bank in rubrics; see /v1/banks; read x.yaml"


def test_request_id_is_echoed_in_the_header_and_every_problem(client: TestClient) -> None:
    r = client.get("/v1/banks/nope", headers={"X-Request-ID": "trace-42"})
    assert r.headers["x-request-id"] == "trace-42"
    assert r.json()["request_id"] == "trace-42"
    fresh = client.get("/v1/banks/nope")
    assert (
        fresh.headers["x-request-id"]
        and fresh.json()["request_id"] == fresh.headers["x-request-id"]
    )
    odd = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces" * 20})
    assert odd.headers["x-request-id"] != "bad id\twith spaces" * 20  # replaced, not echoed


def test_an_unexpected_error_is_a_500_problem_with_the_request_id(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("/secret/path exploded")

    monkeypatch.setattr(client.app.state.grading, "grade", boom)  # type: ignore[attr-defined]
    r = client.post("/v1/grade", json={**GRADE, "answer": "x"}, headers={"X-Request-ID": "r-500"})
    problem = assert_problem(r, 500)
    assert problem["request_id"] == "r-500" and r.headers["x-request-id"] == "r-500"
    assert "secret" not in r.text


def test_logs_are_json_lines_with_the_request_id(client: TestClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("viva.access")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        client.get("/v1/banks/keras", headers={"X-Request-ID": "log-7"})
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    line = next(x for x in lines if x.get("request_id") == "log-7")
    assert line["route"] == "/v1/banks/{bank_id}" and line["status"] == 200
    assert line["level"] == "info" and line["duration_ms"] >= 0


# --- schema and behaviour agree -------------------------------------------------------------


def test_an_empty_idempotency_key_is_refused_and_the_schema_says_so(client: TestClient) -> None:
    iv = _start(client)
    r = client.post(f"/v1/interviews/{iv['id']}/skip", headers={"Idempotency-Key": ""})
    problem = assert_problem(r, 422)
    assert problem["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    doc = client.get("/openapi.json").json()
    for path in ("/v1/interviews/{interview_id}/skip", "/v1/interviews/{interview_id}/answers"):
        (param,) = [p for p in doc["paths"][path]["post"]["parameters"] if p["in"] == "header"]
        schema = param["schema"]["anyOf"][0]
        assert schema["minLength"] == 1 and schema["maxLength"] == 255 and schema["pattern"]


def test_format_errors_use_the_declared_problem_content_type(client: TestClient) -> None:
    iv_id = _finish(client, "Keras has layers.")
    r = client.get(f"/v1/interviews/{iv_id}/report?format=pdf")
    assert_problem(r, 422, "format")
    doc = client.get("/openapi.json").json()
    declared = doc["paths"]["/v1/interviews/{interview_id}/report"]["get"]["responses"]["422"]
    assert list(declared["content"]) == [PROBLEM]
    for ops in doc["paths"].values():  # no operation still declares FastAPI's own 422 shape
        for op in ops.values():
            if "422" in op["responses"]:
                assert list(op["responses"]["422"]["content"]) == [PROBLEM]
    assert "HTTPValidationError" not in doc["components"]["schemas"]


# --- a full disk ------------------------------------------------------------------------------


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path), grader=Grader(FakeEmbedder()))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_readyz_fails_while_writes_fail_and_writes_are_503_problems(
    sqlite_client: TestClient,
) -> None:
    """SQLite's max_page_count makes every write that needs space fail with SQLITE_FULL,
    "database or disk is full", exactly as a full disk does."""
    client = sqlite_client
    engine = client.app.state.interviews.repo.db.engine  # type: ignore[attr-defined]
    full = True

    def cap_pages(dbapi_conn: Any, _record: Any) -> None:
        if full:
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

    sa.event.listen(engine, "connect", cap_pages)
    engine.dispose()  # new connections get the cap
    assert client.get("/readyz").status_code == 200  # nothing has failed yet

    r = client.post("/v1/interviews", json={"bank_id": "keras", "question_count": 5})
    problem = assert_problem(r, 503, "database or disk is full")
    assert r.headers["retry-after"] and problem["title"] == "Storage unavailable"
    ready = client.get("/readyz")
    assert_problem(ready, 503, "database or disk is full")

    full = False  # space is free again: readiness recovers without a restart
    engine.dispose()
    assert client.get("/readyz").status_code == 200
    assert client.post("/v1/interviews", json={"bank_id": "keras"}).status_code == 201


# --- metrics ---------------------------------------------------------------------------------


def _metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(prefix + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{prefix} not in metrics")


def test_metrics_count_requests_by_route_template_grades_queue_and_llm(
    client: TestClient,
) -> None:
    iv_id = _finish(client, "Keras gives layers and fit.")
    client.get(f"/v1/interviews/{iv_id}")
    client.get("/v1/interviews/does-not-exist")
    client.post("/v1/grade", json={**GRADE, "answer": "layers and a fit loop"})
    m = client.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    text = m.text
    route = "/v1/interviews/{interview_id}"
    assert _metric(text, "viva_http_requests_total", method="GET", route=route, status="200") == 1
    assert _metric(text, "viva_http_requests_total", method="GET", route=route, status="404") == 1
    assert iv_id not in text  # ids never become labels
    assert (
        _metric(
            text,
            "viva_http_request_duration_seconds_count",
            method="GET",
            route=route,
            status="200",
        )
        == 1
    )
    assert _metric(text, "viva_grades_total", source="interview") == 1
    assert _metric(text, "viva_grades_total", source="adhoc_or_bank") == 1
    assert _metric(text, "viva_grading_queue_depth") == 0
    assert _metric(text, "viva_llm_status", status="disabled") == 1
    assert _metric(text, "viva_grader_cache_bytes", cache="tokens") > 0
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


def test_readiness_probe_clears_a_past_write_failure_on_every_backend(client: TestClient) -> None:
    db = client.app.state.interviews.repo.db  # type: ignore[attr-defined]
    db.write_failure = "database or disk is full"  # as left by a failed write
    assert client.get("/readyz").status_code == 200  # the probe write worked
    assert db.write_failure is None
    assert client.post("/v1/interviews", json={"bank_id": "keras"}).status_code == 201
