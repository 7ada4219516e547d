"""What the routes do, as plain synchronous methods: FastAPI runs them in its thread pool, so
grading (CPU-bound torch) and database calls never block the event loop.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from viva.adapters.banks import BankRepository
from viva.api import schemas
from viva.api.problems import FieldError
from viva.core.grader import Grader
from viva.core.interview import InterviewState, choose_questions
from viva.core.report import build_report
from viva.domain.models import Grade, Question, QuestionReport, Report, RubricPoint
from viva.errors import ConflictError, InvalidInputError
from viva.settings import Settings
from viva.store import InterviewRecord, Repository

MAX_IDEMPOTENCY_KEY = 255


class IdempotencyKeyReused(InvalidInputError):
    """Same key, different request: per the IETF idempotency-key draft, 422."""

    title = "Idempotency key reused"


@dataclass(frozen=True)
class Outcome:
    """A response body and whether it was replayed from an earlier request with the same key."""

    body: dict[str, Any]
    replayed: bool


def current_question(state: InterviewState, iv: InterviewRecord) -> schemas.CurrentQuestion | None:
    qid = state.current
    if qid is None:
        return None
    return _as_current(iv, qid)


def _as_current(iv: InterviewRecord, qid: str) -> schemas.CurrentQuestion:
    q = iv.question(qid)
    assert q is not None  # the interview's own snapshot
    return schemas.CurrentQuestion(
        id=q.id,
        prompt=q.prompt,
        topic=q.topic,
        difficulty=q.difficulty,
        index=iv.question_ids.index(qid),
        total=len(iv.question_ids),
    )


def _request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class InterviewService:
    def __init__(
        self,
        settings: Settings,
        repo: Repository,
        banks: BankRepository,
        grader: Grader,
        judge: Any | None = None,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.banks = banks
        self.grader = grader
        self.judge = judge  # a viva.core.feedback.LLMJudge, when an LLM is configured
        # One grade at a time per process: tokenizers and the rubric cache are not thread-safe,
        # and torch already uses every core for one pass.
        self._grade_lock = threading.Lock()

    # --- interviews ----------------------------------------------------------------------

    def create(self, req: schemas.CreateInterview) -> InterviewRecord:
        if req.feedback == "llm" and not self.settings.llm_enabled:
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
        )

    def get(self, interview_id: str) -> InterviewRecord:
        return self.repo.get_interview(interview_id)

    def _check_length(self, answer: str) -> None:
        limit = self.settings.max_answer_chars
        if len(answer) > limit:
            raise FieldError(
                ["body", "answer"],
                f"answer is {len(answer)} characters; the limit is {limit} (VIVA_MAX_ANSWER_CHARS)",
                limit=limit,
            )

    def answer(self, interview_id: str, req: schemas.SubmitAnswer, key: str | None) -> Outcome:
        self._check_length(req.answer)
        h = _request_hash({"op": "answer", "question_id": req.question_id, "answer": req.answer})
        iv = self.repo.get_interview(interview_id)
        replay = self._replay(iv, key, h)
        if replay:
            return replay
        question = self._question(iv, req.question_id)
        state = iv.state
        state.check_can_respond(question.id)
        grade = self._grade(iv, question, req.answer)
        nxt = state.next_after(question.id)
        body = {
            "grade": grade.model_dump(mode="json"),
            "next_question": _as_current(iv, nxt).model_dump(mode="json") if nxt else None,
        }
        return self._store(iv, question.id, "answered", req.answer, grade, key, h, body)

    def skip(self, interview_id: str, req: schemas.SkipQuestion, key: str | None) -> Outcome:
        iv = self.repo.get_interview(interview_id)
        h = _request_hash({"op": "skip", "question_id": req.question_id})
        replay = self._replay(iv, key, h)
        if replay:
            return replay
        if req.question_id is not None:
            self._question(iv, req.question_id)
        state = iv.state
        qid = state.check_can_respond(req.question_id)
        nxt = state.next_after(qid)
        body = {
            "skipped": qid,
            "next_question": _as_current(iv, nxt).model_dump(mode="json") if nxt else None,
        }
        return self._store(iv, qid, "skipped", None, None, key, h, body)

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

    # --- stateless grading ---------------------------------------------------------------

    def grade_one(self, req: schemas.GradeRequestIn) -> Grade:
        self._check_length(req.answer)
        if req.question is not None:
            if req.bank_id or req.question_id:
                raise FieldError(
                    ["body"], "give either bank_id and question_id, or question, not both"
                )
            question = _adhoc_question(req.question)
            with self._grade_lock:
                return self.grader.grade(question, req.answer)
        if not (req.bank_id and req.question_id):
            missing = "bank_id" if not req.bank_id else "question_id"
            raise FieldError(
                ["body", missing],
                f"{missing} is required (or give an ad-hoc question with a reference_answer "
                "and/or points)",
            )
        bank = self.banks.get(req.bank_id)
        question = bank.question(req.question_id)
        with self._grade_lock:
            return self.grader.grade(
                question, req.answer, bank_id=bank.id, bank_version=bank.version
            )

    # --- health --------------------------------------------------------------------------

    def check_ready(self) -> schemas.Ready:
        from viva.adapters.llm import llm_status  # no LLM call: the last outcome only

        self.repo.db.ping()
        return schemas.Ready(
            status="ready", model=self.grader.embedder.name, database=self.repo.db.dialect,
            llm=llm_status(self.settings, self.judge)["status"],
        )  # fmt: skip

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
        with self._grade_lock:
            grade = self.grader.grade(
                question, answer, bank_id=iv.bank_id, bank_version=iv.bank_version
            )
        if iv.feedback != "llm":
            return grade
        # Outside the grade lock: an LLM call waits on the network, not on the CPU.
        if self.judge is None:
            from viva.adapters.llm import with_feedback

            return with_feedback(question, answer, grade, self.settings)  # never raises
        from viva.core.feedback import apply_llm_review, mark_unavailable

        try:
            review = self.judge.review(question, answer, grade)
        except Exception as exc:
            return mark_unavailable(grade, f"LLM review failed ({type(exc).__name__})")
        return apply_llm_review(grade, review, self.settings.llm_band)

    def _replay(self, iv: InterviewRecord, key: str | None, h: str) -> Outcome | None:
        if key is None:
            return None
        if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY:
            raise FieldError(
                ["header", "Idempotency-Key"],
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} visible characters",
            )
        prior = self.repo.find_by_key(iv.id, key)
        if prior is None:
            return None
        if prior.request_hash != h:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was already used for a different request in this "
                f"interview (question {prior.question_id!r}); use a new key for a new request"
            )
        return Outcome(prior.response_body, replayed=True)

    def _store(
        self,
        iv: InterviewRecord,
        qid: str,
        outcome: str,
        answer: str | None,
        grade: Grade | None,
        key: str | None,
        h: str,
        body: dict[str, Any],
    ) -> Outcome:
        stored = self.repo.add_response(
            iv,
            question_id=qid,
            outcome="answered" if outcome == "answered" else "skipped",
            answer=answer,
            grade=grade,
            idempotency_key=key,
            request_hash=h,
            response_body=body,
        )
        if stored.created:
            return Outcome(body, replayed=False)
        if stored.record is not None:  # a concurrent retry with the same key won the race
            return self._replay(iv, key, h) or Outcome(stored.record.response_body, True)
        # Another request answered or skipped this question first.
        self.repo.get_interview(iv.id).state.check_can_respond(qid)
        raise ConflictError(f"question {qid!r} was answered by a concurrent request")


def _adhoc_question(q: schemas.AdHocQuestion) -> Question:
    from viva.core.reference import points_from_reference

    try:
        if q.points:
            points = tuple(
                RubricPoint(
                    id=p.id or f"p{i + 1}",
                    text=p.text,
                    weight=p.weight,
                    alternatives=tuple(p.alternatives),
                )
                for i, p in enumerate(q.points)
            )
        elif q.reference_answer and q.reference_answer.strip():
            points = points_from_reference(q.reference_answer)
        else:
            raise FieldError(
                ["body", "question"],
                "an ad-hoc question needs points or a non-empty reference_answer to grade against",
            )
        return Question(
            id="adhoc",
            prompt=q.prompt,
            topic=q.topic,
            reference_answer=q.reference_answer or "",
            points=points,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise FieldError(["body", "question"], f"invalid question: {first['msg']}") from None
    except ValueError as exc:
        raise FieldError(["body", "question", "reference_answer"], str(exc)) from None
