"""The page and its assets are served by `mount_web`, with no third-party origins."""

from __future__ import annotations

import re

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
    assert 'src="/static/app.js"' in r.text
    assert 'href="/static/app.css"' in r.text


def test_static_assets_are_served() -> None:
    client = _client()
    for name, kind in [("app.js", "javascript"), ("app.css", "text/css")]:
        r = client.get(f"/static/{name}")
        assert r.status_code == 200, name
        assert kind in r.headers["content-type"]
    assert client.get("/static/nope.js").status_code == 404


def test_page_loads_nothing_from_the_network() -> None:
    """No CDN: every URL in the page's files is same-origin."""
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", text)
        urls += re.findall(r"""url\(\s*["']?([^"')]+)""", text)
        urls += re.findall(r"""(?:fetch|import)\(\s*["'`]([^"'`]+)""", text)
        for url in urls:
            assert not re.match(r"^(https?:)?//", url), f"{path.name} loads {url}"


def test_no_innerhtml_in_the_script() -> None:
    """User and API text go in through textContent only."""
    js = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in js, sink
