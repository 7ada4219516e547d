"""Rewrite tests/quality/known_failures.txt from a fresh run of the trust suite.

    .venv/bin/python scripts/trust_known_failures.py

Runs tests/quality with the list switched off, and lists every case that fails, so the suite
stays green while the grader falls short of issue 9 and turns red on any regression (and on
any case that starts to pass: strict xfail). Say in the commit why the list changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIST = REPO / "tests" / "quality" / "known_failures.txt"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        env = {**os.environ, "VIVA_TRUST_REFRESH": "1", "HF_HUB_OFFLINE": "1"}
        subprocess.run(
            [sys.executable, "-m", "pytest", "tests/quality", "-q", f"--junitxml={report}"],
            cwd=REPO,
            env=env,
            check=False,
        )
        root = ET.parse(report).getroot()
    failed, total = [], 0
    for case in root.iter("testcase"):
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(str(case.get("name")))
    header = (
        "# Trust-suite cases the grader does not meet yet (issue 9). Strict xfail: a regression\n"
        "# fails the run, and so does a case that starts passing. Regenerate with\n"
        "# scripts/trust_known_failures.py and say why in the commit.\n"
        f"# {len(failed)} of {total} tests.\n"
    )
    LIST.write_text(header + "".join(f"{n}\n" for n in sorted(failed)), encoding="utf-8")
    print(f"{len(failed)} of {total} failing; wrote {LIST.relative_to(REPO)}")


if __name__ == "__main__":
    main()
