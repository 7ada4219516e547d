"""Retention and privacy: delete an interview, purge old ones, export one candidate's data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from viva.errors import InterviewNotFoundError

if TYPE_CHECKING:
    from viva.store import InterviewRecord, Repository


def delete(repo: Repository, interview_id: str) -> None:
    if not repo.delete_interview(interview_id):
        raise InterviewNotFoundError(f"no interview {interview_id!r}")


def purge(repo: Repository, days: int, *, now: datetime | None = None) -> int:
    """Delete interviews created more than `days` days ago; returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    return repo.purge_before(cutoff)


def interview_data(iv: InterviewRecord) -> dict[str, Any]:
    """Everything stored about one interview, as JSON-ready data."""
    return {
        "id": iv.id,
        "bank_id": iv.bank_id,
        "bank_version": iv.bank_version,
        "candidate": iv.candidate,
        "feedback": iv.feedback,
        "seed": iv.seed,
        "status": iv.status,
        "question_ids": list(iv.question_ids),
        "created_at": iv.created_at.isoformat(),
        "updated_at": iv.updated_at.isoformat(),
        "completed_at": iv.completed_at.isoformat() if iv.completed_at else None,
        "responses": [
            {
                "question_id": r.question_id,
                "status": r.outcome,
                "answer": r.answer,
                "grade": r.grade.model_dump(mode="json") if r.grade else None,
                "created_at": r.created_at.isoformat(),
            }
            for r in iv.responses
        ],
    }


def export_candidate(repo: Repository, candidate: str) -> dict[str, Any]:
    """All data stored for one candidate name (a data-subject access request)."""
    interviews = [repo.get_interview(i) for i in repo.interview_ids(candidate=candidate)]
    return {
        "candidate": candidate,
        "exported_at": datetime.now(UTC).isoformat(),
        "interviews": [interview_data(iv) for iv in interviews],
    }
