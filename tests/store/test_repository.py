"""The repository on SQLite and PostgreSQL: round trips, exactly-once responses, migrations."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from viva.domain.models import Grade, PointResult, Provenance, Question, RubricPoint
from viva.errors import InterviewNotFoundError
from viva.store import InterviewRecord, Repository, open_database
from viva.store.db import Database, normalise_url
from viva.store.tables import UTCDateTime


@pytest.fixture
def repo(database_url: str) -> Repository:
    db = open_database(database_url)
    yield Repository(db)  # type: ignore[misc]
    db.dispose()


def _grade(qid: str, score: float = 0.5) -> Grade:
    return Grade(
        question_id=qid,
        score=score,
        points=[PointResult(id="p", text="a point", weight=1, coverage=score, similarity=0.7)],
        provenance=Provenance(
            bank_id="b",
            bank_version="1",
            question_id=qid,
            model="m",
            grader_version="g",
            calibration="c",
        ),
    )


def _question(qid: str) -> Question:
    return Question(id=qid, prompt=f"What is {qid}?", points=[RubricPoint(id="p", text="a point")])


def _new(repo: Repository, qids: tuple[str, ...] = ("q1", "q2")) -> InterviewRecord:
    return repo.create_interview(
        id="iv-1",
        bank_id="b",
        bank_version="1",
        candidate="Ada",
        feedback="none",
        seed=7,
        questions=tuple(_question(q) for q in qids),
    )


def test_round_trip_keeps_everything_needed_to_reproduce(repo: Repository) -> None:
    iv = _new(repo)
    assert iv.status == "in_progress" and iv.seed == 7 and iv.question_ids == ("q1", "q2")
    assert iv.questions[1] == _question("q2") and iv.question("q1") == _question("q1")
    assert iv.created_at.tzinfo is not None
    g = _grade("q1", 0.75)
    stored = repo.add_response(
        iv,
        question_id="q1",
        outcome="answered",
        answer="my answer",
        grade=g,
        idempotency_key="k1",
        request_hash="h1",
        response_body={"grade": {"score": 0.75}},
    )
    assert stored.created
    again = repo.get_interview("iv-1")
    [r] = again.responses
    assert r.answer == "my answer" and r.grade == g and r.response_body["grade"]["score"] == 0.75
    assert r.created_at.tzinfo is not None
    assert again.state.current == "q2" and again.status == "in_progress"


def test_last_response_completes_the_interview(repo: Repository) -> None:
    iv = _new(repo, ("q1",))
    repo.add_response(
        iv,
        question_id="q1",
        outcome="skipped",
        answer=None,
        grade=None,
        idempotency_key=None,
        request_hash="h",
        response_body={},
    )
    done = repo.get_interview("iv-1")
    assert done.status == "completed" and done.completed_at is not None
    assert done.state.status == "completed"


def test_unknown_interview_is_not_found(repo: Repository) -> None:
    with pytest.raises(InterviewNotFoundError, match="nope"):
        repo.get_interview("nope")


def test_second_response_to_same_question_is_refused(repo: Repository) -> None:
    iv = _new(repo)
    kw = {"outcome": "answered", "answer": "x", "grade": None, "response_body": {}}
    assert repo.add_response(
        iv, question_id="q1", idempotency_key=None, request_hash="a", **kw
    ).created  # type: ignore[arg-type]
    dup = repo.add_response(iv, question_id="q1", idempotency_key=None, request_hash="b", **kw)  # type: ignore[arg-type]
    assert not dup.created and dup.record is None
    assert repo.count_responses("iv-1") == 1


def test_same_idempotency_key_returns_the_winner(repo: Repository) -> None:
    iv = _new(repo)
    kw = {"outcome": "answered", "answer": "x", "grade": None}
    repo.add_response(
        iv, question_id="q1", idempotency_key="k", request_hash="a", response_body={"n": 1}, **kw
    )  # type: ignore[arg-type]
    iv = repo.get_interview("iv-1")
    # Same key on another question (a buggy client) must not create a second row either.
    dup = repo.add_response(
        iv, question_id="q2", idempotency_key="k", request_hash="a", response_body={"n": 2}, **kw
    )  # type: ignore[arg-type]
    assert not dup.created and dup.record is not None and dup.record.response_body == {"n": 1}
    assert repo.find_by_key("iv-1", "k") is not None
    assert repo.find_by_key("iv-1", "other") is None
    assert repo.count_responses("iv-1") == 1


def test_racing_writers_store_exactly_once(repo: Repository) -> None:
    iv = _new(repo, tuple(f"q{i}" for i in range(3)))
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def submit(n: int) -> None:
        barrier.wait()
        r = repo.add_response(
            iv,
            question_id="q0",
            outcome="answered",
            answer=f"a{n}",
            grade=None,
            idempotency_key=f"k{n}",
            request_hash=str(n),
            response_body={"n": n},
        )
        with lock:
            results.append(r.created)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert repo.count_responses("iv-1") == 1


def test_migrations_are_idempotent_and_tracked(database_url: str) -> None:
    db = open_database(database_url)
    db.migrate()  # a second start-up is a no-op
    with db.engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
        tables = set(sa.inspect(conn).get_table_names())
    db.dispose()
    assert version == "0005"
    assert {"interviews", "responses", "api_keys", "reviews"} <= tables


def _alembic(db: Database) -> Any:
    from alembic.config import Config

    from viva.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def _columns(db: Database, table: str) -> set[str]:
    with db.engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def test_status_migration_keeps_every_response_and_round_trips(database_url: str) -> None:
    """0001 stored a status next to the responses; 0002 drops it (and completed_at) and the
    record computes both. Data written under 0001 must survive the upgrade and come back on
    a downgrade, on SQLite (where a table copy would cascade-delete responses) and PostgreSQL."""
    from alembic import command

    db = open_database(database_url, migrate=False)
    cfg = _alembic(db)
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.commit()
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    js, ts = sa.JSON, UTCDateTime()
    ivs = sa.table(
        "interviews", sa.column("id"), sa.column("bank_id"), sa.column("bank_version"),
        sa.column("feedback"), sa.column("seed"), sa.column("question_ids", js),
        sa.column("questions", js), sa.column("status"), sa.column("created_at", ts),
        sa.column("updated_at", ts),
    )  # fmt: skip
    resp = sa.table(
        "responses", sa.column("interview_id"), sa.column("question_id"), sa.column("position"),
        sa.column("outcome"), sa.column("request_hash"), sa.column("response_body", js),
        sa.column("created_at", ts),
    )  # fmt: skip
    questions = [_question(q).model_dump(mode="json") for q in ("q1", "q2")]
    with db.write() as conn:
        for iv_id, done in (("done", ["q1", "q2"]), ("open", ["q1"])):
            conn.execute(
                ivs.insert().values(
                    id=iv_id, bank_id="b", bank_version="1", feedback="none", seed=1,
                    question_ids=["q1", "q2"], questions=questions, created_at=t0, updated_at=t0,
                    status="completed" if len(done) == 2 else "in_progress",
                )
            )  # fmt: skip
            for n, qid in enumerate(done):
                conn.execute(
                    resp.insert().values(
                        interview_id=iv_id, question_id=qid, position=n, outcome="skipped",
                        request_hash="h", response_body={}, created_at=t0.replace(hour=n + 1),
                    )
                )  # fmt: skip
    db.migrate()
    assert {"status", "completed_at"}.isdisjoint(_columns(db, "interviews"))
    repo = Repository(db)
    done, open_ = repo.get_interview("done"), repo.get_interview("open")
    assert [r.question_id for r in done.responses] == ["q1", "q2"]
    assert done.status == "completed" and done.completed_at == t0.replace(hour=2)
    assert open_.status == "in_progress" and open_.completed_at is None
    with db.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        conn.commit()
        rows = conn.execute(sa.text("SELECT id, status, completed_at FROM interviews")).all()
    back = {r[0]: (r[1], r[2] is not None) for r in rows}
    assert back == {"done": ("completed", True), "open": ("in_progress", False)}
    db.dispose()


def test_sqlite_uses_wal_in_the_data_dir(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'nested' / 'viva.db'}")
    with db.engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    db.dispose()
    assert mode == "wal"
    assert (tmp_path / "nested" / "viva.db").exists()


def test_plain_postgresql_urls_use_psycopg3() -> None:
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_unreachable_database_fails_ping() -> None:
    db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(sa.exc.OperationalError):
        db.ping()
