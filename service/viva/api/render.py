"""Report rendering for `?format=md|html`, with the renderers `viva grade` uses for its reports."""

from __future__ import annotations

from viva.api.headers import REPORT_CSP, security_headers
from viva.domain.models import Report
from viva.reports.render import render_html, render_markdown


def markdown(report: Report) -> str:
    return render_markdown(report)


def html(report: Report, title: str) -> str:
    return render_html([report], title)


REPORT_HEADERS = security_headers(REPORT_CSP)
"""The HTML report's security headers: the page's set, with a policy for inline CSS only."""
