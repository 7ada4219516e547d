"""Exam secrecy: reference answers and rubric texts reach candidates only as the policy says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings
from tests.api.test_interviews import answer, start
from viva.adapters.banks import load_bank_file
from viva.app import secrecy
from viva.app.secrecy import REVEALS
from viva.domain.models import Bank
from viva.errors import BankValidationError


def _secrets(bank: Bank) -> list[str]:
    """Texts a candidate must not see early: reference answers and rubric point texts."""
    out = []
    for q in bank.questions:
        if q.reference_answer:
            out.append(q.reference_answer[:60])
        out.extend(p.text for p in q.points)
    return out


def _leaks(text: str, bank: Bank) -> list[str]:
    return [s for s in _secrets(bank) if s in text]


def test_skipping_everything_reveals_nothing_under_the_exam_default(
    client: TestClient, keras_bank: Bank
) -> None:
    """The issue's reproduction: 11 questions, all skipped, then the report (open mode)."""
    iv = start(client, question_count=11)
    for _ in range(11):
        assert client.post(f"/v1/interviews/{iv['id']}/skip").status_code == 200
    report = client.get(f"/v1/interviews/{iv['id']}/report")
    assert report.status_code == 200
    body = report.json()
    assert len(body["questions"]) == 11
    assert all(q["reference_answer"] == "" for q in body["questions"])
    for fmt in ("json", "md", "html"):
        r = client.get(f"/v1/interviews/{iv['id']}/report", params={"format": fmt})
        assert r.status_code == 200 and not _leaks(r.text, keras_bank), fmt


def test_exam_reveals_after_completion_with_an_answer(client: TestClient, keras_bank: Bank) -> None:
    iv = start(client, question_count=2)
    q1 = iv["question"]["id"]
    r = answer(client, iv["id"], q1, "layers stack and weights are learned by training")
    grade = r.json()["grade"]
    assert 0 <= grade["score"] <= 1 and grade["points"]  # the score is shown ...
    assert all(p["text"] == "" for p in grade["points"])  # ... the rubric is not, yet
    state = client.get(f"/v1/interviews/{iv['id']}")
    assert not _leaks(state.text, keras_bank)
    q2 = r.json()["next_question"]["id"]
    last = answer(client, iv["id"], q2, "no idea at all")
    assert last.json()["grade"]["points"][0]["text"]  # completing answer: revealed
    rep = client.get(f"/v1/interviews/{iv['id']}/report").json()
    assert rep["questions"][0]["reference_answer"] == keras_bank.question(q1).reference_answer
    state = client.get(f"/v1/interviews/{iv['id']}").json()
    assert state["responses"][0]["grade"]["points"][0]["text"]


def test_never_hides_from_candidates_and_interviewers_always_see(
    tmp_path: Path, database_url: str, keras_bank: Bank
) -> None:
    keys = make_keys(database_url, ("interviewer", "ian"), ("candidate", "cat"))
    s = make_settings(tmp_path, database_url, reveal="never", rate_limits=False)
    with serve(s) as c:
        made = {"bank_id": "keras", "question_count": 1, "candidate_link": True}
        r = c.post("/v1/interviews", json=made, headers=bearer(keys["ian"]))
        iv = r.json()
        assert iv["reveal"] == "never"
        link = bearer(iv["candidate_link"])
        qid = iv["question"]["id"]
        body = {"question_id": qid, "answer": "layers stack and weights are learned by training"}
        got = c.post(f"/v1/interviews/{iv['id']}/answers", json=body, headers=link)
        assert got.status_code == 200 and got.json()["grade"]["points"][0]["text"] == ""
        for fmt in ("json", "md", "html"):
            rep = c.get(f"/v1/interviews/{iv['id']}/report?format={fmt}", headers=link)
            assert rep.status_code == 200 and not _leaks(rep.text, keras_bank), fmt
        staff = c.get(f"/v1/interviews/{iv['id']}/report", headers=bearer(keys["ian"])).json()
        assert staff["questions"][0]["reference_answer"]
        # A candidate may not loosen the policy; an interviewer may.
        loose = {"bank_id": "keras", "reveal": "practice"}
        refused = c.post("/v1/interviews", json=loose, headers=bearer(keys["cat"]))
        assert_problem(refused, 422, "reveal")
        r = c.post("/v1/interviews", json=loose, headers=bearer(keys["ian"]))
        assert r.status_code == 201 and r.json()["reveal"] == "practice"


