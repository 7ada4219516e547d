"""Per-owner storage quotas: how many interviews, and how many bytes of answers, one key or
proxy user may keep. Without them one interviewer key could fill the disk within the rate
limit (about 600 interviews a minute).

The checks count what is stored, then allow the write: two writes racing at the limit can
both pass, so the limit is exact to within the requests in flight (a bound, not a ledger).
Admins, and interviews an admin owns, are exempt; open local mode has no owners.
"""

from __future__ import annotations

from collections.abc import Callable

from viva.app.auth import Principal
from viva.errors import QuotaExceededError
from viva.store import InterviewRecord, Repository


class Quotas:
    def __init__(
        self,
        repo: Repository,
        *,
        max_interviews: int,
        max_answer_bytes: int,
        admin_subject: Callable[[str], bool],
    ) -> None:
        self.repo = repo
        self.max_interviews = max_interviews
        self.max_answer_bytes = max_answer_bytes
        self.admin_subject = admin_subject

    def _exempt(self, p: Principal, owner: str | None) -> bool:
        if p.open or owner is None:
            return True
        if p.role == "admin" and p.via != "link":
            return True
        return self.admin_subject(owner)

    def check_create(self, p: Principal) -> None:
        """Before a new interview for `p` (its owner) is stored."""
        if not self.max_interviews or self._exempt(p, p.subject):
            return
        assert p.subject is not None
        held, _ = self.repo.owner_usage(p.subject)
        if held >= self.max_interviews:
            raise QuotaExceededError(
                f"this account holds {held} interviews, the most allowed is "
                f"{self.max_interviews} (VIVA_QUOTA_INTERVIEWS); delete old ones or ask an admin"
            )

    def check_answer(
        self, p: Principal, iv: InterviewRecord, answer: str, idempotency_key: str | None
    ) -> None:
        """Before an answer to `iv` is stored (a link's answers count against the interviewer
        who made the link). A retry of a stored answer replays it, quota or not."""
        owner = iv.owner
        if not self.max_answer_bytes or self._exempt(p, owner):
            return
        assert owner is not None
        if idempotency_key and self.repo.find_by_key(iv.id, idempotency_key) is not None:
            return
        _, used = self.repo.owner_usage(owner)
        size = len(answer.encode("utf-8", "surrogatepass"))
        if used + size > self.max_answer_bytes:
            raise QuotaExceededError(
                f"answers stored for this account take {used} bytes; this one ({size} bytes) "
                f"would pass the limit of {self.max_answer_bytes} (VIVA_QUOTA_ANSWER_BYTES); "
                "delete old interviews or ask an admin"
            )
