"""History and progress: a caller's past interviews, newest first, and per-topic scores over
time for one bank. Who sees what is decided by the caller (see api/auth.py); this module
only pages and scores."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from viva.app.interviews import Interviews
from viva.errors import BankNotFoundError, InvalidInputError
from viva.store import InterviewRecord

MAX_LIMIT = 100


@dataclass(frozen=True)
class Scope:
    """Whose interviews: one owner's, every one (open mode), or one link holder's."""

    owner: str | None
    everyone: bool = False
    only: str | None = None  # a candidate link: this one interview


@dataclass(frozen=True)
class Summary:
    id: str
    bank_id: str
    bank_title: str
    created_at: datetime
    status: str
    mode: str
    overall: float | None
    answered: int
    total: int


@dataclass(frozen=True)
class Point:
    interview_id: str
    at: datetime
    score: float


@dataclass(frozen=True)
class TopicTrend:
    topic: str
    name: str
    points: list[Point]


def encode_cursor(iv: InterviewRecord) -> str:
    raw = f"{iv.created_at.isoformat()}|{iv.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, last = raw.partition("|")
        when = datetime.fromisoformat(at)
        if not last or when.tzinfo is None:
            raise ValueError(raw)
        return when, last
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInputError(
            "cursor is not one this server gave out; pass next_cursor as it came",
            field=("cursor",),
        ) from None


class History:
    def __init__(self, interviews: Interviews) -> None:
        self.interviews = interviews
        self.repo = interviews.repo

    def _page(
        self, scope: Scope, limit: int, before: tuple[datetime, str] | None
    ) -> list[InterviewRecord]:
        if scope.only is not None:
            if before is not None:
                return []
            return [self.repo.get_interview(scope.only)]
        return self.repo.list_interviews(
            owner=scope.owner, all_owners=scope.everyone, limit=limit, before=before
        )

    def page(
        self, scope: Scope, *, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[Summary], str | None]:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be 1 to {MAX_LIMIT}", field=("limit",))
        before = decode_cursor(cursor) if cursor else None
        page = self._page(scope, limit + 1, before)
        more = len(page) > limit
        page = page[:limit]
        nxt = encode_cursor(page[-1]) if more and page else None
        return [self._summary(iv) for iv in page], nxt

    def progress(self, scope: Scope, bank_id: str) -> list[TopicTrend]:
        """Per-topic scores of the completed interviews on `bank_id`, oldest first."""
        done: list[InterviewRecord] = []
        before = None
        while True:
            page = self._page(scope, MAX_LIMIT, before)
            done.extend(iv for iv in page if iv.bank_id == bank_id and iv.status == "completed")
            if len(page) < MAX_LIMIT or scope.only is not None:
                break
            before = (page[-1].created_at, page[-1].id)
        trends: dict[str, TopicTrend] = {}
        for iv in reversed(done):
            report = self.interviews.build_report(iv)
            for t in report.topics:
                trend = trends.setdefault(t.topic, TopicTrend(t.topic, t.name, []))
                trend.points.append(Point(iv.id, iv.completed_at or iv.created_at, t.score))
        return [trends[k] for k in sorted(trends)]

    def _summary(self, iv: InterviewRecord) -> Summary:
        try:
            title = self.interviews.banks.get(iv.bank_id).title
        except BankNotFoundError:
            title = iv.bank_id
        done = iv.status == "completed"
        return Summary(
            id=iv.id,
            bank_id=iv.bank_id,
            bank_title=title,
            created_at=iv.created_at,
            status=iv.status,
            mode=iv.mode,
            overall=self.interviews.build_report(iv).overall if done else None,
            answered=sum(r.outcome == "answered" for r in iv.answers),
            total=len(iv.question_ids),
        )
