"""Versioned prompt templates from `prompts/`: `<id>.v<version>.system.j2` + `.user.j2`.

A prompt is immutable once released: change the wording by adding `feedback.v2`, so every
result stamped with `feedback.v1` can still be explained by the exact text that produced it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from viva.errors import ConfigError

NAME = re.compile(r"^(?P<id>[a-z][a-z0-9_-]*)\.v(?P<version>[1-9][0-9]*)$")
FILE = re.compile(r"^(?P<name>[a-z][a-z0-9_-]*\.v[1-9][0-9]*)\.(?P<part>system|user)\.j2$")
# The user template must place the answer inside the fence; otherwise it is not fenced at all.
REQUIRED_USER_VARS = frozenset({"answer", "boundary_open", "boundary_close"})


@dataclass(frozen=True)
class RenderedPrompt:
    system: str
    user: str

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user}]


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    version: int
    system: jinja2.Template
    user: jinja2.Template
    directory: Path

    @property
    def name(self) -> str:
        """What gets stamped into results: e.g. "feedback.v1"."""
        return f"{self.id}.v{self.version}"

    def render(self, **context: Any) -> RenderedPrompt:
        try:
            return RenderedPrompt(
                system=self.system.render(**context).strip() + "\n",
                user=self.user.render(**context).strip() + "\n",
            )
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"prompt {self.name}: {exc.message}") from None


def _env(directory: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for an LLM, not HTML
        keep_trailing_newline=True,
    )


def list_prompts(directory: Path) -> list[str]:
    """Names with both parts present, sorted by id then version."""
    if not directory.is_dir():
        return []
    parts: dict[str, set[str]] = {}
    for f in directory.iterdir():
        m = FILE.match(f.name)
        if m:
            parts.setdefault(m["name"], set()).add(m["part"])
    names = [n for n, p in parts.items() if p == {"system", "user"}]

    def key(n: str) -> tuple[str, int]:
        m = NAME.match(n)
        assert m
        return m["id"], int(m["version"])

    return sorted(names, key=key)


def resolve_name(name: str, directory: Path) -> str:
    """ "feedback" means its latest version; "feedback.v1" means exactly that."""
    if NAME.match(name):
        return name
    if not re.match(r"^[a-z][a-z0-9_-]*$", name):
        raise ConfigError(f"prompt name {name!r} must look like 'feedback' or 'feedback.v1'")
    versions = [n for n in list_prompts(directory) if n.rsplit(".v", 1)[0] == name]
    if not versions:
        raise ConfigError(f"no prompt {name!r} in {directory} (have: {_have(directory)})")
    return versions[-1]


def _have(directory: Path) -> str:
    return ", ".join(list_prompts(directory)) or "none"


@lru_cache(maxsize=64)
def _load(directory: str, name: str, stamp: tuple[float, ...]) -> PromptTemplate:
    d = Path(directory)
    m = NAME.match(name)
    assert m
    env = _env(d)
    templates: dict[str, jinja2.Template] = {}
    for part in ("system", "user"):
        fname = f"{name}.{part}.j2"
        path = d / fname
        try:
            source = path.read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(f"prompt {name}: missing {path} (have: {_have(d)})") from None
        try:
            ast = env.parse(source, name=fname)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                f"{path}:{exc.lineno}: template syntax error: {exc.message}"
            ) from None
        if part == "user":
            missing = REQUIRED_USER_VARS - meta.find_undeclared_variables(ast)
            if missing:
                raise ConfigError(f"{path}: the template must use {', '.join(sorted(missing))}")
        templates[part] = env.get_template(fname)
    return PromptTemplate(
        id=m["id"],
        version=int(m["version"]),
        system=templates["system"],
        user=templates["user"],
        directory=d,
    )


def load_prompt(name: str, directory: Path) -> PromptTemplate:
    """Load and validate a prompt; errors name the file and what is wrong."""
    full = resolve_name(name, directory)
    stamp = tuple(
        (directory / f"{full}.{part}.j2").stat().st_mtime
        if (directory / f"{full}.{part}.j2").exists()
        else 0.0
        for part in ("system", "user")
    )
    return _load(str(directory), full, stamp)
