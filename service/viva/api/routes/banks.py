"""Question banks: prompts only. Rubric points and reference answers stay hidden until graded."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from viva.api import schemas
from viva.api.auth import PrincipalDep, get_principal, require
from viva.api.deps import BanksDep
from viva.api.routes import responses
from viva.domain.models import Bank

router = APIRouter(
    prefix="/v1/banks",
    tags=["banks"],
    dependencies=[Depends(get_principal)],
    responses=responses(401, 429),
)


def _summary(b: Bank) -> schemas.BankSummary:
    return schemas.BankSummary(
        id=b.id,
        title=b.title,
        version=b.version,
        description=b.description,
        language=b.language,
        topics=b.topics,
        topic_names={t: b.topic_name(t) for t in b.topics},
        question_count=len(b.questions),
    )


@router.post("/reload", response_model=schemas.BankList, responses=responses(403, 422))
def reload_banks(banks: BanksDep, principal: PrincipalDep) -> schemas.BankList:
    """Admins: read the bank folders again (VIVA_RUBRICS_DIR and VIVA_RUBRICS_PATH), so edits
    apply without a restart. Any invalid file: 422 naming it, and the old banks stay. Running
    interviews keep the questions they started with. Each worker process reloads on its own."""
    require(principal.open or (principal.role == "admin" and principal.via != "link"),
            "only admins reload the banks")  # fmt: skip
    return schemas.BankList(banks=[_summary(b) for b in banks.reload()])


@router.get("", response_model=schemas.BankList)
def list_banks(banks: BanksDep) -> schemas.BankList:
    return schemas.BankList(banks=[_summary(b) for b in banks.all()])


@router.get("/{bank_id}", response_model=schemas.BankOut, responses=responses(404))
def get_bank(bank_id: str, banks: BanksDep) -> schemas.BankOut:
    b = banks.get(bank_id)
    return schemas.BankOut(
        **_summary(b).model_dump(),
        questions=[
            schemas.QuestionOut(id=q.id, prompt=q.prompt, topic=q.topic, difficulty=q.difficulty)
            for q in b.questions
        ],
    )
