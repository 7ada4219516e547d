"""Write the README's example reports: a weak, a middling and a strong interview on the keras
bank, graded by the shipped model, so the examples show what the report really says.

    python scripts/example_reports.py [--out docs/examples] [--fake]

Answers come from the bank's own graded examples (the lowest-, middle- and highest-scored one
of each question), so the three runs need no hand-written answers. The weak run skips its last
question and declines follow-ups; the middling one answers its first follow-up with the
question's best example. `--fake` grades with the test suite's bag-of-words embedder (for the
test that keeps this script working; its numbers are not the model's).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "service"))
sys.path.insert(0, str(REPO))

from viva.app.interviews import Interviews, NewInterview  # noqa: E402
from viva.composition import Components  # noqa: E402
from viva.domain.models import Question  # noqa: E402
from viva.reports.render import render_markdown  # noqa: E402
from viva.settings import Settings  # noqa: E402
from viva.store import Repository, open_database  # noqa: E402

QUESTIONS = ["keras-02", "keras-03", "keras-08", "keras-10"]
LEVELS = ("weak", "middling", "strong")


def _answer(q: Question, level: str) -> str:
    ranked = sorted(q.examples, key=lambda e: e.score)
    pick = {"weak": 0, "middling": len(ranked) // 2, "strong": -1}[level]
    return ranked[pick].answer


def run(svc: Interviews, level: str) -> str:
    iv = svc.create(NewInterview("keras", question_ids=QUESTIONS, candidate=f"{level} example"))
    asked_follow_up = False
    for qid in QUESTIONS:
        if level == "weak" and qid == QUESTIONS[-1]:
            svc.skip(iv.id)
            continue
        q = svc.banks.get("keras").question(qid)
        out = svc.answer(iv.id, qid, _answer(q, level))
        if out.follow_up is not None and level == "middling" and not asked_follow_up:
            svc.answer(iv.id, out.follow_up.id, _answer(q, "strong"))
            asked_follow_up = True
    return render_markdown(svc.report(iv.id))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "examples")
    ap.add_argument("--fake", action="store_true", help="the tests' embedder, not the model")
    args = ap.parse_args(argv)
    grader = None
    if args.fake:
        from tests.fakes.embedder import FakeEmbedder

        from viva.core.grader import Grader

        grader = Grader(FakeEmbedder())
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), rubrics_dir=REPO / "rubrics")
        parts = Components(settings, grader=grader)
        repo = Repository(open_database(f"sqlite:///{Path(tmp) / 'examples.db'}"))
        try:
            svc = parts.interviews(repo)
            args.out.mkdir(parents=True, exist_ok=True)
            for level in LEVELS:
                path = args.out / f"report-{level}.md"
                path.write_text(run(svc, level), encoding="utf-8")
                print(f"wrote {path}")
        finally:
            repo.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
