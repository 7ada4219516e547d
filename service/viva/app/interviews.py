"""The interview use case: start one, answer or skip its questions (safely retried with an
idempotency key), and report on it once every question has an outcome.

Plain synchronous methods: the HTTP API runs them in its thread pool, so grading (CPU-bound)
and database calls never block the event loop. The grader is thread-safe, so no lock here.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from viva.adapters.banks import BankRepository
from viva.app.batching import GradeBatcher
from viva.app.grading import check_answer_length
from viva.app.review import HealthStatus, Reviewer
from viva.core.grader import Grader
from viva.core.interview import Outcome, choose_questions
from viva.core.report import build_report
from viva.domain.models import Difficulty, Grade, Question, QuestionReport, Report
from viva.errors import ConflictError, InvalidInputError

if TYPE_CHECKING:  # the store is plugged in by the composition root
    from viva.store import InterviewRecord, Repository, ResponseRecord

FeedbackMode = Literal["none", "llm"]
MAX_IDEMPOTENCY_KEY = 255


class IdempotencyKeyReused(InvalidInputError):
    """Same key, different request: per the IETF idempotency-key draft, a client error."""

    title = "Idempotency key reused"


@dataclass(frozen=True)
class NewInterview:
    bank_id: str
    question_count: int | None = None
    topics: Sequence[str] | None = None
    question_ids: Sequence[str] | None = None
    seed: int | None = None  # None: a random one, stored so the interview can be re-created
    candidate: str | None = None
    feedback: FeedbackMode = "none"
    owner: str | None = None  # the creator's subject (viva.app.auth); None in open mode
    link_hash: str | None = None  # made for a candidate: the hash of their link token
    reveal: str | None = None  # viva.app.secrecy's policy for this interview; None: default


@dataclass(frozen=True)
class AskedQuestion:
    """A question as the candidate sees it: no rubric, no reference answer."""

    id: str
    prompt: str
    topic: str
    difficulty: Difficulty
    index: int  # 0-based position in the interview
    total: int


@dataclass(frozen=True)
class Answered:
    grade: Grade
    next_question: AskedQuestion | None
    replayed: bool = False  # the stored result of an earlier request with the same key


@dataclass(frozen=True)
class Skipped:
    skipped: str
    next_question: AskedQuestion | None
    replayed: bool = False


@dataclass(frozen=True)
class Readiness:
    model: str
    database: str
    llm: HealthStatus


def asked(iv: InterviewRecord, question_id: str | None) -> AskedQuestion | None:
    if question_id is None:
        return None
    q = iv.question(question_id)
    assert q is not None  # the interview's own snapshot
    return AskedQuestion(
        id=q.id,
        prompt=q.prompt,
        topic=q.topic,
        difficulty=q.difficulty,
        index=iv.question_ids.index(question_id),
        total=len(iv.question_ids),
    )


def _request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _replayed_answer(prior: ResponseRecord) -> Answered:
    assert prior.grade is not None  # an answer's request hash: an answer's row
    return Answered(prior.grade, _stored_next(prior), replayed=True)


def _replayed_skip(prior: ResponseRecord) -> Skipped:
    return Skipped(prior.question_id, _stored_next(prior), replayed=True)


def _stored_next(prior: ResponseRecord) -> AskedQuestion | None:
    nxt = prior.response_body.get("next_question")
    return AskedQuestion(**nxt) if nxt else None


def _body(result: Answered | Skipped) -> dict[str, Any]:
    """What is stored for a replay: the response as it was first returned."""
    nxt = asdict(result.next_question) if result.next_question else None
    if isinstance(result, Answered):
        return {"grade": result.grade.model_dump(mode="json"), "next_question": nxt}
    return {"skipped": result.skipped, "next_question": nxt}


class Interviews:
    def __init__(
        self,
        repo: Repository,
        banks: BankRepository,
        grader: Grader,
        reviewer: Reviewer,
        *,
        max_answer_chars: int,
        batcher: GradeBatcher | None = None,
    ) -> None:
        self.repo = repo
        self.banks = banks
        self.grader = grader
        self._grade_one = batcher.grade if batcher is not None else grader.grade
        self.reviewer = reviewer
        self.max_answer_chars = max_answer_chars

    def create(self, req: NewInterview) -> InterviewRecord:
        if req.feedback == "llm" and not self.reviewer.enabled:
            raise ConflictError(
                'feedback "llm" needs an LLM, and this server has none configured: set '
                'VIVA_LLM_BASE_URL and VIVA_LLM_MODEL, or create the interview with feedback "none"'
            )
        bank = self.banks.get(req.bank_id)
        seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
        ids = choose_questions(
            bank,
            seed=seed,
            question_count=req.question_count,
            topics=req.topics,
            question_ids=req.question_ids,
        )
        return self.repo.create_interview(
            id=str(uuid.uuid4()),
            bank_id=bank.id,
            bank_version=bank.version,
            candidate=req.candidate,
            feedback=req.feedback,
            seed=seed,
            questions=tuple(bank.question(q) for q in ids),
            owner=req.owner,
            link_hash=req.link_hash,
            reveal=req.reveal,
        )

    def get(self, interview_id: str) -> InterviewRecord:
        return self.repo.get_interview(interview_id)

    def current_question(self, iv: InterviewRecord) -> AskedQuestion | None:
        return asked(iv, iv.state.current)

    def answer(
        self, interview_id: str, question_id: str, answer: str, idempotency_key: str | None = None
    ) -> Answered:
        check_answer_length(answer, self.max_answer_chars)
        h = _request_hash({"op": "answer", "question_id": question_id, "answer": answer})
        iv = self.repo.get_interview(interview_id)
        prior = self._replay(iv, idempotency_key, h)
        if prior is not None:
            return _replayed_answer(prior)
        question = self._question(iv, question_id)
        state = iv.state
        state.check_can_respond(question.id)
        grade = self._grade(iv, question, answer)
        result = Answered(grade, asked(iv, state.next_after(question.id)))
        won = self._store(iv, question.id, "answered", answer, grade, idempotency_key, h, result)
        return result if won is None else _replayed_answer(won)

    def skip(
        self, interview_id: str, question_id: str | None = None, idempotency_key: str | None = None
    ) -> Skipped:
        """Skip `question_id`, or the current question when None."""
        iv = self.repo.get_interview(interview_id)
        h = _request_hash({"op": "skip", "question_id": question_id})
        prior = self._replay(iv, idempotency_key, h)
        if prior is not None:
            return _replayed_skip(prior)
        if question_id is not None:
            self._question(iv, question_id)
        state = iv.state
        qid = state.check_can_respond(question_id)
        result = Skipped(qid, asked(iv, state.next_after(qid)))
        won = self._store(iv, qid, "skipped", None, None, idempotency_key, h, result)
        return result if won is None else _replayed_skip(won)

    def report(self, interview_id: str) -> Report:
        iv = self.repo.get_interview(interview_id)
        state = iv.state
        if state.status != "completed":
            raise ConflictError(
                f"the interview is in progress ({state.done} of {state.total} questions done); "
                "the report, with reference answers, is available once every question is "
                "answered or skipped"
            )
        by_q = {r.question_id: r for r in iv.responses}
        items = []
        for q in iv.questions:
            r = by_q.get(q.id)
            items.append(
                QuestionReport(
                    question_id=q.id,
                    prompt=q.prompt,
                    topic=q.topic,
                    difficulty=q.difficulty,
                    status=r.outcome if r else "unanswered",
                    answer=r.answer if r else None,
                    grade=r.grade if r else None,
                    reference_answer=q.reference_answer,
                )
            )
        return build_report(
            items, bank_id=iv.bank_id, bank_version=iv.bank_version, candidate=iv.candidate
        )

    def readiness(self) -> Readiness:
        """Raises when the database does not answer or cannot store data (StorageError);
        makes no LLM call."""
        self.repo.ping()
        self.repo.check_writable()
        return Readiness(
            model=self.grader.embedder.name,
            database=self.repo.dialect,
            llm=self.reviewer.health().status,
        )

    # --- helpers -------------------------------------------------------------------------

    def _question(self, iv: InterviewRecord, question_id: str) -> Question:
        q = iv.question(question_id)
        if q is not None:
            return q
        # Not in this interview: 404 when the bank has no such question, else 409 (wrong one).
        self.banks.get(iv.bank_id).question(question_id)
        iv.state.check_can_respond(question_id)
        raise ConflictError(f"question {question_id!r} is not part of this interview")

    def _grade(self, iv: InterviewRecord, question: Question, answer: str) -> Grade:
        grade = self._grade_one(question, answer, bank_id=iv.bank_id, bank_version=iv.bank_version)
        if iv.feedback != "llm":
            return grade
        return self.reviewer.review(question, answer, grade)  # never raises

    def _replay(self, iv: InterviewRecord, key: str | None, h: str) -> ResponseRecord | None:
        """The stored response for this key and request, None for a new key."""
        if key is None:
            return None
        if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
            raise InvalidInputError(
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible characters",
                field=("idempotency_key",),
            )
        prior = self.repo.find_by_key(iv.id, key)
        if prior is None:
            return None
        if prior.request_hash != h:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was already used for a different request in this "
                f"interview (question {prior.question_id!r}); use a new key for a new request"
            )
        return prior

    def _store(
        self,
        iv: InterviewRecord,
        qid: str,
        outcome: Outcome,
        answer: str | None,
        grade: Grade | None,
        key: str | None,
        h: str,
        result: Answered | Skipped,
    ) -> ResponseRecord | None:
        """Store the response once: None when stored now, the winner's record when a
        concurrent retry with the same key got there first."""
        stored = self.repo.add_response(
            iv,
            question_id=qid,
            outcome=outcome,
            answer=answer,
            grade=grade,
            idempotency_key=key,
            request_hash=h,
            response_body=_body(result),
        )
        if stored.created:
            return None
        if stored.record is not None:  # a concurrent retry with the same key won the race
            return self._replay(iv, key, h) or stored.record
        # Another request answered or skipped this question first.
        self.repo.get_interview(iv.id).state.check_can_respond(qid)
        raise ConflictError(f"question {qid!r} was answered by a concurrent request")
