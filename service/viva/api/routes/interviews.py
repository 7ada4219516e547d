"""Interviews: create, inspect, answer, skip, report."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from viva.api import schemas
from viva.api.deps import IdempotencyKey, InterviewsDep
from viva.api.queue import GradingSlot
from viva.api.routes import responses
from viva.app.interviews import AskedQuestion, NewInterview, asked
from viva.store import InterviewRecord

router = APIRouter(prefix="/v1/interviews", tags=["interviews"])


def _progress(iv: InterviewRecord) -> schemas.Progress:
    answered = sum(r.outcome == "answered" for r in iv.responses)
    skipped = sum(r.outcome == "skipped" for r in iv.responses)
    return schemas.Progress(
        answered=answered, skipped=skipped, done=answered + skipped, total=len(iv.question_ids)
    )


def _current(q: AskedQuestion | None) -> schemas.CurrentQuestion | None:
    return schemas.CurrentQuestion(**asdict(q)) if q is not None else None


def _created(iv: InterviewRecord) -> schemas.InterviewCreated:
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
    )


def _mark_replayed(response: Response, replayed: bool) -> None:
    if replayed:
        response.headers["Idempotency-Replayed"] = "true"


@router.post(
    "",
    status_code=201,
    response_model=schemas.InterviewCreated,
    responses=responses(404, 409, 422),
)
def create_interview(
    body: schemas.CreateInterview, service: InterviewsDep, request: Request, response: Response
) -> schemas.InterviewCreated:
    """Start an interview; the reply carries its first question."""
    iv = service.create(NewInterview(**body.model_dump()))
    response.headers["Location"] = str(request.url_for("get_interview", interview_id=iv.id))
    return _created(iv)


@router.get("/{interview_id}", response_model=schemas.InterviewOut, responses=responses(404))
def get_interview(interview_id: str, service: InterviewsDep) -> schemas.InterviewOut:
    """Status, the questions asked so far, answers and grades, and the current question."""
    iv = service.get(interview_id)
    state = iv.state
    asked_upto = state.index if state.index is not None else len(iv.question_ids) - 1
    return schemas.InterviewOut(
        **_created(iv).model_dump(),
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
                grade=r.grade,
                created_at=r.created_at,
            )
            for r in iv.responses
        ],
        updated_at=iv.updated_at,
        completed_at=iv.completed_at,
    )


@router.post(
    "/{interview_id}/answers",
    response_model=schemas.AnswerResult,
    responses=responses(404, 409, 413, 422, 503),
)
def submit_answer(
    interview_id: str,
    body: schemas.SubmitAnswer,
    service: InterviewsDep,
    response: Response,
    _slot: GradingSlot,
    idempotency_key: IdempotencyKey = None,
) -> schemas.AnswerResult:
    """Grade the answer to the current question and return the next one (null at the end)."""
    out = service.answer(interview_id, body.question_id, body.answer, idempotency_key)
    _mark_replayed(response, out.replayed)
    return schemas.AnswerResult(grade=out.grade, next_question=_current(out.next_question))


@router.post(
    "/{interview_id}/skip",
    response_model=schemas.SkipResult,
    responses=responses(404, 409, 422),
)
def skip_question(
    interview_id: str,
    service: InterviewsDep,
    response: Response,
    body: Annotated[schemas.SkipQuestion | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> schemas.SkipResult:
    """Skip the current question (it scores 0 in the report)."""
    question_id = body.question_id if body is not None else None
    out = service.skip(interview_id, question_id, idempotency_key)
    _mark_replayed(response, out.replayed)
    return schemas.SkipResult(skipped=out.skipped, next_question=_current(out.next_question))


@router.get(
    "/{interview_id}/report",
    response_model=schemas.ReportOut,
    responses={
        **responses(404, 409, 422),
        200: {"content": {"text/markdown": {}, "text/html": {}}},
    },
)
def get_report(
    interview_id: str,
    service: InterviewsDep,
    format: Annotated[Literal["json", "md", "html"], Query()] = "json",
) -> Response:
    """The scored report, with reference answers revealed; JSON, Markdown or HTML."""
    report = service.report(interview_id)
    if format == "md":
        from viva.api.render import markdown

        return PlainTextResponse(markdown(report), media_type="text/markdown; charset=utf-8")
    if format == "html":
        from viva.api.render import REPORT_HEADERS, html

        title = f"Viva report: {report.candidate or interview_id}"
        return HTMLResponse(html(report, title), headers=REPORT_HEADERS)
    return JSONResponse(report.model_dump(mode="json"))
