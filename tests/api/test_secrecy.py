"""Exam secrecy: reference answers and rubric texts reach candidates only as the policy says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings
from tests.api.test_interviews import answer, start
from viva.domain.models import Bank


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
