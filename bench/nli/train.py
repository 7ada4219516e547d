"""Train the experimental contradiction classifier (issue 9; not shipped, see
bench/scorer_results.md): `python -m bench.nli.train ../shared/data/asag -o /tmp/viva-nli/v2.npz`.

Data, all from the repository or the shared ASAG folder:
- every bank: a point's phrasings entail each other; each phrasing's denials (negation, antonym,
  quantifier, swapped roles; see `denials`) contradict every phrasing of that point; a
  misconception contradicts the point it denies; other points are neither. Sentences of the
  bank's good examples entail the point they match best, and their denials contradict it.
- SemEval-2013 Beetle (only Beetle: Mohler and SciEntsBank stay out, so the agreement figures
  measured on them are held out): a correct answer entails its reference answer; a denial of it
  contradicts the reference; an answer to another question is neither.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from bench.nli.denials import denials
from bench.nli.model import DEFAULT_PATH, LABELS, MAX_LENGTH, build_model, save_artifact

if TYPE_CHECKING:  # training from --pairs needs no viva (the GPU machine has no pydantic)
    from viva.domain.models import Bank

ENTAILS, CONTRADICTS, NEITHER = (LABELS.index(x) for x in ("entails", "contradicts", "neither"))
GOOD_EXAMPLE = 0.8  # an example at least this good states its matched point correctly
MATCH = 0.55  # cosine at which an example's sentence is taken to be about a point


@dataclass(frozen=True)
class Pair:
    premise: str
    hypothesis: str
    label: int


def _both(a: str, b: str, label: int, rng: random.Random) -> Pair:
    """Order does not matter for these labels; show the model both orders across the data."""
    return Pair(a, b, label) if rng.random() < 0.5 else Pair(b, a, label)


def bank_pairs(
    banks: Iterable[Bank],
    rng: random.Random,
    matches: dict[tuple[str, str], list[str]] | None = None,
) -> list[Pair]:
    """Pairs from rubric points, misconceptions and (via `matches`: (question id, point id)
    to good-example sentences about that point) the banks' graded examples."""
    out: list[Pair] = []
    questions = [q for b in banks for q in b.questions]
    all_phrasings = [t for q in questions for p in q.points for t in (p.text, *p.alternatives)]
    for q in questions:
        phr = {p.id: [p.text, *p.alternatives] for p in q.points}
        for pid, texts in phr.items():
            said = texts + (matches or {}).get((q.id, pid), [])
            others = [t for o, ts in phr.items() if o != pid for t in ts]
            for i, a in enumerate(texts):
                # Minimal pairs: each entailment next to the same pair with the hypothesis
                # denied, so the model must read the denial, not the change of wording.
                for b in [a, *said[i + 1 :]]:
                    if b != a:
                        out.append(_both(a, b, ENTAILS, rng))
                    ds = denials(b)
                    if ds:
                        out.append(_both(a, rng.choice(ds), CONTRADICTS, rng))
                # A denied sentence about something else is still about something else.
                for other in rng.sample(others, min(2, len(others))):
                    out.append(_both(a, other, NEITHER, rng))
                    ds = denials(other)
                    if ds:
                        out.append(_both(a, rng.choice(ds), NEITHER, rng))
                out.append(_both(a, rng.choice(all_phrasings), NEITHER, rng))
            negs = [x for x in (denials(t)[:1] for t in texts) if x]
            for j in range(len(negs) - 1):
                out.append(_both(negs[j][0], negs[j + 1][0], ENTAILS, rng))
        for m in q.misconceptions:
            if m.contradicts in phr:
                for a in phr[m.contradicts]:
                    out.append(_both(a, m.text, CONTRADICTS, rng))
            for pid, texts in phr.items():
                if pid != m.contradicts:
                    out.append(_both(rng.choice(texts), m.text, NEITHER, rng))
    return [p for p in out if p.premise != p.hypothesis or p.label == ENTAILS]


def asag_pairs(rows: Sequence[dict[str, object]], rng: random.Random) -> list[Pair]:
    """Pairs from graded short answers: correct answers and denials of them."""
    out: list[Pair] = []
    by_q: dict[str, list[str]] = {}
    for r in rows:
        by_q.setdefault(str(r["question_id"]), []).append(str(r["answer"]))
    qids = sorted(by_q)
    refs_seen: set[str] = set()
    for r in rows:
        ref, ans = str(r["reference_answer"]), str(r["answer"])
        if ref not in refs_seen:
            refs_seen.add(ref)
            for d in denials(ref)[:2]:
                out.append(_both(ref, d, CONTRADICTS, rng))
        if r.get("label") == "correct":
            out.append(_both(ref, ans, ENTAILS, rng))
            ds = denials(ans)
            if ds:
                out.append(_both(ref, rng.choice(ds), CONTRADICTS, rng))
        if rng.random() < 0.3:
            other = rng.choice([q for q in qids if q != r["question_id"]])
            unrelated = rng.choice(by_q[other])
            out.append(_both(ref, unrelated, NEITHER, rng))
            ds = denials(unrelated)
            if ds:
                out.append(_both(ref, rng.choice(ds), NEITHER, rng))
    return out


def nli_pairs(path: Path, n: int, rng: random.Random) -> list[Pair]:
    """Human-labelled NLI pairs (SNLI): real supervision for reading a denial."""
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        rows = [json.loads(line) for line in f]
    rng.shuffle(rows)
    return [Pair(r["premise"], r["hypothesis"], LABELS.index(r["label"])) for r in rows[:n]]


