"""Who may read /metrics: everyone in open local mode; with authentication on, admins and the
scraper's VIVA_METRICS_TOKEN only (request rates and routes help an attacker time a flood)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings

SCRAPER = "scraper-token-that-is-long-enough-42"


@pytest.mark.parametrize(
    ("who", "want"),
    [
        ("root", 200),
        ("admin-file", 200),
        ("scraper", 200),
        ("ian", 403),
        ("cat", 403),
        ("link", 403),
        ("anon", 401),
        ("wrong-token", 401),
    ],
)
def test_metrics_role_matrix_with_auth_on(
    tmp_path: Path, database_url: str, who: str, want: int
) -> None:
    keys = make_keys(database_url, ("admin", "root"), ("interviewer", "ian"), ("candidate", "cat"))
    secret = tmp_path / "admin.key"
    secret.write_text("an-admin-key-from-a-docker-secret-0001")
    s = make_settings(
        tmp_path, database_url, metrics_token=SCRAPER, admin_key_file=secret, rate_limits=False
    )
    with serve(s) as c:
        made = c.post(
            "/v1/interviews",
            json={"bank_id": "keras", "question_count": 1, "candidate_link": True},
            headers=bearer(keys["ian"]),
        ).json()
        creds = {
            **keys,
            "admin-file": secret.read_text(),
            "scraper": SCRAPER,
            "link": made["candidate_link"],
            "wrong-token": "viva_0123456789ab_" + "x" * 43,
        }
        headers = bearer(creds[who]) if who in creds else {}
        r = c.get("/metrics", headers=headers)
        if want == 200:
            assert r.status_code == 200, r.text
            assert "viva_http_requests_total" in r.text
        else:
            body = assert_problem(r, want)
            assert "viva_" not in body["detail"]
        # The scraper token is for /metrics only: it opens no API route.
        assert_problem(c.get("/v1/banks", headers=bearer(SCRAPER)), 401)


def test_metrics_open_in_open_local_mode(tmp_path: Path) -> None:
    with serve(make_settings(tmp_path, None)) as c:
        r = c.get("/metrics")
        assert r.status_code == 200 and "viva_ready 1.0" in r.text


def test_metrics_count_as_requests_for_the_rate_limit(tmp_path: Path, database_url: str) -> None:
    """A flood on /metrics is limited like any other call with authentication on."""
    s = make_settings(tmp_path, database_url, auth_required=True, rate_limit_ip="3/minute")
    with serve(s) as c:
        codes = [c.get("/metrics").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
