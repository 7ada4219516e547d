"""Several bank folders (VIVA_RUBRICS_PATH) and the admin reload endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings
from viva.adapters.banks import BankRepository
from viva.errors import BankValidationError
from viva.settings import Settings

MINI = """id: {id}
title: "Mini"
version: "1"
topic_names: {{sql-joins: "SQL joins"}}
questions:
  - id: m1
    prompt: "What does a left join keep?"
    topic: sql-joins
    points:
      - id: rows
        text: "Every row of the left table, with nulls where the right has no match."
"""


def test_user_folders_add_to_the_built_in_banks(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    user.mkdir()
    (user / "mini.yaml").write_text(MINI.format(id="mini"))
    s = Settings(rubrics_path=f"{user}", _env_file=None)  # type: ignore[call-arg]
    assert s.bank_dirs == [s.rubrics_dir, user]
    repo = BankRepository(s.bank_dirs)
    assert {"keras", "mini"} <= {b.id for b in repo.all()}
    (user / "clash.yaml").write_text(MINI.format(id="keras"))
    with pytest.raises(BankValidationError, match="defined twice"):
        repo.reload()
    assert repo.get("mini").title == "Mini"  # the old set stays


def test_admins_reload_banks_without_a_restart(tmp_path: Path, database_url: str) -> None:
    user = tmp_path / "mine"
    user.mkdir()
    keys = make_keys(database_url, ("admin", "root"), ("candidate", "cat"))
    settings = make_settings(tmp_path, database_url, rubrics_path=str(user), rate_limits=False)
    with serve(settings) as client:
        admin, cat = bearer(keys["root"]), bearer(keys["cat"])
        assert client.get("/v1/banks/mini", headers=admin).status_code == 404
        (user / "mini.yaml").write_text(MINI.format(id="mini"))
        assert_problem(client.post("/v1/banks/reload", headers=cat), 403, "admins")
        r = client.post("/v1/banks/reload", headers=admin)
        assert r.status_code == 200, r.text
        ids = [b["id"] for b in r.json()["banks"]]
        assert "mini" in ids and "keras" in ids
        mini = client.get("/v1/banks/mini", headers=cat).json()
        assert mini["topic_names"] == {"sql-joins": "SQL joins"}
        (user / "mini.yaml").write_text("id: mini\nquestions: []\n")
        bad = assert_problem(client.post("/v1/banks/reload", headers=admin), 422)
        assert str(user) not in bad["detail"]  # server paths stay hidden
        assert client.get("/v1/banks/mini", headers=cat).status_code == 200


def test_reload_is_post_only_though_a_bank_path_also_matches(tmp_path: Path) -> None:
    """Found by schemathesis: OPTIONS /v1/banks/reload listed GET, from /v1/banks/{bank_id}."""
    with serve(make_settings(tmp_path, None)) as client:
        r = client.options("/v1/banks/reload")
        assert r.status_code == 405 and r.headers["allow"] == "POST"
        assert client.options("/v1/interviews").headers["allow"] == "GET, POST"
