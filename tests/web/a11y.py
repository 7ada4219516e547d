"""axe-core accessibility checks for the browser tests (axe is vendored under tests/web/vendor;
the page itself never loads it).

axe runs through page.evaluate, which the DevTools protocol runs outside the page's CSP, so the
page is checked with its strict CSP still on.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
FAILING = ("serious", "critical")


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Any, context: str = "body") -> list[dict[str, Any]]:
    """Every axe violation in `context` (a CSS selector), checked against WCAG 2.x A and AA
    plus axe's best practices (heading order, landmarks)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        """async (ctx) => {
            const r = await axe.run(document.querySelector(ctx), {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                                'best-practice']},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }""",
        context,
    )
    return list(result)


def assert_accessible(page: Any, view: str) -> list[dict[str, Any]]:
    """Fail on any serious or critical violation in the page as it is now; return the rest
    (moderate, minor) so a test may be stricter."""
    found = axe_violations(page)
    bad = [v for v in found if v["impact"] in FAILING]
    assert not bad, f"axe on the {view} view: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in bad
    )
    return [v for v in found if v["impact"] not in FAILING]
