"""`viva keys`, `viva purge`, `viva export`, and `viva serve` refusing an open network bind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from viva.cli.main import app
from viva.cli.serve import is_loopback

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from viva.composition import _components
    from viva.settings import get_settings

    monkeypatch.setenv("VIVA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIVA_RUBRICS_DIR", str(REPO / "rubrics"))
    for name in ("VIVA_DATABASE_URL", "VIVA_HOST", "VIVA_INSECURE", "VIVA_RETENTION_DAYS"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    _components.clear()
    yield {}
    get_settings.cache_clear()
    _components.clear()


def test_keys_create_list_revoke(env: dict[str, str]) -> None:
    made = runner.invoke(app, ["keys", "create", "--role", "candidate", "--name", "Cat"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("viva_") and "shown only now" in made.stderr
    listed = runner.invoke(app, ["keys", "list"])
    [line] = listed.stdout.splitlines()
    key_id, role, name, _, state = line.split("\t")
    assert (role, name, state) == ("candidate", "Cat", "active") and key_id in key
    assert key not in listed.stdout  # never shown again
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    assert runner.invoke(app, ["keys", "list"]).stdout.split("\t")[-1].strip() != "active"
    bad = runner.invoke(app, ["keys", "create", "--role", "boss", "--name", "x"])
    assert bad.exit_code == 2 and "unknown role" in bad.stderr
    assert runner.invoke(app, ["keys", "revoke", "nope"]).exit_code == 2


def test_purge_needs_a_period_and_export_is_json(env: dict[str, str]) -> None:
    r = runner.invoke(app, ["purge"])
    assert r.exit_code == 2 and "VIVA_RETENTION_DAYS" in r.stderr
    r = runner.invoke(app, ["purge", "--days", "30"])
    assert r.exit_code == 0 and "purged 0" in r.stdout
    r = runner.invoke(app, ["export", "Ada"])
    assert r.exit_code == 0 and '"candidate": "Ada"' in r.stdout


def test_serve_refuses_a_network_address_without_authentication(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from viva.cli import serve

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serve, "listen", lambda *a, **kw: calls.append(kw))
    r = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "refusing to serve 0.0.0.0" in r.stderr
    assert "--insecure" in r.stderr and not calls
    assert runner.invoke(app, ["serve", "--host", "0.0.0.0", "--insecure"]).exit_code == 0
    assert runner.invoke(app, ["serve"]).exit_code == 0  # loopback: open, as before
    runner.invoke(app, ["keys", "create", "--role", "admin", "--name", "me"])
    assert runner.invoke(app, ["serve", "--host", "0.0.0.0"]).exit_code == 0
    assert [c["host"] for c in calls] == ["0.0.0.0", "127.0.0.1", "0.0.0.0"]


@pytest.mark.parametrize(
    ("host", "loop"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.2", False),
     ("example.org", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop
