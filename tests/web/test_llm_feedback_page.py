"""With an LLM configured, the page offers written feedback and shows it in the grade card.

The judge is a stub injected through `create_app(judge=...)`: this tests the page, not the LLM.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import make_settings, require_browser, serve
from tests.web.test_interview_page import decline_follow_up
from viva.core.feedback import LLMReply, LLMReview, PointVerdict, ReplyFeedback
from viva.domain.models import Grade, Question

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIP = "Name one concrete Keras API when you explain an idea."
WRONG = "It only ever runs on one backend."


class StubJudge:
    model = "stub-llm"
    prompt = "feedback.v1"

    def __init__(self) -> None:
        self.calls = 0

    def review(self, question: Question, answer: str, grade: Grade) -> LLMReview:
        self.calls += 1
        if self.calls > 1:
            return LLMReview.unavailable("the stub LLM timed out", model=self.model)
        # The first answer's last sentence, said to deny the question's first point: the page
        # must show it against that point, whichever question comes first.
        said = [PointVerdict(id=question.points[0].id, verdict="contradicted", quote=WRONG)]
        reply = LLMReply(
            points=said if WRONG in answer else [],
            feedback=ReplyFeedback(
                good=["You explained <b>why</b>, not only what."],
                add=["Mention the trade-offs."],
                tip=TIP,
            ),
        )
        return LLMReview(
            status="ok", reply=reply, model=self.model, prompt=self.prompt, answer=answer
        )


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_browser()
    settings = make_settings(
        tmp_path_factory.mktemp("viva-llm"),
        VIVA_LLM_BASE_URL="http://127.0.0.1:9/v1",
        llm_model="stub-llm",
    )
    with serve(settings, judge=StubJudge()) as base:
        yield base


def test_llm_feedback_is_offered_and_shown(browser: Any, llm_server: str, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.set_default_timeout(30_000)
    page.goto(llm_server + "/")
    page.wait_for_selector("#view-start:not([hidden]) input[name=bank]")
    assert page.locator("#llm-field").is_visible()
    assert "stub-llm" in page.locator("#llm-field").inner_text()
    page.check("#llm-feedback")
    # Exam mode keeps written feedback for the report (it could give the rubric away), so
    # this runs in practice mode, where feedback follows each answer.
    page.check("#mode-practice")
    page.fill("#question-count", "2")
    page.click("#start-button")
    page.wait_for_selector("#view-chat:not([hidden])")

    page.fill(
        "#answer", f"Keras is a high-level API with ready-made layers and a fit() loop. {WRONG}"
    )
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#transcript [data-testid=feedback]")
    # "You said X" under the point the LLM says the answer denies, and the sentence marked.
    said = page.locator("#transcript [data-testid=point-contradiction]")
    assert said.count() == 1 and WRONG in said.inner_text()
    marked = page.locator("#transcript [data-testid=answer-text] mark.ev--wrong")
    assert marked.count() == 1 and marked.inner_text() == WRONG
    assert "States the opposite of a key point" in page.locator("#transcript .flags").inner_text()
    summary = page.locator("#transcript [data-testid=grade-summary]").first.inner_text()
    assert "1 key point stated the wrong way round" in summary
    fb = page.locator("#transcript [data-testid=feedback]").first
    text = fb.inner_text()
    assert TIP in text
    assert "Mention the trade-offs." in text
    # Model text is shown as text, never parsed as markup.
    assert "<b>why</b>" in text
    assert fb.locator("b").count() == 0

    # When the LLM fails the card says so; the rubric grade is still shown.
    _move_on(page)
    page.fill("#answer", "Dropout randomly zeroes activations during training.")
    page.click("#send-button")
    page.wait_for_selector("#transcript .grade__note")
    _move_on(page)
    page.wait_for_selector("#finished:not([hidden])")
    note = page.locator("#transcript .grade__note").first
    assert "the stub LLM timed out" in note.inner_text()
    page.screenshot(path=str(artifacts / "llm-feedback.png"), full_page=True)
    page.close()


def _move_on(page: Any) -> None:
    """Past a follow-up (skipped) and practice's retry offer, to the next question."""
    decline_follow_up(page)
    if page.locator("#practice-choice").is_visible():
        page.click("#next-question")


def test_no_llm_no_option(browser: Any, live_server: str) -> None:
    page = browser.new_page()
    page.goto(live_server + "/")
    page.wait_for_selector("#view-start:not([hidden]) input[name=bank]")
    assert page.locator("#llm-field").is_hidden()
    page.close()
