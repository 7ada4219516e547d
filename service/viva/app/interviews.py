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
from viva.app import secrecy
from viva.app.batching import GradeBatcher
from viva.app.grading import check_answer_length
from viva.app.review import HealthStatus, Reviewer
from viva.core import followup
from viva.core.followup import FollowUp
from viva.core.grader import Grader
from viva.core.interview import Outcome, choose_questions
from viva.core.report import build_report
from viva.core.wording import counted
from viva.domain.models import (
    Attempt,
    Difficulty,
    FollowUpReport,
    Grade,
    HumanReview,
    Question,
    QuestionReport,
    Report,
    topic_words,
)
from viva.errors import BankNotFoundError, ConflictError, InvalidInputError, QuestionNotFoundError
from viva.store.tables import utcnow

if TYPE_CHECKING:  # the store is plugged in by the composition root
    from viva.app.human_review import HumanReviews
    from viva.store import InterviewRecord, Repository, ResponseRecord
    from viva.store.reviews import ReviewRecord

FeedbackMode = Literal["none", "llm"]
Mode = Literal["exam", "practice"]
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
    mode: Mode = "exam"  # practice: a retry per question, the model answer after each grade
    time_limit_s: int | None = None  # per question; time taken is stored either way


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
class Missed:
    id: str
    text: str


@dataclass(frozen=True)
class Practice:
    """What practice mode shows after a grade: the model answer, what was missed, a retry."""

    reference_answer: str
    missed: list[Missed]
    can_retry: bool


@dataclass(frozen=True)
class Answered:
    grade: Grade
    next_question: AskedQuestion | None
    replayed: bool = False  # the stored result of an earlier request with the same key
    follow_up: FollowUp | None = None
    practice: Practice | None = None
    time_taken_s: float = 0.0


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
    body = prior.response_body
    fu = body.get("follow_up")
    pr = body.get("practice")
    return Answered(
        prior.grade,
        _stored_next(prior),
        replayed=True,
        follow_up=FollowUp(**{**fu, "point_ids": tuple(fu["point_ids"])}) if fu else None,
        practice=Practice(
            pr["reference_answer"], [Missed(**m) for m in pr["missed"]], pr["can_retry"]
        )
        if pr
        else None,
        time_taken_s=float(body.get("time_taken_s") or prior.time_taken_s or 0.0),
    )


def _replayed_skip(prior: ResponseRecord) -> Skipped:
    return Skipped(prior.question_id, _stored_next(prior), replayed=True)


def _stored_next(prior: ResponseRecord) -> AskedQuestion | None:
    nxt = prior.response_body.get("next_question")
    return AskedQuestion(**nxt) if nxt else None


