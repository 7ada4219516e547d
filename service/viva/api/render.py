"""Report rendering for `?format=md|html`: the shared renderers in `viva.reports.render`, with a
plain fallback so the API still answers if that module is absent from a build.
"""

from __future__ import annotations

from html import escape

from viva.domain.models import Report


def markdown(report: Report) -> str:
    try:
        from viva.reports.render import render_markdown
    except ImportError:  # pragma: no cover - only without the renderers
        return _fallback_markdown(report)
    return render_markdown(report)


def html(report: Report, title: str) -> str:
    try:
        from viva.reports.render import render_html
    except ImportError:  # pragma: no cover - only without the renderers
        return _fallback_html(report, title)
    return render_html([report], title)


def _fallback_markdown(r: Report) -> str:
    lines = [
        f"# Viva report: {r.candidate or 'candidate'}",
        "",
        f"Bank {r.bank_id} v{r.bank_version}. Overall **{r.overall:.0%}**.",
        "",
    ]
    lines += ["| Topic | Score | Answered |", "|---|---|---|"]
    lines += [f"| {t.topic} | {t.score:.0%} | {t.answered}/{t.total} |" for t in r.topics]
    for q in r.questions:
        lines += [
            "",
            f"## {q.question_id}: {q.prompt}",
            "",
            f"Status: {q.status}, score {q.score:.0%}.",
            "",
            "Reference answer:",
            "",
            q.reference_answer,
        ]
    if r.study_next:
        lines += ["", "## Study next", "", *[f"- {s}" for s in r.study_next]]
    return "\n".join(lines) + "\n"


def _fallback_html(r: Report, title: str) -> str:
    rows = "".join(
        f"<tr><td>{escape(q.question_id)}</td><td>{escape(q.prompt)}</td>"
        f"<td>{q.score:.0%}</td><td>{escape(q.reference_answer)}</td></tr>"
        for q in r.questions
    )
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
        f"<h1>{escape(title)}</h1><p>Overall {r.overall:.0%}</p>"
        f"<table><tr><th>Question</th><th>Prompt</th><th>Score</th><th>Reference</th></tr>"
        f"{rows}</table></html>"
    )
