"""`python -m bench.nli.check ARTEFACT`: what an experimental NLI artefact reads on the dev trust
cases (contradictions against their point; correct control answers) and on Mohler answers, which
it was not trained on (share of well-scored answers with a sentence read as a contradiction)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from bench.nli.model import LABELS, NliClassifier

from viva.adapters.banks import load_bank_file
from viva.core.text import split_sentences

C, E = LABELS.index("contradicts"), LABELS.index("entails")


def main(path: str, asag: Path = Path("../shared/data/asag")) -> None:
    nli = NliClassifier(Path(path))
    bank = load_bank_file(Path("rubrics/keras.yaml"))
    questions = {q.id: q for q in bank.questions}
    dev = yaml.safe_load(Path("tests/quality/cases_dev.yaml").read_text())["cases"]
    hits = n = 0
    print("== dev contradictions: max P(contradicts), claim vs its point's phrasings")
    for c in (c for c in dev if c["kind"] == "contradiction"):
        p = next(p for p in questions[c["question_id"]].points if p.id == c["point"])
        claim = c.get("claim", c["answer"])
        pairs = [(t, s.text) for t in (p.text, *p.alternatives) for s in split_sentences(claim)]
        pr = nli.classify(pairs)
        n += 1
        hits += int(pr[:, C].max() >= 0.5)
        print(f"  {c['question_id']} {c['point']:18s} Pc={pr[:, C].max():.2f}")
    print(f"dev contradictions read as such: {hits}/{n}")
    flagged = total = 0
    for c in (c for c in dev if c["kind"] == "control"):
        for p in questions[c["question_id"]].points:
            sents = [s.text for s in split_sentences(c["answer"])]
            pr = nli.classify([(t, s) for t in (p.text, *p.alternatives) for s in sents])
            total += 1
            flagged += int(((pr[:, C] >= 0.5) & (pr[:, C] > pr[:, E])).any())
    print(f"control answers' points read as contradicted: {flagged}/{total}")
    rows = [json.loads(line) for line in (asag / "mohler_dev.jsonl").open(encoding="utf-8")]
    for name, keep in (("score >= 4.5", lambda s: s >= 4.5), ("score <= 2", lambda s: s <= 2)):
        chosen = [r for r in rows if keep(r["score"])][:200]
        hit = 0
        for r in chosen:
            ref, ans = split_sentences(r["reference_answer"]), split_sentences(r["answer"])
            pairs = [(a.text, b.text) for a in ref for b in ans]
            if pairs:
                pr = nli.classify(pairs)
                hit += int(((pr[:, C] >= 0.5) & (pr[:, C] > pr[:, E])).any())
        print(f"Mohler answers ({name}) with a sentence read as contradicting: {hit}/{len(chosen)}")


if __name__ == "__main__":
    main(sys.argv[1])
