"""`viva review`, `viva review apply` and `viva agreement`: the review round trip.

Ten answers are graded, a person overrides all ten on a sheet, and the same answers graded
again move toward the person's scores, because the reviewed answers became graded examples of
their questions. A bag-of-words fake embedder stands in for the model: the same answer gets
the same vector, so this checks the wiring (store, merge, anchors cache), not the model.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.adapters.banks import load_bank_file
from viva.cli.main import app
from viva.composition import Components, _components
from viva.core.grader import Grader
from viva.settings import get_settings

runner = CliRunner()
BANK = load_bank_file(REPO / "rubrics" / "keras.yaml")
QUESTIONS = ["keras-01", "keras-02", "keras-03", "keras-04", "keras-05"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIVA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VIVA_RUBRICS_DIR", str(REPO / "rubrics"))
    monkeypatch.delenv("VIVA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    monkeypatch.setitem(_components, settings, Components(settings, grader=Grader(FakeEmbedder())))
    yield tmp_path
    get_settings.cache_clear()


def answers() -> list[dict[str, str]]:
    """Per question, a recital of every point (Viva: high; the person: low, it explains
    nothing) and a half answer (Viva: middling; the person: lower still)."""
    out = []
    for q in QUESTIONS:
        pts = BANK.question(q).points
        out.append({"id": f"{q}-all", "question_id": q, "answer": " ".join(p.text for p in pts)})
        half = " ".join(p.text for p in pts[: max(1, len(pts) // 2)])
        out.append({"id": f"{q}-half", "question_id": q, "answer": half})
    return out


HUMAN = {f"{q}-all": 0.35 for q in QUESTIONS} | {f"{q}-half": 0.1 for q in QUESTIONS}


def invoke(*args: str | Path) -> Any:
    r = runner.invoke(app, [str(a) for a in args])
    return r


def scores(path: Path) -> dict[str, float]:
    return {
        d["id"]: d["score"]
        for d in (json.loads(x) for x in path.read_text().splitlines() if x.strip())
    }


def test_review_round_trip_moves_grades_toward_the_people(env: Path) -> None:
    src = env / "answers.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["id", "question_id", "answer"])
        w.writeheader()
        w.writerows(answers())
    r = invoke("grade", src, "--bank", "keras", "-o", env / "g1.jsonl")
    assert r.exit_code == 0, r.output
    before = scores(env / "g1.jsonl")

    # The graded file carries each answer's text, so the sheet needs nothing else.
    assert all(json.loads(line)["answer"] for line in (env / "g1.jsonl").open())
    r = invoke("review", env / "g1.jsonl", "-o", env / "review.csv")
    assert r.exit_code == 0, r.output
    with (env / "review.csv").open(encoding="utf-8-sig", newline="") as fh:
        sheet = list(csv.DictReader(fh))
    assert len(sheet) == 10 and all(row["your_score"] == "" for row in sheet)
    for row in sheet:  # the person fills in the sheet
        row["your_score"] = str(HUMAN[row["id"]])
        row["note"] = "recites the rubric" if row["id"].endswith("-all") else ""
    with (env / "review.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, list(sheet[0]))
        w.writeheader()
        w.writerows(sheet)

    r = invoke("review", "apply", env / "review.csv", "--reviewer", "ms-lee")
    assert r.exit_code == 0, r.output
    assert "recorded 10 review(s) by ms-lee" in r.output

    r = invoke("grade", src, "--bank", "keras", "-o", env / "g2.jsonl")
    assert r.exit_code == 0, r.output
    after = scores(env / "g2.jsonl")
    err_before = {k: abs(before[k] - HUMAN[k]) for k in HUMAN}
    err_after = {k: abs(after[k] - HUMAN[k]) for k in HUMAN}
    assert sum(err_before.values()) / 10 > 0.25  # Viva and the person disagreed...
    for k in HUMAN:  # ...and every answer moved toward the person, most of the way
        assert err_after[k] < 0.05 < err_before[k], (k, before[k], after[k], HUMAN[k])

    r = invoke("agreement", "--bank", "keras")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    bank_line = next(line for line in lines if line.startswith("keras "))
    assert bank_line.split()[1] == "10"
    assert sum(line.startswith("  keras-0") for line in lines) == 5  # one line per question
    worst = lines[lines.index("largest disagreements (Viva -> person):") + 1]
    top = max(err_before, key=lambda k: err_before[k])
    assert f"{before[top]:.2f} -> {HUMAN[top]:.2f}" in worst and f"[{top}]" in worst


def test_apply_refuses_a_bad_score_and_records_nothing(env: Path) -> None:
    sheet = env / "review.csv"
    sheet.write_text(
        "id,candidate,bank_id,bank_version,question_id,answer,viva_score,your_score,note\n"
        "a,,keras,1.1.0,keras-01,Keras is high level,0.5,80%,ok\n"
        "b,,keras,1.1.0,keras-01,Keras is low level,0.5,1.5,\n",
        encoding="utf-8",
    )
    r = invoke("review", "apply", sheet)
    assert r.exit_code == 2 and "line 3: your_score '1.5' is outside 0-1" in r.output
    r = invoke("agreement")
    assert r.exit_code == 2 and "no reviewed answers yet" in r.output


def test_review_needs_the_answer_text(env: Path) -> None:
    g = env / "g.jsonl"
    g.write_text(json.dumps({"id": "x", "question_id": "keras-01", "score": 0.5}) + "\n")
    r = invoke("review", g, "-o", env / "review.csv")
    assert r.exit_code == 2 and "--answers" in r.output


def test_html_sheet_has_an_input_per_answer(env: Path) -> None:
    g = env / "g.jsonl"
    rec = {"id": "x", "question_id": "keras-01", "score": 0.5, "bank_id": "keras",
           "bank_version": "1.1.0", "answer": "<b>Keras</b> is high level"}  # fmt: skip
    g.write_text(json.dumps(rec) + "\n")
    r = invoke("review", g, "-o", env / "review.html")
    assert r.exit_code == 0, r.output
    page = (env / "review.html").read_text()
    assert page.count("class=score") == 1 and "&lt;b&gt;Keras&lt;/b&gt;" in page
    assert "<b>Keras" not in page
