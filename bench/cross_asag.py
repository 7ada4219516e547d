"""Experiment (issue 9, option "a cross-encoder"; not shipped): does the bundled MiniLM, trained
as a cross-encoder on (reference answer, student answer) pairs, agree with human graders on
questions it was not trained on better than the grader does? See bench/scorer_results.md.

Full fine-tune, mean pooling, one sigmoid output trained with binary cross-entropy on soft
targets (SemEval labels 0/1, Mohler score / 5). Held out by question throughout:
- Mohler zero-shot: trained on SciEntsBank + Beetle only; Pearson against the graders' mean
  and against each grader.
- Mohler 5 folds by question: trained on SemEval plus the other folds' Mohler questions.
- SciEntsBank 5 folds by question: trained on Beetle, Mohler and the other folds; macro-F1 with
  the threshold that is best on the training rows.

A GPU makes it minutes (`--device cuda`); on 2 CPU cores an epoch takes hours.

    python bench/cross_asag.py --data DIR --base MODEL_DIR --device cuda --out results.json
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

FILES = {
    "mohler": "mohler_dev.jsonl",
    "scientsbank": "semeval2013_scientsbank_2way_train.jsonl",
    "beetle": "semeval2013_beetle_2way_train.jsonl",
}


def load(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for r in rows:
        r["target"] = float(r["score"]) / float(r.get("max_score") or 1.0)
    return rows


def folds(rows: Sequence[dict[str, Any]], k: int, seed: int = 13) -> list[list[int]]:
    qs = sorted({r["question_id"] for r in rows})
    random.Random(seed).shuffle(qs)
    fold_of = {q: i % k for i, q in enumerate(qs)}
    out: list[list[int]] = [[] for _ in range(k)]
    for i, r in enumerate(rows):
        out[fold_of[r["question_id"]]].append(i)
    return out


def train_and_predict(
    train: Sequence[dict[str, Any]], test: Sequence[dict[str, Any]], args: argparse.Namespace
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions on `test` and on `train` (for a threshold) from a model fitted on `train`."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    tok = AutoTokenizer.from_pretrained(args.base)
    enc = AutoModel.from_pretrained(args.base).float().to(args.device)
    head = torch.nn.Linear(enc.config.hidden_size, 1).to(args.device)
    params = list(enc.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * ((len(train) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )

    def forward(batch: Sequence[dict[str, Any]]) -> Any:
        x = tok(
            [r["reference_answer"] for r in batch],
            [r["answer"] for r in batch],
            padding=True,
            truncation=True,
            max_length=args.max_length,
            return_tensors="pt",
        ).to(args.device)
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.device == "cuda"):
            h = enc(**x).last_hidden_state
        m = x["attention_mask"].unsqueeze(-1).float()
        pooled = (h.float() * m).sum(1) / m.sum(1).clamp(min=1.0)
        return head(pooled).squeeze(-1)

    order = list(range(len(train)))
    enc.train()
    for _ in range(args.epochs):
        random.shuffle(order)
        for i in range(0, len(order), args.batch):
            batch = [train[j] for j in order[i : i + args.batch]]
            y = torch.tensor([r["target"] for r in batch], device=args.device)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(forward(batch), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    enc.eval()

    def predict(rows: Sequence[dict[str, Any]]) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for i in range(0, len(rows), 256):
                out.append(torch.sigmoid(forward(rows[i : i + 256])).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    return predict(test), predict(train)


def pearson(a: Sequence[float], b: Sequence[float]) -> float:
    return float(np.corrcoef(np.asarray(a, float), np.asarray(b, float))[0, 1])


def macro_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    f = []
    for c in (True, False):
        tp = np.sum((pred == c) & (gold == c))
        p = tp / max(1, np.sum(pred == c))
        r = tp / max(1, np.sum(gold == c))
        f.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return float(np.mean(f))


def best_threshold(scores: np.ndarray, gold: np.ndarray) -> float:
    cands = np.unique(np.round(scores, 3))
    if not len(cands):
        return 0.5
    return float(max(cands, key=lambda t: macro_f1(scores >= t, gold)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--base", required=True, help="the bundled MiniLM's folder")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--limit", type=int, default=0, help="rows per file (a smoke test)")
    ap.add_argument("--out", type=Path, default=Path("cross_asag.json"))
    args = ap.parse_args()
    data = {k: load(args.data / f) for k, f in FILES.items()}
    if args.limit:
        data = {k: v[: args.limit] for k, v in data.items()}
    results: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}
    t0 = time.time()

    # Mohler, zero-shot: SemEval only.
    m = data["mohler"]
    pred, _ = train_and_predict(data["scientsbank"] + data["beetle"], m, args)
    results["mohler_zero_shot"] = {
        "pearson": pearson(pred, [r["target"] for r in m]),
        "vs_grader_a": pearson(pred, [r["scores"][0] for r in m]),
        "vs_grader_b": pearson(pred, [r["scores"][1] for r in m]),
        "a_vs_b": pearson([r["scores"][0] for r in m], [r["scores"][1] for r in m]),
    }
    print("mohler zero-shot", results["mohler_zero_shot"], f"{time.time() - t0:.0f} s", flush=True)

    # Mohler, folds by question, SemEval plus the other Mohler questions.
    held = np.zeros(len(m))
    for idx in folds(m, args.folds, args.seed):
        if not idx:
            continue
        keep = set(idx)
        train = data["scientsbank"] + data["beetle"] + [r for i, r in enumerate(m) if i not in keep]
        p, _ = train_and_predict(train, [m[i] for i in idx], args)
        held[idx] = p
    results["mohler_folds"] = {"pearson": pearson(held, [r["target"] for r in m])}
    print("mohler folds", results["mohler_folds"], f"{time.time() - t0:.0f} s", flush=True)

    # SciEntsBank, folds by question, Beetle and Mohler always in training.
    s = data["scientsbank"]
    gold = np.asarray([r["target"] >= 0.5 for r in s])
    decided = np.zeros(len(s), dtype=bool)
    for idx in folds(s, args.folds, args.seed):
        if not idx:
            continue
        keep = set(idx)
        rest = [r for i, r in enumerate(s) if i not in keep]
        p, p_train = train_and_predict(rest + data["beetle"] + m, [s[i] for i in idx], args)
        t = best_threshold(p_train[: len(rest)], np.asarray([r["target"] >= 0.5 for r in rest]))
        decided[idx] = p >= t
    results["scientsbank_folds"] = {
        "macro_f1": macro_f1(decided, gold),
        "accuracy": float(np.mean(decided == gold)),
    }
    print("scientsbank folds", results["scientsbank_folds"], f"{time.time() - t0:.0f} s")
    results["seconds"] = round(time.time() - t0, 1)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
