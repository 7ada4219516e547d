"""Markdown and self-contained HTML renderings of reports. Both escape every text they print."""

from __future__ import annotations

from collections.abc import Sequence

from jinja2 import Environment, select_autoescape

from viva.core.scoring import PARTIAL
from viva.domain.models import Grade, Report, Span

_env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)


def _md_escape(value: object) -> str:
    """Every value printed into Markdown, with HTML's special characters as entities: Markdown
    renderers pass raw HTML through, so an answer's `<script>` would run in a viewer."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# `finalize` runs on every {{ expression }}, so no field can forget to escape; the template's
# own markup (the <details> block) is literal text and stays as it is.
_md_env = Environment(autoescape=False, finalize=_md_escape, trim_blocks=True, lstrip_blocks=True)
_md_env.globals["PARTIAL"] = PARTIAL


def pct(x: float) -> str:
    return f"{round(x * 100):d}%"


def _md_quote(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


_md_env.filters["pct"] = pct
_md_env.filters["q"] = _md_quote
_env.filters["pct"] = pct

_MD = _md_env.from_string(
    """# Viva report{% if r.candidate %}: {{ r.candidate }}{% endif %}

**Overall: {{ r.overall | pct }} ({{ r.label }})** — bank `{{ r.bank_id }}` v{{ r.bank_version }}\
{% if r.model %}, model `{{ r.model }}`{% endif %}\
{% if r.grader_version %}, grader `{{ r.grader_version }}`{% endif %}


| Topic | Score | Answered | Verdict |
|---|---|---|---|
{% for t in r.topics %}
| {{ t.name or t.topic }} | {{ t.score | pct }} | {{ t.answered }}/{{ t.total }} \
| {{ t.verdict | q }} |
{% endfor %}

{% if r.study_next %}
**Start with:** {{ r.study_next[0].text | q }}

## What to study next
{% for s in r.study_next %}
- {{ s.text | q }}
{% for u in s.learn %}
  - Read: <{{ u }}>
{% endfor %}
{% endfor %}

{% endif %}
{% if r.misconceptions %}
## Misconceptions
{% for m in r.misconceptions %}
- You said “{{ m.said | q }}”{% if m.in_fact %}; in fact {{ m.in_fact | q }}{% endif %}.
{% endfor %}

{% endif %}
{% for t in r.topics if t.did_well %}
{% if loop.first %}
## What you did well
{% endif %}
- **{{ t.name or t.topic }}:** {{ t.did_well | join(" ") }}
{% if loop.last %}

{% endif %}
{% endfor %}
## Questions
{% for it in r.questions %}

### {{ it.question_id }} ({{ it.topic_name or it.topic }}, {{ it.difficulty }}) — \
{% if it.grade %}{{ it.grade.score | pct }} ({{ it.grade.label }})\
{% else %}{{ it.status }}{% endif %}

> {{ it.prompt | q }}

{% if it.review %}
**Reviewed:** {{ it.review.score | pct }} by {{ it.review.reviewer }} \
(Viva: {{ it.review.viva_score | pct }}){% if it.review.note %}. {{ it.review.note }}{% endif %}

{% endif %}
{% if it.error %}
**Error:** {{ it.error }}

{% endif %}
{% if it.time_taken_s is not none %}
_Time taken: {{ it.time_taken_s | round(1) }} s\
{% if it.over_time %} (over the time limit){% endif %}_

{% endif %}
{% if it.attempts %}
**Tries:** {% for a in it.attempts %}{{ a.grade.score | pct }}{% if not loop.last %} → {% endif %}\
{% endfor %}{% if it.improvement is not none %} \
({{ "%+d" | format((it.improvement * 100) | round | int) }} points; the better one counts)\
{% endif %}

{% endif %}
{% if it.answer is not none %}
**Answer:** {{ (it.answer | q) if it.answer.strip() else "_(empty)_" }}

{% endif %}
{% if it.grade %}
{% if it.grade.flags %}
**Flags:** {{ it.grade.flags | join(", ") }}

{% endif %}
{% if it.grade.other_question %}
**Reads as an answer to {{ it.grade.other_question.id }}** \
({{ it.grade.other_question.score | pct }} there): {{ it.grade.other_question.prompt }}

{% endif %}
{% for p in it.grade.points %}
- {% if p.covered %}✅{% elif p.coverage >= PARTIAL %}◐{% else %}❌{% endif %} \
**{{ p.id }}** ({{ p.coverage | pct }}, weight {{ p.weight | round(2) }}): {{ p.text }}\
{% if p.evidence %} — _“{{ p.evidence.text | q }}”_{% endif %}\
{% if it.follow_up and p.id in it.follow_up.earned %} _(from the follow-up)_{% endif %}

