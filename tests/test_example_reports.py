"""scripts/example_reports.py keeps working: three reports whose first study item differs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import REPO


def test_the_example_reports_script_writes_three_reports(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("example_reports", REPO / "scripts" /
                                                  "example_reports.py")  # fmt: skip
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--out", str(tmp_path), "--fake"]) == 0
    texts = {lvl: (tmp_path / f"report-{lvl}.md").read_text() for lvl in mod.LEVELS}
    assert "you skipped it" in texts["weak"] and "Start with:" in texts["weak"]
    assert "**Follow-up:**" in texts["middling"]
    assert all(t.startswith("# Viva report") for t in texts.values())
