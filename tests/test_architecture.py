"""The layer rules, checked on the source: every module under service/viva is parsed (not
imported, so a lazy import inside a function counts too) and its imports are held against what
its layer may use.

- `viva.core` and `viva.domain` stay pure: no web framework, LLM client, torch or database
  library, and nothing from the outer layers.
- `viva.app` (the use cases) never reaches out to the edges (`viva.api`, `viva.cli`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "service" / "viva"

THIRD_PARTY_FORBIDDEN_IN_PURE = (
    "fastapi",
    "starlette",
    "openai",
    "torch",
    "sentence_transformers",
    "sqlalchemy",
)
OUTER_LAYERS = ("adapters", "api", "cli", "app", "store", "composition")
RULES: dict[str, tuple[str, ...]] = {
    "viva.core": (
        *THIRD_PARTY_FORBIDDEN_IN_PURE,
        *(f"viva.{layer}" for layer in OUTER_LAYERS),
    ),
    "viva.domain": (
        *THIRD_PARTY_FORBIDDEN_IN_PURE,
        *(f"viva.{layer}" for layer in OUTER_LAYERS),
    ),
    "viva.app": ("viva.api", "viva.cli"),
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, relative imports resolved against `module`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from viva import api` imports the module viva.api.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The imports in `source` that break the rule for `module`'s layer."""
    forbidden = next(
        (rule for layer, rule in RULES.items() if _matches(module, layer)),
        (),
    )
    names = imported(source, module, is_package=is_package)
    return sorted(
        f"{module} imports {name}"
        for name in names
        if any(_matches(name, prefix) for prefix in forbidden)
    )


def test_the_checker_catches_each_kind_of_violation() -> None:
    """The rule must be able to fail: synthetic sources that break it, one way each."""
    assert violations("import fastapi", "viva.core.grader") == ["viva.core.grader imports fastapi"]
    assert violations("from torch import nn", "viva.core.text")
    assert violations("def f():\n    import openai\n", "viva.domain.models")  # a lazy import
    assert violations("from sqlalchemy.orm import Session", "viva.domain.models")
    assert violations("from viva.adapters.llm import JUDGES", "viva.core.feedback")
    assert violations("from viva import store", "viva.core.interview")
    assert violations("from ..api import schemas", "viva.core.grader")  # relative
    assert violations("from .. import composition", "viva.core.report")
    assert violations("from viva.api.schemas import Problem", "viva.app.interviews")
    assert violations("import viva.cli.main", "viva.app.batch")
    # Allowed: the core on itself and the domain, the use cases on the core and adapters.
    assert violations("from viva.core.text import stem\nimport numpy", "viva.core.grader") == []
    assert violations("from viva.adapters.banks import BankRepository", "viva.app.grading") == []
    assert violations("import fastapi", "viva.api.app") == []
    assert violations("from viva.corex import y", "viva.core.grader") == []


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_module_respects_its_layer(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    bad = violations(source, module_name(path), is_package=path.name == "__init__.py")
    assert not bad, "\n".join(bad)


def test_every_layer_is_checked() -> None:
    names = {module_name(p) for p in MODULES}
    for layer in RULES:
        assert any(_matches(n, layer) for n in names), f"no modules found for {layer}"