def test_practice_reveals_after_each_answer(client: TestClient, keras_bank: Bank) -> None:
    iv = start(client, question_count=2, reveal="practice")
    qid = iv["question"]["id"]
    grade: dict[str, Any] = answer(client, iv["id"], qid, "words").json()["grade"]
    assert [p["text"] for p in grade["points"]] == [p.text for p in keras_bank.question(qid).points]


# --- a bank's own `reveal` ------------------------------------------------------------------

SEALED = """id: sealed
title: "Sealed exam"
version: "1"
{reveal}
questions:
  - id: s1
    prompt: "What does an HTTP 404 status tell the client?"
    topic: http
    reference_answer: "The server was reached but holds nothing at the address that was asked for."
    points:
      - id: nothing-there
        text: "The server has no resource at the requested path."
      - id: client-error
        text: "It is a client error, not a failure of the server."
  - id: s2
    prompt: "Why do web servers send a Cache-Control header?"
    topic: http
    reference_answer: "It tells browsers and proxies whether and for how long to reuse a copy."
    points:
      - id: reuse
        text: "Caches may keep the response and serve it again for a stated time."
"""


def _sealed_bank(folder: Path, reveal: str | None = "never") -> Bank:
    folder.mkdir(exist_ok=True)
    path = folder / "sealed.yaml"
    path.write_text(SEALED.format(reveal=f"reveal: {reveal}" if reveal else ""))
    return load_bank_file(path)


