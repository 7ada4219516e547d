"""`python -m bench.nli.probe ARTEFACT...`: an NLI artefact read as the grader would read it.

For each rubric point, the two answer sentences closest to it (cosine >= 0.4, the bundled
MiniLM) are read against the point's closest phrasing; the point counts as contradicted when
P(contradicts) >= t and exceeds P(entails). Counted, per threshold t: points of the banks' good
examples (score >= 0.8) read as contradicted (false alarms), misconception examples whose denied
point is read as contradicted (hits), the same on the dev trust cases, and Mohler answers
(reference sentences as the points) scored >= 4.5 against <= 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import yaml
from bench.nli.model import NliClassifier

from viva.adapters.banks import load_bank_file
from viva.adapters.embedder import SentenceTransformerEmbedder
from viva.core.text import split_sentences

Pairs = list[tuple[str, str]]


def main(paths: list[str], asag: Path = Path("../shared/data/asag")) -> None:
    emb = SentenceTransformerEmbedder()

    def unit(texts: list[str]) -> np.ndarray:
        v = np.asarray(emb.embed(texts))
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def candidates(phrasings: list[str], answer: str) -> Pairs:
        sents = [s.text for s in split_sentences(answer)]
        if not sents:
            return []
        sims = unit(phrasings) @ unit(sents).T
        best = sims.max(0)
        order = np.argsort(-best)[:2]
        return [(phrasings[int(sims[:, i].argmax())], sents[i]) for i in order if best[i] >= 0.4]

    banks = [load_bank_file(p) for p in sorted(Path("rubrics").glob("*.yaml"))]
    good: list[Pairs] = []
    wrong: list[Pairs] = []
    for b in banks:
        for q in b.questions:
            denied = {m.id: m.contradicts for m in q.misconceptions}
            for ex in q.examples:
                if ex.score >= 0.8:
                    good += [candidates([p.text, *p.alternatives], ex.answer) for p in q.points]
                if ex.misconception and denied.get(ex.misconception):
                    p = next(p for p in q.points if p.id == denied[ex.misconception])
                    wrong.append(candidates([p.text, *p.alternatives], ex.answer))
    keras = {q.id: q for b in banks if b.id == "keras" for q in b.questions}
    dev = yaml.safe_load(Path("tests/quality/cases_dev.yaml").read_text())["cases"]
    dev_wrong: list[Pairs] = []
    dev_good: list[Pairs] = []
    for c in dev:
        q = keras[c["question_id"]]
        if c["kind"] == "contradiction":
            p = next(p for p in q.points if p.id == c["point"])
            dev_wrong.append(candidates([p.text, *p.alternatives], c["answer"]))
        elif c["kind"] == "control":
            dev_good += [candidates([p.text, *p.alternatives], c["answer"]) for p in q.points]
    rows = [json.loads(line) for line in (asag / "mohler_dev.jsonl").open(encoding="utf-8")]

    def mohler(keep: float, above: bool) -> list[Pairs]:
        chosen = [r for r in rows if (r["score"] >= keep if above else r["score"] <= keep)]
        return [
            candidates([s.text for s in split_sentences(r["reference_answer"])], r["answer"])
            for r in chosen[:200]
        ]

    m_good, m_bad = mohler(4.5, True), mohler(2.0, False)
    for path in paths:
        nli = NliClassifier(Path(path))
        for t in (0.5, 0.7, 0.85):

            def count(items: list[Pairs], t: float = t, nli: NliClassifier = nli) -> str:
                n = 0
                for pairs in items:
                    if pairs:
                        pr = nli.classify(pairs)
                        n += int(((pr[:, 1] >= t) & (pr[:, 1] > pr[:, 0])).any())
                return f"{n}/{len(items)}"

            print(
                f"{Path(path).stem} t={t}: good-example points {count(good)}, misconception "
                f"examples {count(wrong)}, dev contradictions {count(dev_wrong)}, dev control "
                f"points {count(dev_good)}, Mohler >= 4.5 {count(m_good)}, <= 2 {count(m_bad)}",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