def _body(result: Answered | Skipped) -> dict[str, Any]:
    """What is stored for a replay: the response as it was first returned."""
    nxt = asdict(result.next_question) if result.next_question else None
    if isinstance(result, Answered):
        return {
            "grade": result.grade.model_dump(mode="json"),
            "next_question": nxt,
            "follow_up": asdict(result.follow_up) if result.follow_up else None,
            "practice": asdict(result.practice) if result.practice else None,
            "time_taken_s": result.time_taken_s,
        }
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
        reviews: HumanReviews | None = None,
        batcher: GradeBatcher | None = None,
    ) -> None:
        self.repo = repo
        self.banks = banks
        self.grader = grader
        self._grade_one = batcher.grade if batcher is not None else grader.grade
        self.reviewer = reviewer
        self.max_answer_chars = max_answer_chars
        self.reviews = reviews  # people's overrides; their answers anchor the next grades

    def create(self, req: NewInterview) -> InterviewRecord:
        if req.feedback == "llm" and not self.reviewer.enabled:
            raise ConflictError(
                'feedback "llm" needs an LLM, and this server has none configured: set '
                'VIVA_LLM_BASE_URL and VIVA_LLM_MODEL, or create the interview with feedback "none"'
            )
        bank = self.banks.get(req.bank_id, overlay=False)  # reviewed answers join at grading
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
            reveal=secrecy.pinned("practice" if req.mode == "practice" else req.reveal, bank),
            mode=req.mode,
            time_limit_s=req.time_limit_s,
        )

    def get(self, interview_id: str) -> InterviewRecord:
        return self.repo.get_interview(interview_id)

    def current_question(self, iv: InterviewRecord) -> AskedQuestion | None:
        return asked(iv, iv.state.current)

    def answer(
        self,
        interview_id: str,
        question_id: str,
        answer: str,
        idempotency_key: str | None = None,
        *,
        retry: bool = False,
    ) -> Answered:
        """Grade an answer to the current question, to the pending follow-up (its id), or, in
        practice mode with `retry`, a second try at the question just graded."""
        check_answer_length(answer, self.max_answer_chars)
        payload: dict[str, Any] = {"op": "answer", "question_id": question_id, "answer": answer}
        if retry:
            payload["retry"] = True
        h = _request_hash(payload)
        iv = self.repo.get_interview(interview_id)
        prior = self._replay(iv, idempotency_key, h)
        if prior is not None:
            return _replayed_answer(prior)
        taken = _time_taken(iv)
        parent = followup.parent_of(question_id)
        if parent is not None and not retry:
            return self._answer_follow_up(iv, question_id, parent, answer, idempotency_key, h)
        question = self._question(iv, question_id)
        state = iv.state
        if retry:
            first = self._retryable(iv, question.id)
            grade = self._grade(iv, question, answer, siblings=_asked_before(iv, question.id))
            grades = [first, grade]
            result = Answered(
                grade,
                asked(iv, state.current),
                follow_up=followup.choose(question, grades),
                practice=_practice(question, grades, can_retry=False),
                time_taken_s=taken,
            )
            won = self._store(
                iv, followup.retry_id(question.id), "answered", answer, grade,
                idempotency_key, h, result, kind="retry", parent=question.id, taken=taken,
            )  # fmt: skip
            return result if won is None else _replayed_answer(won)
        state.check_can_respond(question.id)
        grade = self._grade(iv, question, answer, siblings=_asked_before(iv, question.id))
        practice = iv.mode == "practice"
        result = Answered(
            grade,
            asked(iv, state.next_after(question.id)),
            follow_up=followup.choose(question, [grade]),
            practice=_practice(question, [grade], can_retry=True) if practice else None,
            time_taken_s=taken,
        )
        won = self._store(
            iv, question.id, "answered", answer, grade, idempotency_key, h, result, taken=taken
        )
        return result if won is None else _replayed_answer(won)

    def _answer_follow_up(
        self,
        iv: InterviewRecord,
        follow_up_id: str,
        parent: str,
        answer: str,
        key: str | None,
        h: str,
    ) -> Answered:
        offered, grades = self._pending_follow_up(iv, follow_up_id)
        question = self._question(iv, parent)
        best = grades[followup.best_attempt(grades)]
        missing = followup.missed_ids(question, [best])
        taken = _time_taken(iv)
        grade = self._grade(iv, followup.as_question(question, offered, missing), answer)
        practice = iv.mode == "practice"
        result = Answered(
            grade,
            asked(iv, iv.state.current),
            practice=_practice(question, [best, grade], can_retry=False) if practice else None,
            time_taken_s=taken,
        )
        won = self._store(
            iv, follow_up_id, "answered", answer, grade, key, h, result,
            kind="follow_up", parent=parent, taken=taken,
        )  # fmt: skip
        return result if won is None else _replayed_answer(won)

    def _pending_follow_up(
        self, iv: InterviewRecord, follow_up_id: str
    ) -> tuple[FollowUp, list[Grade]]:
        """The follow-up offered by the latest response, if it is `follow_up_id`, and the
        grades of the tries it follows; else why it cannot be answered now."""
        offered = pending_follow_up(iv)
        if offered is None or offered.id != follow_up_id:
            raise ConflictError(
                f"{follow_up_id!r} is not a pending follow-up: a follow-up is answered right "
                "after the answer that it follows, before the next question"
            )
        grades = [
            r.grade
            for r in iv.responses
            if r.question == offered.parent_id and r.kind != "follow_up" and r.grade is not None
        ]
        return offered, grades

    def _retryable(self, iv: InterviewRecord, question_id: str) -> Grade:
        """The first try's grade, when a retry of `question_id` is allowed now."""
        if iv.mode != "practice":
            raise ConflictError(
                'retries are for practice interviews; create one with "mode": "practice"'
            )
        last = iv.responses[-1] if iv.responses else None
        if last is not None and last.kind == "retry" and last.parent_id == question_id:
            raise ConflictError(f"question {question_id!r} was already retried (once is allowed)")
        if last is None or last.kind != "answer" or last.question_id != question_id:
            raise ConflictError(
                f"question {question_id!r} can be retried only right after its grade, before "
                "any later answer"
            )
        if last.grade is None:
            raise ConflictError(f"question {question_id!r} was skipped; there is nothing to retry")
        return last.grade

    def skip(
        self, interview_id: str, question_id: str | None = None, idempotency_key: str | None = None
    ) -> Skipped:
        """Skip `question_id`, or the current question when None."""
        iv = self.repo.get_interview(interview_id)
        h = _request_hash({"op": "skip", "question_id": question_id})
        prior = self._replay(iv, idempotency_key, h)
        if prior is not None:
            return _replayed_skip(prior)
        parent = followup.parent_of(question_id) if question_id is not None else None
        if question_id is not None and parent is not None:
            offered, _ = self._pending_follow_up(iv, question_id)
            result = Skipped(question_id, asked(iv, iv.state.current))
            won = self._store(
                iv, question_id, "skipped", None, None, idempotency_key, h, result,
                kind="follow_up", parent=offered.parent_id, taken=_time_taken(iv),
            )  # fmt: skip
            return result if won is None else _replayed_skip(won)
        if question_id is not None:
            self._question(iv, question_id)
        state = iv.state
        qid = state.check_can_respond(question_id)
        result = Skipped(qid, asked(iv, state.next_after(qid)))
        won = self._store(
            iv, qid, "skipped", None, None, idempotency_key, h, result, taken=_time_taken(iv)
        )
        return result if won is None else _replayed_skip(won)

    def report(self, interview_id: str) -> Report:
        iv = self.repo.get_interview(interview_id)
        state = iv.state
        if state.status != "completed":
            raise ConflictError(
                f"the interview is in progress ({state.done} of "
                f"{counted(state.total, 'question')} done); "
                "the report, with reference answers, is available once every question is "
                "answered or skipped"
            )
        return self.build_report(iv)

    def build_report(self, iv: InterviewRecord) -> Report:
        """The report as it stands (scored on what is answered so far)."""
        overrides = self._overrides(iv.id)
        items = [_question_report(iv, q, overrides.get(q.id)) for q in iv.questions]
        return build_report(
            items,
            bank_id=iv.bank_id,
            bank_version=iv.bank_version,
            candidate=iv.candidate,
            topic_names=self._topic_names(iv),
            questions={q.id: q for q in iv.questions},
        )

    def _topic_names(self, iv: InterviewRecord) -> dict[str, str]:
        topics = {q.topic for q in iv.questions}
        try:
            bank = self.banks.get(iv.bank_id)
        except BankNotFoundError:  # the bank was removed since: the slugs in words
            return {t: topic_words(t) for t in topics}
        return {t: bank.topic_name(t) for t in topics}

    def review(
        self, interview_id: str, question_id: str, score: float, note: str | None, reviewer: str
    ) -> HumanReview:
        """A person's score for one graded answer. Appended to the audit trail with Viva's
        score; the answer becomes a graded example of its question for the next grades."""
        from viva.store.reviews import NewReview

        if self.reviews is None:
            raise ConflictError("reviews need the database; this server has none")
        iv = self.repo.get_interview(interview_id)
        response = next((r for r in iv.responses if r.question_id == question_id), None)
        if response is None or response.grade is None or response.answer is None:
            if iv.question(question_id) is None:
                raise QuestionNotFoundError(
                    f"question {question_id!r} is not part of interview {interview_id!r}"
                )
            state = "skipped" if response is not None else "not answered yet"
            raise ConflictError(f"question {question_id!r} has no graded answer to review: {state}")
        record = self.reviews.record_one(
            NewReview(
                source="api",
                interview_id=iv.id,
                bank_id=iv.bank_id,
                bank_version=iv.bank_version,
                question_id=question_id,
                answer=response.answer,
                viva_score=response.grade.score,
                score=score,
                note=note,
                reviewer=reviewer,
            )
        )
        return _human(record)

    def review_trail(self, interview_id: str) -> list[ReviewRecord]:
        return [] if self.reviews is None else self.reviews.store.for_interview(interview_id)

    def _overrides(self, interview_id: str) -> dict[str, HumanReview]:
        """The review in force for each question (the newest)."""
        return {r.question_id: _human(r) for r in self.review_trail(interview_id)}

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

    def _grade(
        self,
        iv: InterviewRecord,
        question: Question,
        answer: str,
        *,
        siblings: Sequence[Question] = (),
    ) -> Grade:
        if self.reviews is not None:  # people's reviewed answers anchor this grade too
            question = self.reviews.question(iv.bank_id, question)
        grade = self._grade_one(
            question, answer, bank_id=iv.bank_id, bank_version=iv.bank_version, siblings=siblings
        )
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
        *,
        kind: str = "answer",
        parent: str | None = None,
        taken: float | None = None,
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
            kind=kind,
            parent_id=parent,
            time_taken_s=taken,
        )
        if stored.created:
            return None
        if stored.record is not None:  # a concurrent retry with the same key won the race
            return self._replay(iv, key, h) or stored.record
        # Another request answered or skipped this question first.
        self.repo.get_interview(iv.id).state.check_can_respond(qid)
        raise ConflictError(f"question {qid!r} was answered by a concurrent request")