{% endfor %}
{% for m in it.grade.misconceptions if m.triggered %}
- ⚠️ misconception **{{ m.id }}** (−{{ m.applied_penalty | pct }}): {{ m.text }}\
{% if m.evidence %} — _“{{ m.evidence.text | q }}”_{% endif %}

{% endfor %}
{% if it.grade.feedback %}

**Feedback:** {{ it.grade.feedback.good | join(" ") }} {{ it.grade.feedback.add | join(" ") }}\
{% if it.grade.feedback.tip %} Tip: {{ it.grade.feedback.tip }}{% endif %}

{% endif %}
{% endif %}
{% if it.follow_up %}

**Follow-up:** {{ it.follow_up.prompt | q }} — \
{% if it.follow_up.status == "answered" %}“{{ it.follow_up.answer | q }}”\
{% if it.follow_up.earned %} (earned {{ it.follow_up.earned | join(", ") }}){% endif %}\
{% else %}_{{ it.follow_up.status }}_{% endif %}


{% endif %}
{% if it.reference_answer %}

<details><summary>Reference answer</summary>

{{ it.reference_answer | q }}

</details>
{% endif %}
{% endfor %}
"""
)


def render_markdown(report: Report) -> str:
    return _MD.render(r=report)


def highlight(answer: str, spans: Sequence[Span]) -> list[tuple[str, bool]]:
    """Cut the answer into (text, is_evidence) pieces so templates can mark evidence safely."""
    marks = sorted({(s.start, s.end) for s in spans if 0 <= s.start < s.end <= len(answer)})
    merged: list[tuple[int, int]] = []
    for a, b in marks:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    out: list[tuple[str, bool]] = []
    pos = 0
    for a, b in merged:
        if a > pos:
            out.append((answer[pos:a], False))
        out.append((answer[a:b], True))
        pos = b
    if pos < len(answer):
        out.append((answer[pos:], False))
    return out


def _evidence(grade: Grade | None) -> list[Span]:
    if grade is None:
        return []
    return [p.evidence for p in grade.points if p.evidence and p.covered]


_env.globals.update(highlight=highlight, evidence=_evidence)

_HTML = _env.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;
max-width:60rem;margin:2rem auto;padding:0 1rem;overflow-wrap:anywhere}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:2px solid #e3e7ee;padding-bottom:.3rem}
.wide{overflow-x:auto}table{border-collapse:collapse;margin:.5rem 0;width:100%}
td,th{border:1px solid #d6dbe4;padding:.25rem .6rem;text-align:left;vertical-align:top}
.score{font-weight:700}.q{border:1px solid #e3e7ee;border-radius:8px;
padding:.8rem 1rem;margin:1rem 0}.prompt{font-weight:600}.answer{white-space:pre-wrap;
background:#f6f8fb;padding:.5rem .7rem;border-radius:6px}mark{background:#d9f5dd;padding:0 .1em}
.ok{color:#17692a}.miss{color:#a32121}.flag{display:inline-block;background:#fff1d6;
color:#7a4b00;border-radius:4px;padding:0 .4em;margin-right:.3em;font-size:.85em}
.meta{color:#5b6575;font-size:.85em}details{margin-top:.4rem}
.track{display:block;position:relative;height:.6em;background:#eef1f6;border-radius:3px;
min-width:4rem}.bar{display:block;height:100%;background:#3b6fd8;border-radius:3px}
ul{padding-left:1.2rem}
@media (max-width:40rem){body{margin:1rem auto;padding:0 .6rem;font-size:14px}
td,th{padding:.2rem .35rem}.q{padding:.6rem}h1{font-size:1.3rem}}
@media print{body{margin:0}.q{break-inside:avoid}}
</style></head><body>
<h1>{{ title }}</h1>
{% for r in reports %}
<section>
<h2>{{ r.candidate or "Candidate" }} — <span class="score">{{ r.overall | pct }}</span>
({{ r.label }})</h2>
{% if r.study_next %}<p><strong>Start with:</strong> {{ r.study_next[0].text }}</p>{% endif %}
<p class="meta">Bank {{ r.bank_id }} v{{ r.bank_version }}{% if r.model %} · model {{ r.model }}
{% endif %}{% if r.grader_version %} · {{ r.grader_version }}{% endif %}</p>
<div class="wide"><table><tr><th>Topic</th><th>Score</th><th>Verdict</th></tr>
{% for t in r.topics %}<tr><td>{{ t.name or t.topic }}<br><span class="meta">{{ t.answered }} of
{{ t.total }} answered</span></td><td>{{ t.score | pct }} ({{ t.label }})
<span class="track"><span class="bar" style="width:{{ (t.score * 100) | round(0) }}%"></span>
</span></td><td>{{ t.verdict }}</td></tr>{% endfor %}
</table></div>
<p class="meta">Labels: needs work below 40%, partial from 40%, strong from 75%.</p>
{% if r.study_next %}<h3>What to study next</h3><ul>
{% for s in r.study_next %}<li>{{ s.text }}{% if s.learn %}<ul>{% for u in s.learn %}
<li><a href="{{ u }}">{{ u }}</a></li>{% endfor %}</ul>{% endif %}</li>{% endfor %}</ul>{% endif %}
{% if r.misconceptions %}<h3>Misconceptions</h3><ul>
{% for m in r.misconceptions %}<li>You said “{{ m.said }}”{% if m.in_fact %}; in fact
{{ m.in_fact }}{% endif %}.</li>{% endfor %}</ul>{% endif %}
{% for t in r.topics if t.did_well %}{% if loop.first %}<h3>What you did well</h3><ul>{% endif %}
<li><strong>{{ t.name or t.topic }}:</strong> {{ t.did_well | join(" ") }}</li>
{% if loop.last %}</ul>{% endif %}{% endfor %}
{% for it in r.questions %}
<div class="q"><div class="prompt">{{ it.question_id }} · {{ it.prompt }}</div>
<div class="meta">{{ it.topic_name or it.topic }} · {{ it.difficulty }} ·
{% if it.grade %}<span class="score">{{ it.grade.score | pct }}</span> ({{ it.grade.label }})
{% else %}{{ it.status }}{% endif %}{% if it.time_taken_s is not none %} ·
{{ it.time_taken_s | round(1) }} s{% if it.over_time %} (over the limit){% endif %}{% endif %}</div>
{% if it.review %}<p class="meta">Reviewed: <strong>{{ it.review.score | pct }}</strong> by
{{ it.review.reviewer }} (Viva: {{ it.review.viva_score | pct }}){% if it.review.note %}.
{{ it.review.note }}{% endif %}</p>{% endif %}
{% if it.attempts %}<p class="meta">Tries: {% for a in it.attempts %}{{ a.grade.score | pct }}
{% if not loop.last %} → {% endif %}{% endfor %}; the better one counts.</p>{% endif %}
{% if it.error %}<p class="miss">Error: {{ it.error }}</p>{% endif %}
{% if it.answer is not none %}<div class="answer">{% for text, hit in highlight(it.answer,
evidence(it.grade)) %}{% if hit %}<mark>{{ text }}</mark>{% else %}{{ text }}{% endif %}{% endfor %}
{% if not it.answer.strip() %}<em>(empty)</em>{% endif %}</div>{% endif %}
{% if it.grade %}
{% for f in it.grade.flags %}<span class="flag">{{ f }}</span>{% endfor %}
{% if it.grade.other_question %}<p class="miss">Reads as an answer to
{{ it.grade.other_question.id }} ({{ it.grade.other_question.score | pct }} there):
{{ it.grade.other_question.prompt }}</p>{% endif %}
<ul>{% for p in it.grade.points %}
<li class="{{ 'ok' if p.covered else 'miss' }}">{{ '✔' if p.covered else '✘' }}
{{ p.text }} <span class="meta">({{ p.coverage | pct }}{% if it.follow_up and p.id in
it.follow_up.earned %}, from the follow-up{% endif %})</span>
{% if p.evidence and p.covered %}<div class="meta">“{{ p.evidence.text }}”</div>{% endif %}
</li>{% endfor %}
{% for m in it.grade.misconceptions if m.triggered %}<li class="miss">⚠ {{ m.text }}
<span class="meta">(−{{ m.applied_penalty | pct }})</span></li>{% endfor %}</ul>
{% if it.grade.feedback %}<p><strong>Feedback:</strong> {{ it.grade.feedback.good | join(" ") }}
{{ it.grade.feedback.add | join(" ") }} {{ it.grade.feedback.tip }}</p>{% endif %}
{% endif %}
{% if it.follow_up %}<p><strong>Follow-up:</strong> {{ it.follow_up.prompt }} —
{% if it.follow_up.status == "answered" %}“{{ it.follow_up.answer }}”{% else %}
<em>{{ it.follow_up.status }}</em>{% endif %}</p>{% endif %}
{% if it.reference_answer %}<details><summary>Reference answer</summary>
<p>{{ it.reference_answer }}</p></details>{% endif %}
</div>
{% endfor %}
</section>
{% endfor %}
</body></html>
"""
)


def render_html(reports: Sequence[Report], title: str = "Viva report") -> str:
    return _HTML.render(reports=list(reports), title=title)
