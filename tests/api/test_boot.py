"""Port first: `viva serve` listens with a tiny shell that answers /healthz while the real app is
imported, checked and started behind it; readiness, grading and start-up errors are unchanged."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import assert_problem, make_settings
from tests.fakes.embedder import FakeEmbedder
from tests.pg import free_port
from viva.api.app import create_app
from viva.api.boot import ASGIApp, Boot
from viva.core.grader import Grader
from viva.errors import ConfigError

BODY = {"answer": "Keras is an API.", "bank_id": "keras", "question_id": "keras-01"}


def wait_for(check: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if check():
            return
        time.sleep(0.025)
    raise AssertionError(f"never: {what}")


def test_healthz_answers_while_the_app_is_still_being_built(tmp_path: Path) -> None:
    release = threading.Event()

    def build() -> ASGIApp:
        assert release.wait(30), "the test never let the build finish"
        return create_app(make_settings(tmp_path), grader=Grader(FakeEmbedder()))

    boot = Boot(build)
    with TestClient(boot) as client:  # start-up completes before the app exists
        r = client.get("/healthz")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        assert client.head("/healthz").status_code == 200
        for path in ("/readyz", "/v1/banks"):
            r = client.get(path)
            assert_problem(r, 503, "warming up")
            assert r.headers["Retry-After"] and r.json()["instance"] == path
        assert_problem(client.post("/v1/grade", json=BODY), 503, "warming up")

        release.set()
        wait_for(lambda: boot.app is not None, "the real app took over")
        assert client.get("/readyz").json()["status"] == "ready"
        assert client.post("/v1/grade", json=BODY).status_code == 200
        assert client.get("/openapi.json").status_code == 200  # every route is the app's now
    assert boot.error is None


def test_a_failed_build_reports_why_and_stops_the_server(tmp_path: Path) -> None:
    stopped = threading.Event()

    def build() -> ASGIApp:
        raise ConfigError("VIVA_BANKS_DIR: no such folder")

    boot = Boot(build, on_failure=stopped.set)
    with TestClient(boot) as client:
        assert stopped.wait(10)
        assert boot.error == "VIVA_BANKS_DIR: no such folder" and boot.app is None
        assert_problem(client.get("/readyz"), 503, "start-up failed: VIVA_BANKS_DIR")
        assert client.get("/healthz").status_code == 200


def test_an_app_whose_own_start_up_fails_is_not_served(tmp_path: Path) -> None:
    """The app's lifespan start-up (settings, then the database) runs behind the shell; its
    error is the shell's error, and no database was created for a bad setting."""
    s = make_settings(
        tmp_path, llm_provider="nope", llm_model="m", VIVA_LLM_BASE_URL="http://127.0.0.1:9/v1"
    )
    stopped = threading.Event()
    boot = Boot(lambda: create_app(s, grader=Grader(FakeEmbedder())), on_failure=stopped.set)
    with TestClient(boot):
        assert stopped.wait(10)
    assert boot.error == "VIVA_LLM_PROVIDER: unknown value 'nope' (have: openai)"
    assert not (tmp_path / "data" / "viva.db").exists()


def test_the_serve_entry_imports_no_framework_before_listening() -> None:
    """What `viva serve` imports before the port opens: no FastAPI, database layer, numpy or
    model code (they take seconds; they are imported behind the open port)."""
    code = (
        "import sys; import viva.cli.main, viva.api.boot, viva.api.observe, uvicorn; "
        "heavy = ('fastapi', 'sqlalchemy', 'numpy', 'torch', 'openai', 'viva.api.app', "
        "'viva.composition', 'viva.store'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_viva_serve_stops_with_the_message_when_a_setting_is_wrong(tmp_path: Path) -> None:
    """The port opens before the settings are checked, but a bad one still ends `viva serve`
    with exit code 2 and the CLI's message, before the database is touched."""
    env = {
        **os.environ,
        "VIVA_DATA_DIR": str(tmp_path),
        "VIVA_PORT": str(free_port()),
        "VIVA_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "VIVA_LLM_MODEL": "m",
        "VIVA_LLM_PROVIDER": "nope",
        "VIVA_LOG_FORMAT": "text",
    }
    cmd = [sys.executable, "-c", "from viva.cli.main import main; main()", "serve"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines()[-1] == (
        "error: VIVA_LLM_PROVIDER: unknown value 'nope' (have: openai)"
    )
    assert not (tmp_path / "viva.db").exists()


def test_viva_serve_exits_nonzero_when_the_port_is_taken(tmp_path: Path) -> None:
    """uvicorn's start-up failure is still a failure (exit 3), not a clean exit."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        env = {**os.environ, "VIVA_DATA_DIR": str(tmp_path), "VIVA_PORT": str(port)}
        cmd = [sys.executable, "-c", "from viva.cli.main import main; main()", "serve"]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 3, r.stderr
