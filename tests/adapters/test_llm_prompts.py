"""Versioned prompt templates: loading, validation, and `viva prompt show`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from viva.adapters.prompts import list_prompts, load_prompt, resolve_name
from viva.errors import ConfigError

USER_OK = "{{ question.prompt }}\n{{ boundary_open }}\n{{ answer }}\n{{ boundary_close }}\n"


def write(d: Path, name: str, system: str = "sys {{ schema }}", user: str = USER_OK) -> None:
    (d / f"{name}.system.j2").write_text(system)
    (d / f"{name}.user.j2").write_text(user)


def test_repo_prompts_load() -> None:
    p = load_prompt("feedback", REPO / "prompts")
    assert (p.id, p.version, p.name) == ("feedback", 1, "feedback.v1")
    assert "feedback.v1" in list_prompts(REPO / "prompts")


def test_latest_version_wins_and_exact_names_are_kept(tmp_path: Path) -> None:
    write(tmp_path, "feedback.v1")
    write(tmp_path, "feedback.v2")
    write(tmp_path, "feedback.v10")
    (tmp_path / "feedback.v3.system.j2").write_text("half a prompt")
    assert resolve_name("feedback", tmp_path) == "feedback.v10"
    assert load_prompt("feedback.v2", tmp_path).version == 2


@pytest.mark.parametrize(
    "user, message",
    [
        ("{{ answer }}", "must use boundary_close, boundary_open"),
        ("{% for x in %}", "template syntax error"),
    ],
)
def test_invalid_templates_are_config_errors(tmp_path: Path, user: str, message: str) -> None:
    write(tmp_path, "feedback.v1", user=user)
    with pytest.raises(ConfigError, match=message):
        load_prompt("feedback.v1", tmp_path)


def test_missing_prompt_names_what_exists(tmp_path: Path) -> None:
    write(tmp_path, "feedback.v1")
    with pytest.raises(
        ConfigError, match=r"missing .*feedback\.v7\.system\.j2 \(have: feedback\.v1\)"
    ):
        load_prompt("feedback.v7", tmp_path)
    with pytest.raises(ConfigError, match="must look like"):
        load_prompt("../etc/passwd", tmp_path)


def test_undefined_variable_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "feedback.v1", system="{{ nope }}")
    with pytest.raises(ConfigError, match="nope"):
        load_prompt("feedback.v1", tmp_path).render(
            answer="a", boundary_open="<", boundary_close=">"
        )


def test_cli_prompt_show_renders_a_fenced_sample() -> None:
    from viva.cli.main import app

    result = CliRunner().invoke(
        app, ["prompt", "show", "feedback", "--bank", "keras", "-q", "keras-03", "-a", "My answer."]
    )
    assert result.exit_code == 0, result.output
    assert "# prompt feedback.v1" in result.output and "question keras-03" in result.output
    assert "----- system -----" in result.output and "----- user -----" in result.output
    assert "My answer." in result.output and "<<<END-ANSWER-" in result.output


def test_cli_prompt_show_unknown_prompt_exits_2() -> None:
    from viva.cli.main import app

    result = CliRunner().invoke(app, ["prompt", "show", "nope"])
    assert result.exit_code == 2
    assert "no prompt 'nope'" in result.output


def test_cli_prompt_list() -> None:
    from viva.cli.main import app

    result = CliRunner().invoke(app, ["prompt", "list"])
    assert result.exit_code == 0 and "feedback.v1" in result.output
