"""The candidate-facing web page: one static HTML page plus vanilla JS and CSS.

No build step and nothing fetched from the network: the files live next to this module and are
served by the same FastAPI app as the REST API, which the page talks to.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from viva.settings import Settings, get_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Only our own files may load: no inline scripts, no third-party origins, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def mount_web(app: FastAPI) -> None:
    """Serve the page at `/`, its assets under `/static/`, and `/web/config` (what the page
    may offer, e.g. LLM feedback only when an LLM is configured).
    """
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def web_index() -> FileResponse:
        return FileResponse(index, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    @app.get("/web/config", include_in_schema=False)
    def web_config(request: Request) -> dict[str, object]:
        settings = getattr(request.app.state, "settings", None)
        s: Settings = settings if isinstance(settings, Settings) else get_settings()
        return {
            "llm": {"enabled": s.llm_enabled, "model": s.llm_model if s.llm_enabled else None},
            "max_answer_chars": s.max_answer_chars,
        }

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