def _asked_before(iv: InterviewRecord, question_id: str) -> tuple[Question, ...]:
    """The interview's questions already answered or skipped: an answer meant for one of them
    is named as such. Questions still to come are left out, so no grade shows their prompts."""
    done = {r.question_id for r in iv.answers} - {question_id}
    return tuple(q for q in iv.questions if q.id in done)


def _time_taken(iv: InterviewRecord) -> float:
    """Seconds since the question now answered was served: since the latest response, or
    since the interview began."""
    served = max((r.created_at for r in iv.responses), default=iv.created_at)
    return round(max((utcnow() - served).total_seconds(), 0.0), 1)


def _practice(question: Question, grades: list[Grade], *, can_retry: bool) -> Practice:
    missed = set(followup.missed_ids(question, grades))
    return Practice(
        reference_answer=question.reference_answer,
        missed=[Missed(p.id, p.text) for p in question.points if p.id in missed],
        can_retry=can_retry,
    )


def _question_report(
    iv: InterviewRecord, q: Question, review: HumanReview | None = None
) -> QuestionReport:
    """One question's tries, follow-up and time: the better try is shown, the follow-up's
    points join it."""
    mine = [r for r in iv.responses if r.question == q.id]
    main = next((r for r in mine if r.kind == "answer"), None)
    if main is None:
        return QuestionReport(
            question_id=q.id,
            prompt=q.prompt,
            topic=q.topic,
            difficulty=q.difficulty,
            status="unanswered",
            reference_answer=q.reference_answer,
        )
    tries = [r for r in mine if r.kind in ("answer", "retry") and r.grade is not None]
    attempts = [Attempt(answer=r.answer or "", grade=r.grade, time_taken_s=r.time_taken_s)
                for r in tries if r.grade is not None]  # fmt: skip
    best = tries[followup.best_attempt([a.grade for a in attempts])] if tries else main
    grade = best.grade
    fu_row = next((r for r in mine if r.kind == "follow_up"), None)
    offered = next(
        (r.response_body["follow_up"] for r in reversed(tries) if r.response_body.get("follow_up")),
        None,
    )
    fu_report = None
    if offered is not None and grade is not None:
        fu_grade = fu_row.grade if fu_row is not None else None
        fu_report = FollowUpReport(
            id=offered["id"],
            prompt=offered["prompt"],
            point_ids=list(offered["point_ids"]),
            status=fu_row.outcome if fu_row is not None else "unanswered",
            answer=fu_row.answer if fu_row is not None else None,
            grade=fu_grade,
            earned=followup.earned(grade, fu_grade) if fu_grade is not None else [],
        )
        grade = followup.merge(grade, fu_grade)
    taken = best.time_taken_s
    return QuestionReport(
        question_id=q.id,
        prompt=q.prompt,
        topic=q.topic,
        difficulty=q.difficulty,
        status=main.outcome,
        answer=best.answer,
        grade=grade,
        reference_answer=q.reference_answer,
        attempts=attempts if len(attempts) > 1 else [],
        improvement=round(attempts[1].grade.score - attempts[0].grade.score, 4)
        if len(attempts) > 1
        else None,
        follow_up=fu_report,
        time_taken_s=taken,
        review=review,
        over_time=bool(iv.time_limit_s and taken is not None and taken > iv.time_limit_s),
    )


def pending_follow_up(iv: InterviewRecord) -> FollowUp | None:
    """The follow-up the latest answer offered, while it has no answer or skip and no later
    question has been answered."""
    last = iv.responses[-1] if iv.responses else None
    if last is None or last.kind == "follow_up":
        return None
    fu = last.response_body.get("follow_up")
    return FollowUp(**{**fu, "point_ids": tuple(fu["point_ids"])}) if fu else None


def _human(r: ReviewRecord) -> HumanReview:
    return HumanReview(
        score=r.score,
        viva_score=r.viva_score,
        note=r.note,
        reviewer=r.reviewer,
        reviewed_at=r.created_at,
    )
