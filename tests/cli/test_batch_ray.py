"""`viva grade --engine ray` writes what the default engine writes, row for row and byte for
byte, in input order, with the same bad-row handling, exit codes and `--resume`.

A local Ray with 2 CPUs runs the actor pool. Each actor builds its grader through the
composition root in its own process, so the fake embedder is registered there by a worker
set-up hook (and here, for the default engine's run), under a provider name of its own.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.cli.main import app
from viva.settings import get_settings

runner = CliRunner()
PROVIDER = "ray-test-fake"
GOOD = "Dropout randomly zeroes activations during training, so the network overfits less."
ROWS = 300  # three model batches of 128, so two actors finish out of order


def _fake(model: str = "", **_: Any) -> FakeEmbedder:
    return FakeEmbedder()


def register_fake() -> None:
    """Runs in every Ray worker before it takes a task (and here, for the default engine)."""
    from viva.adapters.embedder import REGISTRY

    REGISTRY[PROVIDER] = _fake


def _ray() -> Any:
    """Ray, or a skip; under CI (`pip install -e '.[test]'` installs it) a missing Ray fails."""
    if os.environ.get("CI") == "true":
        import ray

        return ray
    return pytest.importorskip("ray", reason="--engine ray needs viva[ray] (pip install ray)")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray for the module (the engine joins it rather than starting its own)."""
    ray = _ray()
    path = os.pathsep.join(
        [str(REPO / "service"), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={
            "worker_process_setup_hook": register_fake,
            "env_vars": {"PYTHONPATH": path, "HF_HUB_OFFLINE": "1"},
        },
    )
    yield
    ray.shutdown()


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings that name the fake embedder, here and (pickled) in every actor."""
    from viva.adapters.embedder import REGISTRY

    monkeypatch.setitem(REGISTRY, PROVIDER, _fake)
    monkeypatch.setenv("VIVA_EMBEDDING_PROVIDER", PROVIDER)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def answers_file(path: Path) -> Path:
    """ROWS rows with every kind of bad row among them: an unknown question, a missing answer,
    an answer that is not text, and a line that is not JSON."""
    lines = []
    for i in range(1, ROWS + 1):
        row: dict[str, Any] = {
            "id": f"r{i}",
            "candidate": f"cand{i % 4}",
            "question_id": "keras-05",
            "answer": f"{GOOD} ({i})",
            "cohort": "spring",  # a pass-through field
        }
        if i % 50 == 7:
            row["question_id"] = "keras-99"
        elif i % 50 == 19:
            del row["answer"]
        elif i % 50 == 33:
            row["answer"] = 42
        lines.append("{oops" if i == 250 else json.dumps(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def grade(*args: str | Path) -> Any:
    return runner.invoke(app, ["grade", *map(str, args)])


def test_the_ray_engine_writes_the_default_engines_rows(
    tmp_path: Path, local_ray: None, fake_model: None
) -> None:
    answers = answers_file(tmp_path / "a.jsonl")
    for ext in ("jsonl", "csv"):
        default = grade(answers, "-o", tmp_path / f"default.{ext}")
        on_ray = grade(answers, "-o", tmp_path / f"ray.{ext}", "--engine", "ray")
        assert default.exit_code == on_ray.exit_code == 1, on_ray.output
        assert on_ray.output == default.output.replace("default.", "ray.")
        assert (tmp_path / f"ray.{ext}").read_bytes() == (tmp_path / f"default.{ext}").read_bytes()
    written = [json.loads(line) for line in (tmp_path / "ray.jsonl").read_text().splitlines()]
    assert [r["row"] for r in written] == list(range(1, ROWS + 1))  # input order
    assert sum(r["score"] is None for r in written) == 19
    assert "19 of 300 rows failed" in on_ray.output
    assert "skipped row 7 (id r7): unknown question_id 'keras-99'" in on_ray.output
    assert "line 250: invalid JSON" in on_ray.output


def test_resume_on_ray_finishes_a_half_written_output(
    tmp_path: Path, local_ray: None, fake_model: None
) -> None:
    answers = answers_file(tmp_path / "a.jsonl")
    full = tmp_path / "full.jsonl"
    assert grade(answers, "-o", full).exit_code == 1
    lines = full.read_text(encoding="utf-8").splitlines(keepends=True)
    out = tmp_path / "out.jsonl"
    out.write_text("".join(lines[: ROWS // 2]), encoding="utf-8")  # an interrupted run
    result = grade(answers, "-o", out, "--resume", "--engine", "ray")
    assert result.exit_code == 1, result.output
    assert f"resuming: {ROWS // 2} rows already in {out}" in result.output
    assert "19 of 300 rows failed" in result.output
    assert out.read_bytes() == full.read_bytes()


def test_an_unknown_engine_exits_2(tmp_path: Path) -> None:
    answers = answers_file(tmp_path / "a.jsonl")
    result = grade(answers, "-o", tmp_path / "o.jsonl", "--engine", "spark")
    assert result.exit_code == 2
    assert "--engine takes default or ray, not 'spark'" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_bad_settings_stop_before_ray_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The actors build the grader, so the driver checks its settings first: exit 2, named."""
    _ray()
    monkeypatch.setenv("VIVA_EMBEDDING_PROVIDER", "no-such-provider")
    get_settings.cache_clear()
    try:
        result = grade(
            answers_file(tmp_path / "a.jsonl"), "-o", tmp_path / "o.jsonl", "--engine", "ray"
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "VIVA_EMBEDDING_PROVIDER: unknown value 'no-such-provider'" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_without_ray_installed_the_engine_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs with or without Ray: the import is made to fail as if it were not installed."""
    import viva.adapters

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "viva.adapters.ray_engine", raising=False)
    monkeypatch.delattr(viva.adapters, "ray_engine", raising=False)
    answers = answers_file(tmp_path / "a.jsonl")
    result = grade(answers, "-o", tmp_path / "o.jsonl", "--engine", "ray")
    assert result.exit_code == 2, result.output
    assert "pip install 'viva[ray]'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.slow
def test_the_real_model_grades_the_same_on_ray(tmp_path: Path, local_ray: None) -> None:
    """The bundled model in two actors, each with one thread, against this process."""
    from viva.adapters.banks import load_bank_file

    bank = load_bank_file(REPO / "rubrics" / "keras.yaml")
    examples = [(q.id, ex.answer) for q in bank.questions for ex in q.examples][:20]
    answers = tmp_path / "a.jsonl"
    answers.write_text(
        "".join(
            json.dumps({"id": f"e{i}", "question_id": qid, "answer": text}) + "\n"
            for i, (qid, text) in enumerate(examples)
        ),
        encoding="utf-8",
    )
    get_settings.cache_clear()
    default = grade(answers, "-o", tmp_path / "default.jsonl")
    on_ray = grade(answers, "-o", tmp_path / "ray.jsonl", "--engine", "ray")
    assert default.exit_code == on_ray.exit_code == 0, on_ray.output
    assert "graded 20 of 20 rows" in on_ray.output
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "default.jsonl").read_bytes()
