"""Security headers on every HTML response, whichever route or library produced it.

The web page sets its own; the HTML report and the API docs get the same set here, each with a
Content-Security-Policy that fits the document: the report is one file with inline styles and no
scripts at all; the docs load Swagger UI / ReDoc from their CDN.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from viva.web import CSP as PAGE_CSP

REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
"""The self-contained HTML report: its own inline CSS, nothing else, no scripts."""

DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com "
    "https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
"""FastAPI's /docs and /redoc pages, which load their scripts from a CDN."""

_DOCS_PATHS = ("/docs", "/redoc")


def security_headers(csp: str) -> dict[str, str]:
    """The web page's header set with the given policy."""
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


class HtmlSecurityHeaders:
    """Fill in the security headers a `text/html` response lacks (a route's own CSP wins);
    every other response at least gets `X-Content-Type-Options: nosniff`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        csp = DOCS_CSP if path.startswith(_DOCS_PATHS) else PAGE_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                wanted = (
                    security_headers(csp)
                    if ctype.lower().startswith(b"text/html")
                    else {"X-Content-Type-Options": "nosniff"}
                )
                for name, value in wanted.items():
                    key = name.lower().encode("latin-1")
                    if key not in have:
                        headers.append((key, value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
