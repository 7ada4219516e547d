"""A whole mock interview through the web page, in Debian's Chromium, against a live server.

One good answer, one empty, one off-topic, one skipped, a reload in the middle (it resumes),
then the report, whose scores must equal the API's report JSON.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from tests.web.a11y import assert_accessible
from tests.web.conftest import http_get, publish_screenshot
from viva.adapters.banks import load_bank_file
from viva.domain.models import Bank

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
OFF_TOPIC = (
    "My favourite pasta sauce starts with olive oil and garlic.\n"
    "Then I add crushed tomatoes, a pinch of salt and fresh basil, and let it simmer."
)


def pct(x: float) -> str:
    """What the page shows: JavaScript's Math.round(x * 100), which rounds halves up."""
    return f"{math.floor(x * 100 + 0.5)}%"


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_bank_file(REPO / "rubrics" / "keras.yaml")


def _good_answer(bank: Bank, question_id: str) -> str:
    ref = bank.question(question_id).reference_answer
    # Two paragraphs, so the multi-line path is exercised.
    sentences = re.split(r"(?<=\.)\s+", ref)
    half = max(1, len(sentences) // 2)
    return " ".join(sentences[:half]) + "\n\n" + " ".join(sentences[half:])


def _current_question_id(page: Any) -> str:
    qid = page.locator("#transcript .msg--interviewer").last.get_attribute("data-question-id")
    assert qid
    return str(qid)


def _wait_for_cards(page: Any, n: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#transcript [data-testid=grade-card]').length === n",
        arg=n,
    )


def decline_follow_up(page: Any) -> bool:
    """Skip the follow-up the interviewer asked after the last answer, if it asked one."""
    page.wait_for_function("() => !document.getElementById('send-button').disabled")
    asked = page.locator("#transcript .msg--interviewer").last
    if asked.get_attribute("data-follow-up") != "true" or page.locator("#composer").is_hidden():
        return False
    n = page.locator("#transcript .msg__text--declined").count()
    page.click("#skip-button")
    page.wait_for_function(
        "n => document.querySelectorAll('#transcript .msg__text--declined').length === n",
        arg=n + 1,
    )
    return True


def test_whole_interview(browser: Any, live_server: str, bank: Bank, artifacts: Path) -> None:
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.set_default_timeout(30_000)

    # --- start -----------------------------------------------------------------------------
    page.goto(live_server + "/")
    page.wait_for_selector("#view-start:not([hidden]) input[name=bank]")
    assert page.locator("#llm-field").is_hidden(), "no LLM configured: no LLM option"
    assert_accessible(page, "start")
    page.screenshot(path=str(artifacts / "start.png"), full_page=True)
    page.check(f"input[name=bank][value={bank.id}]")
    page.fill("#question-count", "4")
    page.click("#start-button")
    page.wait_for_selector("#view-chat:not([hidden])")
    assert "interview=" in page.url
    interview_id = page.url.split("interview=")[1].split("&")[0]
    expect_progress(page, "Question 1 of 4")
    assert page.evaluate("document.activeElement.id") == "answer", "focus moves to the answer"

    # Enter is a new line, not a send.
    page.keyboard.type("first line")
    page.keyboard.press("Enter")
    page.keyboard.type("second line")
    assert page.input_value("#answer") == "first line\nsecond line"
    assert page.locator("#transcript .msg--candidate").count() == 0

    # --- 1: a good answer, sent with Ctrl+Enter -------------------------------------------
    q1 = _current_question_id(page)
    good = _good_answer(bank, q1)
    page.fill("#answer", good)
    page.keyboard.press("Control+Enter")
    _wait_for_cards(page, 1)
    card1 = page.locator("#transcript [data-testid=grade-card]").nth(0)
    assert float(card1.locator("[data-testid=grade-score]").get_attribute("data-score")) >= 0.5
    marks = page.locator("#transcript .msg--candidate").nth(0).locator("mark.ev")
    assert marks.count() >= 1, "covered points are highlighted in the answer"
    assert card1.locator(".points--covered li").count() >= 1
    # The answer keeps its line breaks in the bubble.
    bubble = page.locator("#transcript .msg--candidate .answer-text").nth(0)
    assert bubble.evaluate(ANSWER_TEXT) == good
    # Each covered point's evidence, as the API gives it, is what the page highlights.
    grade = api_json(live_server, f"/v1/interviews/{interview_id}")["responses"][0]["grade"]
    marked = "".join(marks.all_text_contents())
    evidence = [p["evidence"] for p in grade["points"] if p["coverage"] >= 0.5 and p["evidence"]]
    assert evidence
    for ev in evidence:
        assert good[ev["start"] : ev["end"]] == ev["text"]
        assert ev["text"] in marked
    decline_follow_up(page)
    expect_progress(page, "Question 2 of 4")
    assert page.evaluate("document.activeElement.id") == "answer"

    # --- 2: empty, with the button --------------------------------------------------------
    page.fill("#answer", "")
    page.click("#send-button")
    _wait_for_cards(page, 2)
    card2 = page.locator("#transcript [data-testid=grade-card]").nth(1)
    assert card2.locator("[data-testid=grade-score] .score__value").inner_text() == "0%"
    assert "Empty answer" in card2.locator(".flags").inner_text()
    decline_follow_up(page)
    expect_progress(page, "Question 3 of 4")

    # --- reload in the middle: the conversation comes back --------------------------------
    page.reload()
    page.wait_for_selector("#view-chat:not([hidden])")
    _wait_for_cards(page, 2)
    expect_progress(page, "Question 3 of 4")
    assert page.locator("#transcript .msg--interviewer:not(.msg--followup)").count() == 3
    assert page.locator("#transcript .msg--candidate").nth(0).locator("mark.ev").count() >= 1

    # --- 3: off topic ---------------------------------------------------------------------
    page.fill("#answer", OFF_TOPIC)
    page.click("#send-button")
    _wait_for_cards(page, 3)
    card3 = page.locator("#transcript [data-testid=grade-card]").nth(2)
    assert float(card3.locator("[data-testid=grade-score]").get_attribute("data-score")) < 0.3
    # The flags shown are the API's flags (the grader's off-topic call is its own business).
    responses = api_json(live_server, f"/v1/interviews/{interview_id}")["responses"]
    graded = [r for r in responses if r["grade"]]  # not the declined follow-ups
    for i, r in enumerate(graded):
        assert page.locator("#transcript [data-testid=grade-card]").nth(i).locator(
            ".flag"
        ).count() == len(r["grade"]["flags"])
    decline_follow_up(page)
    expect_progress(page, "Question 4 of 4")
    assert page.locator("#skip-button").inner_text() == "Skip question"
    # axe on the chat with grade cards; the old page had <li> outside a list (role="log" on
    # an <ol>), a role not allowed on <ol>, and skipped heading levels.
    rest = assert_accessible(page, "chat")
    assert not [v for v in rest if v["id"] in ("heading-order", "aria-allowed-role")], rest
    page.set_viewport_size({"width": 1100, "height": 1350})
    page.evaluate("window.scrollTo(0, document.querySelector('#transcript .msg').offsetTop - 90)")
    shot = artifacts / "chat.png"
    page.screenshot(path=str(shot))
    publish_screenshot(shot, "chat.png")
    page.set_viewport_size({"width": 1100, "height": 900})

    # --- 4: skip --------------------------------------------------------------------------
    page.click("#skip-button")
    page.wait_for_selector("#finished:not([hidden])")
    assert page.locator("#transcript .msg__text--skipped").count() == 1
    assert page.evaluate("document.activeElement.id") == "open-report"

    # --- the report, opened from the keyboard ---------------------------------------------
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-report:not([hidden]) [data-testid=overall-score]")
    assert "view=report" in page.url
    assert page.evaluate("document.activeElement.id") == "report-heading"

    report = api_json(live_server, f"/v1/interviews/{interview_id}/report")
    check_report_matches(page, report)
    rest = assert_accessible(page, "report")
    assert not [v for v in rest if v["id"] == "heading-order"], rest
    # Only the good answer earns highlights in the report too.
    first = page.locator(f"[data-testid=question-report][data-question-id='{q1}']")
    assert first.locator("mark.ev").count() >= 1
    assert first.locator(".reference").count() == 1

    # Downloads point at the report endpoints and work.
    for sel, kind in [("#download-json", "json"), ("#download-md", "markdown")]:
        href = page.get_attribute(sel, "href")
        assert href and href.startswith(f"/v1/interviews/{interview_id}/report")
        status, ctype, _ = http_get(live_server + href)
        assert status == 200 and kind in ctype
    with page.expect_download() as dl:
        page.click("#download-md")
    assert dl.value.suggested_filename.endswith(".md")

    page.screenshot(path=str(artifacts / "report-full.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 1500})
    page.mouse.move(1090, 1490)  # no hover state in the picture
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    shot = artifacts / "report.png"
    page.screenshot(path=str(shot))
    publish_screenshot(shot, "report.png")

    # Reloading the report URL shows the report again.
    page.reload()
    page.wait_for_selector("#view-report:not([hidden]) [data-testid=overall-score]")
    check_report_matches(page, report)

    # Print media hides the buttons.
    page.emulate_media(media="print")
    assert page.locator("#download-json").is_hidden()
    assert page.locator(".site-header").is_hidden()
    extra = page.locator(".list-card li.extra")
    if extra.count():
        assert extra.first.is_visible(), "print shows the collapsed list items"
    page.emulate_media(media="screen")

    assert not errors, errors
    context.close()


ANSWER_TEXT = """el => {
    const c = el.cloneNode(true);
    c.querySelectorAll('.ev-ref, .visually-hidden').forEach(n => n.remove());
    return c.textContent;
}"""


def api_json(base: str, path: str) -> Any:
    status, _, body = http_get(base + path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def expect_progress(page: Any, text: str) -> None:
    page.wait_for_function(
        "t => document.getElementById('progress-label').textContent === t", arg=text
    )


def check_report_matches(page: Any, report: dict[str, Any]) -> None:
    overall = page.locator("[data-testid=overall-score] .ring__value").inner_text()
    assert overall == pct(report["overall"])
    rows = page.locator("[data-testid=topic-row]")
    assert rows.count() == len(report["topics"])
    for i, t in enumerate(report["topics"]):
        row = rows.nth(i)
        assert row.get_attribute("data-topic") == t["topic"]
        assert row.locator(".chart__value").text_content() == pct(t["score"])
    cards = page.locator("[data-testid=question-report]")
    assert cards.count() == len(report["questions"])
    statuses = []
    for i, q in enumerate(report["questions"]):
        card = cards.nth(i)
        assert card.get_attribute("data-question-id") == q["question_id"]
        shown = card.locator("[data-testid=grade-score] .score__value").first.inner_text()
        expected = q["grade"]["score"] if q["grade"] else 0.0
        assert shown == pct(expected), q["question_id"]
        statuses.append(q["status"])
    assert statuses.count("answered") == 3 and statuses.count("skipped") == 1


def test_phone_width(browser: Any, live_server: str, bank: Bank, artifacts: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(live_server + "/")
    page.wait_for_selector("#view-start:not([hidden]) input[name=bank]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.fill("#question-count", "2")
    page.click("#start-button")
    page.wait_for_selector("#view-chat:not([hidden])")
    qid = _current_question_id(page)
    page.fill("#answer", _good_answer(bank, qid))
    page.click("#send-button")
    _wait_for_cards(page, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scroll"
    page.locator("#transcript .msg--candidate").first.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -60)")
    shot = artifacts / "phone.png"
    page.screenshot(path=str(shot))
    publish_screenshot(shot, "phone.png")
    decline_follow_up(page)
    page.click("#skip-button")
    page.click("#open-report")
    page.wait_for_selector("#view-report:not([hidden]) [data-testid=overall-score]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "phone-report.png"), full_page=True)
    context.close()


def test_api_errors_are_shown(browser: Any, live_server: str) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    page.set_default_timeout(30_000)

    # An unknown interview id: a visible message and the start screen, not a blank page.
    page.goto(live_server + "/?interview=no-such-interview")
    page.wait_for_selector("#alert:not([hidden])")
    assert "not found" in page.locator("#alert").inner_text().lower()
    assert page.locator("#view-start").is_visible()

    # A failing answer: the problem+json detail is shown and the answer is kept for a retry.
    page.goto(live_server + "/")
    page.wait_for_selector("#view-start:not([hidden]) input[name=bank]")
    page.fill("#question-count", "1")
    page.click("#start-button")
    page.wait_for_selector("#view-chat:not([hidden])")

    def fail(route: Any) -> None:
        route.fulfill(
            status=503,
            content_type="application/problem+json",
            body='{"type":"urn:viva:problem:unavailable","title":"Not ready",'
            '"status":503,"detail":"the grader is still loading"}',
        )

    page.route("**/answers", fail)
    page.fill("#answer", "Keras is a high-level API.")
    page.click("#send-button")
    page.wait_for_selector("#alert:not([hidden])")
    assert "the grader is still loading" in page.locator("#alert").inner_text()
    assert page.input_value("#answer") == "Keras is a high-level API."
    assert page.locator("#send-button").is_enabled()
    page.unroute("**/answers")
    page.click("#send-button")
    _wait_for_cards(page, 1)
    assert page.locator("#alert").is_hidden()

    # A real problem+json from the API: the report of an interview still in progress is 409.
    page.goto(live_server + "/")
    page.wait_for_selector("#view-start:not([hidden]) input[name=bank]")
    page.fill("#question-count", "2")
    page.click("#start-button")
    page.wait_for_selector("#view-chat:not([hidden])")
    iid = page.url.split("interview=")[1]
    page.goto(f"{live_server}/?interview={iid}&view=report")
    page.wait_for_selector("#alert:not([hidden])")
    assert "in progress" in page.locator("#alert").inner_text()
    context.close()


FOCUSED = """() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return {id: el.id, outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2};
}"""


def test_keyboard_only(browser: Any, live_server: str) -> None:
    """Start, answer, skip and open the report with the keyboard; focus is always visible."""
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.set_default_timeout(30_000)
    page.goto(live_server + "/")
    page.wait_for_selector("#view-start:not([hidden]) input[name=bank]")
    page.fill("#question-count", "2")
    page.evaluate("document.activeElement.blur()")
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        assert focused["outline"], f"no visible focus on #{focused['id']}"
        if focused["id"] == "start-button":
            break
    else:
        pytest.fail("Tab never reached the start button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-chat:not([hidden])")
    page.wait_for_function("document.activeElement.id === 'answer'")
    page.keyboard.type("Keras is a high-level API.")
    page.keyboard.press("Control+Enter")
    _wait_for_cards(page, 1)
    assert page.evaluate("document.activeElement.id") == "answer"
    # Skip a follow-up (if one is asked) and then question 2, from the keyboard.
    for _ in range(2):
        page.wait_for_function("() => !document.getElementById('skip-button').disabled")
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED) == {"id": "skip-button", "outline": True}
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => ['answer', 'open-report'].includes(document.activeElement.id)"
            " && !document.getElementById('skip-button').disabled"
        )
        if page.locator("#finished").is_visible():
            break
    page.wait_for_selector("#finished:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "open-report"
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-report:not([hidden]) [data-testid=overall-score]")
    assert page.evaluate("document.activeElement.id") == "report-heading"
    page.close()


def test_an_answer_meant_for_an_earlier_question_says_so(
    browser: Any, live_server: str, bank: Bank
) -> None:
    """The candidate sends the first question's answer again at the second: the card names the
    first question, as the API's grade does."""
    import urllib.request

    body = json.dumps({"bank_id": bank.id, "question_ids": ["keras-09", "keras-04"]}).encode()
    req = urllib.request.Request(
        live_server + "/v1/interviews", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        interview_id = json.loads(resp.read())["id"]
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{live_server}/?interview={interview_id}")
    page.wait_for_selector("#view-chat:not([hidden])")
    answer = (
        "Early stopping ends training once the validation loss has not improved for a few "
        "epochs, so the model does not overfit. In Keras you pass an EarlyStopping callback "
        "with monitor, patience and restore_best_weights to fit()."
    )
    for n in (1, 2):
        page.fill("#answer", answer)
        page.click("#send-button")
        _wait_for_cards(page, n)
        decline_follow_up(page)
    cards = page.locator("#transcript [data-testid=grade-card]")
    assert cards.nth(0).locator("[data-testid=other-question]").count() == 0
    second = cards.nth(1)
    assert "Reads as an answer to another question" in second.locator(".flags").inner_text()
    shown = second.locator("[data-testid=other-question]").inner_text()
    assert bank.question("keras-09").prompt in shown
    responses = api_json(live_server, f"/v1/interviews/{interview_id}")["responses"]
    grades = {r["question_id"]: r["grade"] for r in responses if r["grade"]}
    assert grades["keras-09"]["other_question"] is None
    assert grades["keras-04"]["other_question"]["id"] == "keras-09"
    context.close()