def _finish(c: TestClient, iv_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Answer every question and follow-up until the interview completes; the grades."""
    grades = []
    for _ in range(10):
        state = c.get(f"/v1/interviews/{iv_id}", headers=headers).json()
        if state["status"] == "completed":
            return grades
        qid = (state["follow_up"] or state["question"])["id"]
        body = {"question_id": qid, "answer": "the server answers 404 and caches keep copies"}
        r = c.post(f"/v1/interviews/{iv_id}/answers", json=body, headers=headers)
        assert r.status_code == 200, r.text
        grades.append(r.json()["grade"])
    pytest.fail("the interview did not complete")


def test_a_never_bank_hides_from_candidates_after_completion(
    tmp_path: Path, database_url: str
) -> None:
    """The bank says never; the server says practice. The bank wins for the candidate, through
    the completing answer and the report in every format, while the interviewer sees it all."""
    bank = _sealed_bank(tmp_path / "mine")
    keys = make_keys(database_url, ("interviewer", "ian"))
    s = make_settings(
        tmp_path, database_url, reveal="practice", rubrics_path=str(tmp_path / "mine")
    )
    with serve(s) as c:
        made = {"bank_id": "sealed", "candidate_link": True}
        r = c.post("/v1/interviews", json=made, headers=bearer(keys["ian"]))
        assert r.status_code == 201, r.text
        iv = r.json()
        assert iv["reveal"] == "never"
        link = bearer(iv["candidate_link"])
        grades = _finish(c, iv["id"], link)
        assert len(grades) >= 2 and all(g["points"] for g in grades)
        assert all(p["text"] == "" for g in grades for p in g["points"])  # the last one too
        state = c.get(f"/v1/interviews/{iv['id']}", headers=link)
        assert state.json()["status"] == "completed" and not _leaks(state.text, bank)
        for fmt in ("json", "md", "html"):
            rep = c.get(f"/v1/interviews/{iv['id']}/report?format={fmt}", headers=link)
            assert rep.status_code == 200 and not _leaks(rep.text, bank), fmt
        staff = bearer(keys["ian"])
        rep = c.get(f"/v1/interviews/{iv['id']}/report", headers=staff).json()
        assert [q["reference_answer"] for q in rep["questions"]] == [
            bank.question(q["question_id"]).reference_answer for q in rep["questions"]
        ]
        seen = c.get(f"/v1/interviews/{iv['id']}", headers=staff).json()
        assert all(p["text"] for g in seen["responses"] for p in g["grade"]["points"])
        md = c.get(f"/v1/interviews/{iv['id']}/report?format=md", headers=staff).text
        assert _leaks(md, bank) == _secrets(bank)


def test_reveal_precedence_interview_then_bank_then_server() -> None:
    """The rule in one place (viva.app.secrecy): an interview's choice, else its bank's, else
    VIVA_REVEAL."""
    never = Bank.model_validate(yaml.safe_load(SEALED.format(reveal="reveal: never")))
    unset = Bank.model_validate(yaml.safe_load(SEALED.format(reveal="")))
    assert never.reveal == "never" and unset.reveal is None
    for server in REVEALS:
        for asked in REVEALS:
            assert secrecy.effective(secrecy.pinned(asked, never), server) == asked
        assert secrecy.effective(secrecy.pinned(None, never), server) == "never"
        assert secrecy.effective(secrecy.pinned(None, unset), server) == server
        assert secrecy.baseline(never, server) == "never"
        assert secrecy.baseline(unset, server) == server


def test_bank_reveal_through_the_api(tmp_path: Path, database_url: str) -> None:
    """Candidates cannot loosen a strict bank; interviewers can; a bank without `reveal` keeps
    the server's; the bank's policy is fixed when an interview starts, like its questions."""
    mine = tmp_path / "mine"
    _sealed_bank(mine)
    keys = make_keys(database_url, ("admin", "root"), ("interviewer", "ian"), ("candidate", "cat"))
    s = make_settings(tmp_path, database_url, reveal="practice", rubrics_path=str(mine))
    with serve(s) as c:
        cat, ian = bearer(keys["cat"]), bearer(keys["ian"])

        def create(who: dict[str, str], **body: Any) -> Any:
            return c.post("/v1/interviews", json={"bank_id": "sealed", **body}, headers=who)

        mine_iv = create(cat).json()
        assert mine_iv["reveal"] == "never"  # the bank's, over the server's practice
        assert_problem(create(cat, reveal="practice"), 422, "reveal", "never")
        assert_problem(create(cat, mode="practice"), 422, "practice")
        assert create(cat, reveal="never").json()["reveal"] == "never"
        assert create(ian, reveal="exam").json()["reveal"] == "exam"  # the interview's own
        keras = c.post("/v1/interviews", json={"bank_id": "keras"}, headers=cat).json()
        assert keras["reveal"] == "practice"  # no bank setting: the server's
        # The bank now says practice: new interviews follow, the running one keeps never.
        _sealed_bank(mine, "practice")
        assert c.post("/v1/banks/reload", headers=bearer(keys["root"])).status_code == 200
        assert create(cat).json()["reveal"] == "practice"
        again = c.get(f"/v1/interviews/{mine_iv['id']}", headers=cat).json()
        assert again["reveal"] == "never"


@pytest.mark.parametrize("value", ["sometimes", "true", "[exam]"])
def test_an_invalid_bank_reveal_names_the_file_and_field(tmp_path: Path, value: str) -> None:
    path = tmp_path / "sealed.yaml"
    path.write_text(SEALED.format(reveal=f"reveal: {value}"))
    with pytest.raises(BankValidationError) as err:
        load_bank_file(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: field reveal: "), msg
    assert "'practice', 'exam' or 'never'" in msg
