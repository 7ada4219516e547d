"""History, progress, practice mode and follow-ups over HTTP (open mode and with keys)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.api.auth_helpers import bearer, make_keys, serve
from tests.api.conftest import assert_problem, make_settings
from tests.conftest import REPO
from viva.adapters.banks import BankRepository

BANK = BankRepository(REPO / "rubrics").get("keras")


def full(qid: str) -> str:
    return " ".join(p.text for p in BANK.question(qid).points)


def run(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> str:
    """A two-question interview: one weak answer with its follow-up, one strong answer."""
    h = headers or {}
    r = client.post("/v1/interviews", json={"bank_id": "keras", "question_count": 2, **body},
                    headers=h)  # fmt: skip
    assert r.status_code == 201, r.text
    iv = r.json()
    first, iid = iv["question"]["id"], iv["id"]
    weak = {"question_id": first, "answer": "Keras has layers."}
    out = client.post(f"/v1/interviews/{iid}/answers", json=weak, headers=h)
    assert out.status_code == 200, out.text
    fu = out.json()["follow_up"]
    assert fu is not None and fu["id"] == f"{first}~f1" and fu["parent_id"] == first
    view = client.get(f"/v1/interviews/{iid}", headers=h).json()
    assert view["follow_up"] == fu
    r = client.post(f"/v1/interviews/{iid}/answers",
                    json={"question_id": fu["id"], "answer": full(first)}, headers=h)  # fmt: skip
    assert r.status_code == 200, r.text
    nxt = r.json()["next_question"]["id"]
    r = client.post(f"/v1/interviews/{iid}/answers",
                    json={"question_id": nxt, "answer": full(nxt)}, headers=h)  # fmt: skip
    assert r.status_code == 200 and r.json()["next_question"] is None
    return str(iid)


def test_history_pages_newest_first_and_progress_per_topic(client: TestClient) -> None:
    a = run(client, seed=1)
    b = run(client, seed=2, mode="practice", time_limit_s=120)
    page = client.get("/v1/interviews", params={"limit": 1}).json()
    [item] = page["items"]
    assert item["id"] == b and item["mode"] == "practice" and item["status"] == "completed"
    assert item["bank_title"] == BANK.title and item["answered"] == 2 and item["total"] == 2
    report = client.get(f"/v1/interviews/{b}/report").json()
    assert item["overall"] == report["overall"]
    rest = client.get("/v1/interviews", params={"limit": 1, "cursor": page["next_cursor"]})
    assert [i["id"] for i in rest.json()["items"]] == [a] and rest.json()["next_cursor"] is None
    assert_problem(client.get("/v1/interviews", params={"cursor": "nonsense"}), 422, "cursor")
    prog = client.get("/v1/progress", params={"bank_id": "keras"}).json()
    assert prog["bank_id"] == "keras" and prog["topics"]
    for t in prog["topics"]:
        assert t["name"] == BANK.topic_name(t["topic"])
        assert {p["interview_id"] for p in t["points"]} <= {a, b}
    seen = [p["interview_id"] for t in prog["topics"] for p in t["points"]]
    assert set(seen) == {a, b}
    view = client.get(f"/v1/interviews/{b}").json()
    assert view["mode"] == "practice" and view["time_limit_s"] == 120
    assert view["reveal"] == "practice"
    kinds = [r["kind"] for r in view["responses"]]
    assert kinds == ["answer", "follow_up", "answer"]
    assert all(r["time_taken_s"] is not None for r in view["responses"])


def test_the_report_json_advises(client: TestClient) -> None:
    iid = run(client, seed=3)
    r = client.get(f"/v1/interviews/{iid}/report").json()
    for t in r["topics"]:
        assert t["name"] and t["verdict"].startswith(t["label"].capitalize())
        assert isinstance(t["did_well"], list) and isinstance(t["study"], list)
    assert all({"text", "question_id", "learn"} <= set(s) for s in r["study_next"])
    q = r["questions"][0]
    assert q["follow_up"]["status"] == "answered" and q["follow_up"]["earned"]
    assert q["time_taken_s"] is not None and "misconceptions" in r
    md = client.get(f"/v1/interviews/{iid}/report", params={"format": "md"}).text
    assert "Follow-up:" in md and "| Verdict |" in md
    html = client.get(f"/v1/interviews/{iid}/report", params={"format": "html"}).text
    assert "max-width:40rem" in html and "from the follow-up" in html


def test_practice_over_http_retry_and_its_limits(client: TestClient) -> None:
    iv = client.post("/v1/interviews", json={"bank_id": "keras", "question_ids": ["keras-01"],
                                             "mode": "practice"}).json()  # fmt: skip
    url = f"/v1/interviews/{iv['id']}/answers"
    first = client.post(url, json={"question_id": "keras-01", "answer": "Keras has layers."})
    p = first.json()["practice"]
    assert p["can_retry"] and p["reference_answer"] and p["missed"]
    again = client.post(url, json={"question_id": "keras-01", "answer": full("keras-01"),
                                   "retry": True})  # fmt: skip
    assert again.status_code == 200 and again.json()["practice"]["can_retry"] is False
    assert_problem(client.post(url, json={"question_id": "keras-01", "answer": "x",
                                          "retry": True}), 409, "already retried")  # fmt: skip
    report = client.get(f"/v1/interviews/{iv['id']}/report").json()
    assert len(report["questions"][0]["attempts"]) == 2
    assert report["questions"][0]["improvement"] > 0
    bad = client.post("/v1/interviews", json={"bank_id": "keras", "mode": "practice",
                                              "reveal": "exam"})  # fmt: skip
    assert_problem(bad, 422, "practice")


def test_each_caller_lists_only_their_own(tmp_path: Path, database_url: str) -> None:
    keys = make_keys(database_url, ("candidate", "cat"), ("candidate", "cid"),
                     ("interviewer", "ian"))  # fmt: skip
    with serve(make_settings(tmp_path, database_url, rate_limits=False)) as client:
        mine = run(client, bearer(keys["cat"]), seed=4)
        run(client, bearer(keys["cid"]), seed=5)
        link = client.post("/v1/interviews", json={"bank_id": "keras", "candidate_link": True},
                           headers=bearer(keys["ian"])).json()  # fmt: skip
        listed = client.get("/v1/interviews", headers=bearer(keys["cat"])).json()["items"]
        assert [i["id"] for i in listed] == [mine]
        by_link = client.get("/v1/interviews", headers=bearer(link["candidate_link"])).json()
        assert [i["id"] for i in by_link["items"]] == [link["id"]]
        prog = client.get("/v1/progress", params={"bank_id": "keras"},
                          headers=bearer(keys["cid"])).json()  # fmt: skip
        assert mine not in {p["interview_id"] for t in prog["topics"] for p in t["points"]}
        assert client.get("/v1/interviews").status_code == 401


def test_a_hidden_report_keeps_the_advice_but_not_the_rubric(
    tmp_path: Path, database_url: str
) -> None:
    with serve(make_settings(tmp_path, database_url, reveal="never")) as client:
        iv = client.post("/v1/interviews", json={"bank_id": "keras", "question_count": 2}).json()
        iid, first = iv["id"], iv["question"]["id"]
        weak = {"question_id": first, "answer": "Keras has layers."}
        fu = client.post(f"/v1/interviews/{iid}/answers", json=weak).json()["follow_up"]
        assert client.post(f"/v1/interviews/{iid}/skip", json={"question_id": fu["id"]}).is_success
        assert client.post(f"/v1/interviews/{iid}/skip").is_success
        r = client.get(f"/v1/interviews/{iid}/report").json()
        texts = {p.text for q in BANK.questions for p in q.points}
        assert r["study_next"] and all(
            s["text"].startswith("Study question") for s in r["study_next"]
        )
        assert all(t["study"] == [] for t in r["topics"])
        assert all(m["in_fact"] == "" for m in r["misconceptions"])
        assert not texts & {s["text"] for s in r["study_next"]}
        assert all(q["reference_answer"] == "" for q in r["questions"])
