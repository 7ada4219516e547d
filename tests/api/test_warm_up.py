"""Instant start: the port opens before the model has loaded. /healthz answers at once, /readyz
and grading answer 503 "warming up" until the grader is built, then everything works."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_settings
from tests.api.live import call, start_viva, wait_ready
from tests.fakes.embedder import FakeEmbedder
from tests.pg import free_port
from viva.adapters import embedder as embedder_module
from viva.api import create_app

LOADED = threading.Event()


class _GatedEmbedder(FakeEmbedder):
    """Loading it blocks until the test says the model has loaded."""

    def __init__(self, *_: object, **__: object) -> None:
        assert LOADED.wait(30), "the test never let the model load"
        super().__init__()


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    LOADED.clear()
    monkeypatch.setitem(embedder_module.REGISTRY, "gated", _GatedEmbedder)
    yield "gated"
    LOADED.set()


def test_ready_only_once_the_model_has_loaded(tmp_path: Path, gated: str) -> None:
    s = make_settings(tmp_path, embedding_provider=gated, embedding_model=f"m-{tmp_path.name}")
    with TestClient(create_app(s)) as client:  # returns before the model loads
        assert client.get("/healthz").status_code == 200
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["detail"].startswith("warming up")
        assert r.headers["Retry-After"]
        body = {"answer": "Keras is an API.", "bank_id": "keras", "question_id": "keras-01"}
        r = client.post("/v1/grade", json=body)
        assert r.status_code == 503 and r.json()["detail"].startswith("warming up")
        assert client.get("/v1/banks").status_code == 200  # banks need no model

        LOADED.set()
        for _ in range(200):
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.05)
        assert client.get("/readyz").json()["status"] == "ready"
        assert client.post("/v1/grade", json=body).status_code == 200


def test_a_model_that_fails_to_load_keeps_readyz_failing_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> FakeEmbedder:
        raise RuntimeError("weights are corrupt")

    monkeypatch.setitem(embedder_module.REGISTRY, "broken", broken)
    s = make_settings(tmp_path, embedding_provider="broken", embedding_model=f"b-{tmp_path.name}")
    with TestClient(create_app(s)) as client:
        for _ in range(200):
            r = client.get("/readyz")
            if "failed" in r.json()["detail"]:
                break
            time.sleep(0.05)
        assert r.status_code == 503
        assert "weights are corrupt" in r.json()["detail"]
        assert client.get("/healthz").status_code == 200


@pytest.mark.slow
def test_viva_serve_answers_healthz_while_the_model_loads(tmp_path: Path) -> None:
    """A real `viva serve` process with the real model: the port opens first."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"VIVA_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    proc = start_viva(port, env, tmp_path / "serve.log")
    try:
        seen_warming = False
        for _ in range(600):
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                health = call(base, "GET", "/healthz", timeout=2)[0]
            except OSError:
                time.sleep(0.05)
                continue
            assert health == 200
            status, body = call(base, "GET", "/readyz", timeout=2)
            if status == 503:
                assert body["detail"].startswith("warming up")
                seen_warming = True
            break
        assert seen_warming, "the port opened only after the model had loaded"
        wait_ready(base, 120, proc)
        grade = {"answer": "Keras is an API.", "bank_id": "keras", "question_id": "keras-01"}
        assert call(base, "POST", "/v1/grade", grade)[0] == 200
    finally:
        proc.terminate()
        proc.wait(30)
