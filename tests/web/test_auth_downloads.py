"""With accounts on, the report's download buttons still work: a plain link cannot send the
key (it would get a 401), so the page fetches the file with `Authorization` and saves a blob."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.live import call, threaded_server
from tests.web.conftest import http_get, make_settings, require_browser
from viva.api import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN = "an-admin-key-for-the-download-test-0001"


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    require_browser()
    from tests.fakes.embedder import FakeEmbedder
    from viva.core.grader import Grader

    data = tmp_path_factory.mktemp("viva-auth-web")
    secret = data / "admin.key"
    secret.write_text(ADMIN)
    s = make_settings(data, admin_key_file=secret, rate_limits=False)
    with threaded_server(create_app(s, grader=Grader(FakeEmbedder()))) as base:
        yield base


def _finished_interview_for_a_candidate(base: str) -> tuple[str, str]:
    """(interview id, candidate link token): made by the admin, skipped through by the link."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    body = {"bank_id": "keras", "question_count": 2, "candidate": "Dana", "candidate_link": True}
    status, iv = call(base, "POST", "/v1/interviews", body, admin)
    assert status == 201, iv
    link = {"Authorization": f"Bearer {iv['candidate_link']}"}
    for _ in range(2):
        status, out = call(base, "POST", f"/v1/interviews/{iv['id']}/skip", None, link)
        assert status == 200, out
    return str(iv["id"]), str(iv["candidate_link"])


def test_report_downloads_send_the_credential(browser: Any, auth_server: str) -> None:
    iv_id, link = _finished_interview_for_a_candidate(auth_server)
    # The bare link is refused: this is what a plain <a href download> would get.
    assert http_get(f"{auth_server}/v1/interviews/{iv_id}/report?format=md")[0] == 401

    errors: list[str] = []
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{auth_server}/?link={link}&interview={iv_id}&view=report")
        page.wait_for_selector("#view-report:not([hidden]) [data-testid=overall-score]")
        assert "link=" not in page.url  # the token left the address bar

        for sel, suffix, needle in [
            ("#download-md", ".md", "Dana"),
            ("#download-json", ".json", '"candidate": "Dana"'),
        ]:
            with page.expect_download() as dl:
                page.click(sel)
            got = dl.value
            assert got.failure() is None
            assert got.suggested_filename == f"viva-report-{iv_id}{suffix}"
            text = Path(got.path()).read_text(encoding="utf-8")
            assert needle in text.replace('":"', '": "'), text[:300]
            assert "Authentication required" not in text
        assert page.locator("#alert").is_hidden()
        assert errors == []
    finally:
        context.close()


def test_a_failed_download_says_why(browser: Any, auth_server: str) -> None:
    """A revoked or wrong credential shows the problem instead of saving an error as a file."""
    iv_id, _ = _finished_interview_for_a_candidate(auth_server)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{auth_server}/?key={ADMIN}&interview={iv_id}&view=report")
        page.wait_for_selector("#view-report:not([hidden]) [data-testid=overall-score]")
        page.evaluate("sessionStorage.setItem('viva.credential', 'viva_0123456789ab_wrong')")
        page.click("#download-md")
        page.wait_for_selector("#alert:not([hidden])")
        assert "401" in page.locator("#alert-title").inner_text()
    finally:
        context.close()
