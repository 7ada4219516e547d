"""Interviews: create, inspect, answer, skip, report."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from viva.api import schemas
from viva.api.auth import PrincipalDep, require, visible
from viva.api.deps import IdempotencyKey, InterviewsDep, QuotasDep
from viva.api.queue import GradingSlot
from viva.api.routes import responses
from viva.app import retention, secrecy
from viva.app.auth import Principal, can_delete, can_respond, is_staff, new_link_token
from viva.app.interviews import (
    Answered,
    AskedQuestion,
    Interviews,
    NewInterview,
    asked,
    pending_follow_up,
)
from viva.core.followup import FollowUp
from viva.domain.models import Grade
from viva.errors import InvalidInputError
from viva.store import InterviewRecord

router = APIRouter(prefix="/v1/interviews", tags=["interviews"])


def _progress(iv: InterviewRecord) -> schemas.Progress:
    answered = sum(r.outcome == "answered" for r in iv.answers)
    skipped = sum(r.outcome == "skipped" for r in iv.answers)
    return schemas.Progress(
        answered=answered, skipped=skipped, done=answered + skipped, total=len(iv.question_ids)
    )


def _current(q: AskedQuestion | None) -> schemas.CurrentQuestion | None:
    return schemas.CurrentQuestion(**asdict(q)) if q is not None else None


def _default_reveal(request: Request) -> str:
    return str(request.app.state.settings.reveal)


def _load(service: Interviews, p: Principal, interview_id: str) -> InterviewRecord:
    return visible(p, service.get(interview_id))


def _respondable(service: Interviews, p: Principal, interview_id: str) -> InterviewRecord:
    iv = _load(service, p, interview_id)
    require(
        can_respond(p, iv),
        "only the candidate answers this interview (with their link); "
        "its interviewer can read it and its report",
    )
    return iv


def _created(iv: InterviewRecord, default_reveal: str = "exam") -> schemas.InterviewCreated:
    return schemas.InterviewCreated(
        id=iv.id,
        status=iv.status,
        bank_id=iv.bank_id,
        bank_version=iv.bank_version,
        candidate=iv.candidate,
        feedback="llm" if iv.feedback == "llm" else "none",
        seed=iv.seed,
        question=_current(asked(iv, iv.state.current)),
        progress=_progress(iv),
        created_at=iv.created_at,
        reveal=secrecy.policy(iv, default_reveal),
        mode="practice" if iv.mode == "practice" else "exam",
        time_limit_s=iv.time_limit_s,
    )


def _follow_up(fu: FollowUp | None) -> schemas.FollowUpOut | None:
    if fu is None:
        return None
    return schemas.FollowUpOut(
        id=fu.id, prompt=fu.prompt, parent_id=fu.parent_id, point_ids=list(fu.point_ids)
    )


def _practice(out: Answered) -> schemas.PracticeOut | None:
    p = out.practice
    if p is None:
        return None
    return schemas.PracticeOut(
        reference_answer=p.reference_answer,
        missed=[schemas.MissedPoint(id=m.id, text=m.text) for m in p.missed],
        can_retry=p.can_retry,
    )


def _check_mode(body: schemas.CreateInterview, principal: Principal, default: str) -> None:
    """Practice shows model answers after each grade: not where the server never shows them
    to candidates, and not with a stricter reveal asked for in the same request."""
    if body.mode != "practice":
        return
    if body.reveal not in (None, "practice"):
        raise InvalidInputError(
            f'mode "practice" shows the model answer after each grade; it cannot go with '
            f"reveal {body.reveal!r}",
            field=("reveal",),
        )
    if default == "never" and not (principal.open or principal.sees_secrets):
        raise InvalidInputError(
            'this bank or server never shows model answers to candidates (reveal "never"), '
            'so mode "practice" is for interviewers and admins',
            field=("mode",),
        )


def _mark_replayed(response: Response, replayed: bool) -> None:
    if replayed:
        response.headers["Idempotency-Replayed"] = "true"


@router.post(
    "",
    status_code=201,
    response_model=schemas.InterviewCreated,
    responses=responses(401, 403, 404, 409, 422, 429),
)
def create_interview(
    body: schemas.CreateInterview,
    service: InterviewsDep,
    principal: PrincipalDep,
    quotas: QuotasDep,
    request: Request,
    response: Response,
) -> schemas.InterviewCreated:
    """Start an interview; the reply carries its first question. Interviewers can make one
    for a candidate (`candidate_link`): the reply's token is the candidate's credential."""
    require(principal.via != "link", "a candidate link answers its own interview only")
    bank = service.banks.get(body.bank_id, overlay=False)
    default = secrecy.baseline(bank, _default_reveal(request))
    secrecy.check_choice(principal, body.reveal, default)
    _check_mode(body, principal, default)
    token = hashed = None
    if body.candidate_link:
        require(is_staff(principal), "only interviewers and admins make candidate links")
        token, hashed = new_link_token()
    quotas.check_create(principal)
    fields = body.model_dump(exclude={"candidate_link"})
    iv = service.create(NewInterview(**fields, owner=principal.subject, link_hash=hashed))
    response.headers["Location"] = str(request.url_for("get_interview", interview_id=iv.id))
    out = _created(iv, default)
    out.candidate_link = token
    return out


@router.delete("/{interview_id}", status_code=204, responses=responses(401, 403, 404, 429))
def delete_interview(
    interview_id: str, service: InterviewsDep, principal: PrincipalDep
) -> Response:
    """Delete an interview and every answer and grade in it (its owner or an admin)."""
    iv = _load(service, principal, interview_id)
    require(can_delete(principal, iv), "only the interview's owner or an admin can delete it")
    retention.delete(service.repo, iv.id)
    return Response(status_code=204)


def _grade_out(p: Principal, iv: InterviewRecord, g: Grade | None, default: str) -> Grade | None:
    return secrecy.grade_for(p, iv, g, default) if g is not None else None


@router.get(
    "/{interview_id}", response_model=schemas.InterviewOut, responses=responses(401, 404, 429)
)
def get_interview(
    interview_id: str, service: InterviewsDep, principal: PrincipalDep, request: Request
) -> schemas.InterviewOut:
    """Status, the questions asked so far, answers and grades, and the current question."""
    iv = _load(service, principal, interview_id)
    default = _default_reveal(request)
    state = iv.state
    asked_upto = state.index if state.index is not None else len(iv.question_ids) - 1
    return schemas.InterviewOut(
        **_created(iv, default).model_dump(),
        questions=[
            schemas.QuestionOut(id=q.id, prompt=q.prompt, topic=q.topic, difficulty=q.difficulty)
            for q in iv.questions[: asked_upto + 1]
        ],
        responses=[
            schemas.ResponseOut(
                question_id=r.question_id,
                index=r.position,
                status=r.outcome,
                answer=r.answer,
                grade=_grade_out(principal, iv, r.grade, default),
                created_at=r.created_at,
                kind=r.kind,
                parent_id=r.parent_id,
                time_taken_s=r.time_taken_s,
            )
            for r in iv.responses
        ],
        updated_at=iv.updated_at,
        completed_at=iv.completed_at,
        follow_up=_follow_up(pending_follow_up(iv)),
    )


@router.post(
    "/{interview_id}/answers",
    response_model=schemas.AnswerResult,
    responses=responses(401, 403, 404, 409, 413, 422, 429, 503),
)
def submit_answer(
    interview_id: str,
    body: schemas.SubmitAnswer,
    service: InterviewsDep,
    principal: PrincipalDep,
    request: Request,
    response: Response,
    _slot: GradingSlot,
    quotas: QuotasDep,
    idempotency_key: IdempotencyKey = None,
) -> schemas.AnswerResult:
    """Grade the answer to the current question and return the next one (null at the end).
    Under the exam policy the grade's rubric texts stay hidden until the interview ends."""
    iv = _respondable(service, principal, interview_id)
    quotas.check_answer(principal, iv, body.answer, idempotency_key)
    out = service.answer(iv.id, body.question_id, body.answer, idempotency_key, retry=body.retry)
    _mark_replayed(response, out.replayed)
    done = out.next_question is None
    shown = secrecy.reveals_answer(principal, iv, _default_reveal(request), completing=done)
    grade = out.grade if shown else secrecy.redact_grade(out.grade)
    return schemas.AnswerResult(
        grade=grade,
        next_question=_current(out.next_question),
        follow_up=_follow_up(out.follow_up),
        practice=_practice(out) if shown else None,
        time_taken_s=out.time_taken_s,
    )


