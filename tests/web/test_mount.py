"""The page and its assets are served by `mount_web`, with no third-party origins."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from viva.web import STATIC_DIR, mount_web


def _client() -> TestClient:
    app = FastAPI()
    mount_web(app)
    return TestClient(app)


def test_index_is_served_with_a_strict_csp() -> None:
    r = _client().get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'self'" in csp
    # A module script from 'self' is allowed by script-src 'self'; nothing inline.
    assert '<script type="module" src="/static/app.js"></script>' in r.text
    assert 'href="/static/app.css"' in r.text
    assert "<script>" not in r.text and "style=" not in r.text


def test_static_assets_are_served() -> None:
    client = _client()
    for name, kind in [
        ("app.js", "javascript"),
        ("js/chat.js", "javascript"),
        ("app.css", "text/css"),
        ("views.css", "text/css"),
    ]:
        r = client.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert kind in r.headers["content-type"]
    assert client.get("/static/nope.js").status_code == 404


def test_page_loads_nothing_from_the_network() -> None:
    """No CDN: every URL in the page's files is same-origin."""
    for path in _files():
        text = path.read_text(encoding="utf-8")
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", text)
        urls += re.findall(r"""url\(\s*["']?([^"')]+)""", text)
        urls += re.findall(r"""(?:fetch|import)\(\s*["'`]([^"'`]+)""", text)
        urls += re.findall(r"""(?:from|import)\s+["']([^"']+)["']""", text)
        for url in urls:
            assert not re.match(r"^(https?:)?//", url), f"{path.name} loads {url}"


def test_no_innerhtml_in_the_script() -> None:
    """User and API text go in through textContent only."""
    for path in _files("*.js"):
        js = path.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in js, f"{path.name}: {sink}"


def test_modules_import_files_that_exist_and_stay_small() -> None:
    """The page is ES modules with no build step: every relative import resolves to a file
    next to it, and each file stays readable in one sitting."""
    modules = _files("*.js")
    assert len(modules) >= 8, "one module per view plus shared helpers"
    for path in modules:
        text = path.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 400, f"{path.name} is too long to read in one sitting"
        for spec in re.findall(r"""^import .* from "([^"]+)";$""", text, flags=re.M):
            assert spec.startswith("./") and spec.endswith(".js"), (path.name, spec)
            assert (path.parent / spec).resolve().is_file(), (path.name, spec)


def _files(pattern: str = "*") -> list[Path]:
    return sorted(p for p in STATIC_DIR.rglob(pattern) if p.is_file())
