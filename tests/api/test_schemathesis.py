"""Schemathesis against a live server with authentication on: every operation, every check
(`--checks all`), all phases (examples, coverage, fuzzing, stateful via the OpenAPI links),
zero failures. Settings it needs to know are in tests/api/schemathesis.toml.

Needs the `schemathesis` package (the `test` extra); skips without it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.auth_helpers import make_keys
from tests.api.conftest import make_settings
from tests.api.live import threaded_server
from tests.fakes.embedder import FakeEmbedder
from viva.api import create_app
from viva.core.grader import Grader

CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.mark.slow
def test_schemathesis_all_operations_and_checks_with_auth_on(
    tmp_path: Path, database_url: str
) -> None:
    pytest.importorskip("schemathesis")
    keys = make_keys(database_url, ("admin", "fuzzer"))
    s = make_settings(
        tmp_path,
        database_url,
        auth_required=True,
        # Limits stay on (auth is on), high enough that the fuzzer is not mostly answered 429.
        rate_limit_admin="100000/minute",
        rate_limit_ip="100000/minute",
    )
    with threaded_server(create_app(s, grader=Grader(FakeEmbedder()))) as base:
        cmd = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(CONFIG),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {keys['fuzzer']}",
            "--checks",
            "all",
            "--max-examples",
            "40",
            "--seed",
            "20240610",
            "--no-color",
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report[-6000:]
    assert "Tested: 16" in report or "16 selected" in report, report[-3000:]
    assert " passed" in report and "failed" not in report.split("SUMMARY")[-1], report[-3000:]


def test_405_allow_lists_every_method_of_the_path(tmp_path: Path) -> None:
    """Found by schemathesis: Starlette's 405 named one route's methods (DELETE) though the
    same path also serves GET."""
    app = create_app(make_settings(tmp_path, None), grader=Grader(FakeEmbedder()))
    with TestClient(app) as c:
        r = c.options("/v1/interviews/some-id")
        assert r.status_code == 405
        assert r.headers["allow"] == "DELETE, GET"
        r = c.put("/v1/interviews")  # GET lists them (issue 12), POST creates one
        assert r.status_code == 405 and r.headers["allow"] == "GET, POST"


def test_created_interview_links_to_its_operations(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, None), grader=Grader(FakeEmbedder()))
    doc = app.openapi()
    links = doc["paths"]["/v1/interviews"]["post"]["responses"]["201"]["links"]
    assert set(links) == {
        "GetInterview",
        "AnswerQuestion",
        "SkipQuestion",
        "GetReport",
        "DeleteInterview",
    }
    ops = {op.get("operationId") for path in doc["paths"].values() for op in path.values()}
    for link in links.values():
        assert link["operationId"] in ops
        assert link["parameters"] == {"interview_id": "$response.body#/id"}