@router.post(
    "/{interview_id}/skip",
    response_model=schemas.SkipResult,
    responses=responses(401, 403, 404, 409, 422, 429),
)
def skip_question(
    interview_id: str,
    service: InterviewsDep,
    principal: PrincipalDep,
    response: Response,
    body: Annotated[schemas.SkipQuestion | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.SkipResult:
    """Skip the current question (it scores 0 in the report)."""
    question_id = body.question_id if body is not None else None
    iv = _respondable(service, principal, interview_id)
    out = service.skip(iv.id, question_id, idempotency_key)
    _mark_replayed(response, out.replayed)
    return schemas.SkipResult(skipped=out.skipped, next_question=_current(out.next_question))


@router.put(
    "/{interview_id}/answers/{question_id}/review",
    response_model=schemas.ReviewOut,
    responses=responses(401, 403, 404, 409, 422, 429),
)
def review_answer(
    interview_id: str,
    question_id: str,
    body: schemas.ReviewIn,
    service: InterviewsDep,
    principal: PrincipalDep,
) -> schemas.ReviewOut:
    """Override Viva's score of an answer (interviewers and admins). The report then shows
    both scores; the audit trail keeps both, with who and when; the answer becomes a graded
    example of its question, so the next answers are graded with it."""
    iv = _load(service, principal, interview_id)
    require(is_staff(principal), "only interviewers and admins review grades")
    require(can_delete(principal, iv), "only the interview's owner or an admin reviews it")
    who = principal.name or principal.subject or "open"
    out = service.review(iv.id, question_id, body.score, body.note, who)
    return schemas.ReviewOut(question_id=question_id, **out.model_dump())


@router.get(
    "/{interview_id}/report",
    response_model=schemas.ReportOut,
    responses={
        **responses(401, 404, 409, 422, 429),
        200: {"content": {"text/markdown": {}, "text/html": {}}},
    },
)
def get_report(
    interview_id: str,
    service: InterviewsDep,
    principal: PrincipalDep,
    request: Request,
    format: Annotated[Literal["json", "md", "html"], Query()] = "json",
) -> Response:
    """The scored report; JSON, Markdown or HTML. Reference answers and rubric texts appear
    as the interview's reveal policy allows (always for interviewers and admins)."""
    iv = _load(service, principal, interview_id)
    report = service.report(iv.id)
    if not secrecy.reveals(principal, iv, _default_reveal(request)):
        report = secrecy.redact_report(report)
    if format == "md":
        from viva.api.render import markdown

        return PlainTextResponse(markdown(report), media_type="text/markdown; charset=utf-8")
    if format == "html":
        from viva.api.render import REPORT_HEADERS, html

        title = f"Viva report: {report.candidate or interview_id}"
        return HTMLResponse(html(report, title), headers=REPORT_HEADERS)
    return JSONResponse(report.model_dump(mode="json"))