def example_matches(banks: Sequence[Bank], embed: object) -> dict[tuple[str, str], list[str]]:
    """Good examples' sentences, each assigned to the point it is closest to (if close)."""
    from viva.core.text import split_sentences

    out: dict[tuple[str, str], list[str]] = {}
    for b in banks:
        for q in b.questions:
            sents = [
                s.text
                for ex in q.examples
                if ex.score >= GOOD_EXAMPLE
                for s in split_sentences(ex.answer)
            ]
            if not sents:
                continue
            texts = [(p.id, t) for p in q.points for t in (p.text, *p.alternatives)]
            sv = embed.embed(sents)  # type: ignore[attr-defined]
            pv = embed.embed([t for _, t in texts])  # type: ignore[attr-defined]
            sims = np.asarray(sv) @ np.asarray(pv).T
            for i, s in enumerate(sents):
                j = int(sims[i].argmax())
                if sims[i, j] >= MATCH:
                    out.setdefault((q.id, texts[j][0]), []).append(s)
    return out


def train(
    pairs: Sequence[Pair],
    *,
    epochs: int,
    batch: int,
    lr: float,
    seed: int,
    rank: int,
    device: str = "cpu",
    base: str | None = None,
) -> object:
    import torch
    from bench.nli.model import bundled_base_path
    from transformers import AutoTokenizer

    torch.manual_seed(seed)
    model = build_model(rank=rank, alpha=2.0 * rank, base_path=base).to(device)
    tok = AutoTokenizer.from_pretrained(base or bundled_base_path())
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * ((len(pairs) + batch - 1) // batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    rng = random.Random(seed)
    model.train()
    step, t0 = 0, time.time()
    for _ in range(epochs):
        order = list(pairs)
        rng.shuffle(order)
        for i in range(0, len(order), batch):
            chunk = order[i : i + batch]
            enc = tok(
                [p.premise for p in chunk],
                [p.hypothesis for p in chunk],
                padding=True,
                truncation=True,
                max_length=MAX_LENGTH,
                return_tensors="pt",
            )
            enc = {k: v.to(device) for k, v in enc.items()}
            loss = torch.nn.functional.cross_entropy(
                model(**enc), torch.tensor([p.label for p in chunk], device=device)
            )
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 200 == 0:
                print(
                    f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s",
                    file=sys.stderr,
                )
    model.eval()
    return model.to("cpu")


def read_pairs(path: Path) -> tuple[list[Pair], dict[str, object]]:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        meta = json.loads(f.readline())
        rows = [json.loads(line) for line in f]
    return [Pair(r["p"], r["h"], int(r["y"])) for r in rows], meta


def write_pairs(path: Path, pairs: Sequence[Pair], meta: dict[str, object]) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(json.dumps(meta) + "\n")
        for p in pairs:
            f.write(json.dumps({"p": p.premise, "h": p.hypothesis, "y": p.label}) + "\n")


def build_pairs(
    args: argparse.Namespace, rng: random.Random
) -> tuple[list[Pair], dict[str, object]]:
    from viva.adapters.banks import load_bank_file
    from viva.adapters.embedder import SentenceTransformerEmbedder

    banks = [load_bank_file(p) for p in sorted(args.banks.glob("*.yaml"))]
    matches = example_matches(banks, SentenceTransformerEmbedder())
    rows = [
        json.loads(line)
        for line in (args.asag / "semeval2013_beetle_2way_train.jsonl").open(encoding="utf-8")
    ]
    from_banks = bank_pairs(banks, rng, matches)
    from_asag = [] if args.no_asag else asag_pairs(rows, rng)
    rng.shuffle(from_asag)
    pairs = from_banks + from_asag[: max(0, args.max_pairs - len(from_banks))]
    if args.snli:
        pairs += nli_pairs(args.snli, args.snli_pairs, rng)
    print(f"{len(pairs)} pairs ({len(from_banks)} from banks)", file=sys.stderr)
    meta: dict[str, object] = {
        "banks": [f"{b.id}@{b.version}" for b in banks],
        "asag": "" if args.no_asag else "beetle",
        "snli": args.snli_pairs if args.snli else 0,
    }
    return pairs, meta


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.nli.train", description=__doc__)
    ap.add_argument("asag", type=Path, nargs="?", help="folder with the Beetle train JSONL")
    ap.add_argument("--pairs", type=Path, help="train on pairs written by --dump-pairs")
    ap.add_argument("--dump-pairs", type=Path, help="write the training pairs and stop")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--base", help="base model folder (default: the bundled MiniLM)")
    ap.add_argument("--banks", type=Path, default=Path("rubrics"))
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_PATH)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--max-pairs", type=int, default=9000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--snli", type=Path, help="NLI pairs (premise, hypothesis, label) JSONL(.gz)")
    ap.add_argument("--snli-pairs", type=int, default=0, help="how many NLI pairs to mix in")
    ap.add_argument("--no-asag", action="store_true", help="leave Beetle pairs out")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    if args.pairs:
        pairs, trained_on = read_pairs(args.pairs)
    else:
        pairs, trained_on = build_pairs(args, rng)
    if args.dump_pairs:
        write_pairs(args.dump_pairs, pairs, trained_on)
        return 0
    counts = {LABELS[k]: sum(p.label == k for p in pairs) for k in range(len(LABELS))}
    print(f"{len(pairs)} pairs: {counts}", file=sys.stderr)
    model = train(
        pairs,
        epochs=args.epochs,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        rank=args.rank,
        device=args.device,
        base=args.base,
    )
    meta = {
        "rank": args.rank,
        "alpha": 2.0 * args.rank,
        "trained_on": trained_on,
        "pairs": counts,
        "recipe": {k: getattr(args, k) for k in ("epochs", "batch", "lr", "seed", "max_pairs")},
    }
    version = save_artifact(model, args.output, meta)
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size / 1e6:.2f} MB), version {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
