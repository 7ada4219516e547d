"""A live Viva server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium or the playwright package the browser tests skip, saying why; under
CI (CI=true) they fail instead, so a broken CI image can't pass silently. Playwright's own
browser download (`playwright install`) is never used.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "artifacts" / "web"
CHROMIUM = Path(os.environ.get("VIVA_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install -e '.[test]')"
    return None


def require_browser() -> None:
    why = _missing()
    if why is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests must run under CI: {why}")
    pytest.skip(why)


def http_get(url: str) -> tuple[int, str, bytes]:
    """(status, content type, body); the status is 0 when the server can't be reached."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()
    except (urllib.error.URLError, OSError):
        return 0, "", b""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(settings: Any, judge: Any | None = None) -> Iterator[str]:
    """Run the real app (real grader unless the settings say otherwise) with uvicorn in a
    thread on a free port; yields its base URL once /readyz answers 200.
    """
    import uvicorn

    from viva.api.app import create_app

    app = create_app(settings, judge=judge)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name=f"viva-live-{port}", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # the embedding model loads in the lifespan
    try:
        while http_get(f"{base}/readyz")[0] != 200:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the live server did not become ready")
            time.sleep(0.25)
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def make_settings(data_dir: Path, **overrides: Any) -> Any:
    from viva.settings import Settings

    # The LLM URL is set by its alias (it also reads OPENAI_BASE_URL); none unless asked for.
    base: dict[str, Any] = {
        "data_dir": data_dir,
        "rubrics_dir": REPO / "rubrics",
        "VIVA_LLM_BASE_URL": None,
        "llm_model": None,
    }
    return Settings(**{**base, **overrides})


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app (real grader, SQLite in a temp dir, no LLM) on 127.0.0.1."""
    require_browser()
    with serve(make_settings(tmp_path_factory.mktemp("viva-data"))) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def publish_screenshot(src: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots/ when VIVA_UPDATE_SCREENSHOTS=1 (for the README)."""
    if os.environ.get("VIVA_UPDATE_SCREENSHOTS") == "1":
        dest = REPO / "docs" / "screenshots" / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
