"""The README's `curl` walk-through, run against the app (fake embedder), so its example
outputs cannot go stale: every request is sent as written, every JSON key that an example
output shows must be in the reply, and a quoted problem `detail` must match word for word.
Numbers differ from the README (the fake embedder is not the model), so only shapes count."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _walkthrough() -> list[str]:
    start = README.index("A whole interview with `curl`")
    block = README[start:].split("```bash\n", 1)[1].split("\n```", 1)[0]
    return block.replace("\\\n", " ").splitlines()


def _steps() -> list[tuple[str, list[str]]]:
    """(curl command, the example-output comment lines after it)."""
    steps: list[tuple[str, list[str]]] = []
    output = False  # comments right after a command are its output, until prose or code
    for line in _walkthrough():
        cmd = line.strip()
        m = re.match(r"^\w+=\$\((curl .*)\)$", cmd)
        if m:
            cmd = m.group(1)
        if cmd.startswith("curl "):
            steps.append((cmd.split(" | ")[0].split(" > ")[0], []))
            output = True
        elif output and re.match(r"^#\s+[{\[\"]", cmd):
            steps[-1][1].append(cmd[2:])
        elif not (output and cmd.startswith("#  ") and steps[-1][1]):
            output = output and bool(cmd) and not cmd.startswith("#")
    return steps


def _send(client: TestClient, cmd: str, ids: dict[str, str]) -> Any:
    args = shlex.split(cmd)[1:]
    method, headers, body, url = "GET", {}, None, ""
    it = iter(args)
    for a in it:
        if a == "-s":
            continue
        if a == "-X":
            method = next(it)
        elif a == "-H":
            k, _, v = next(it).partition(":")
            headers[k.strip()] = v.strip()
        elif a == "-d":
            body = next(it)
            method = "POST" if method == "GET" else method
        else:
            url = a
    for name, value in ids.items():
        url = url.replace(f"${name}", value)
    return client.request(method, url, content=body, headers=headers)


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_the_readme_walkthrough_runs_as_written(client: TestClient) -> None:
    ids = {"V": ""}
    steps = _steps()
    assert len(steps) >= 8, steps  # the walk-through is still there
    for cmd, shown in steps:
        r = _send(client, cmd, ids)
        if r.headers.get("content-type", "").startswith(("text/markdown", "text/html")):
            assert r.status_code == 200 and r.text
            continue
        data = r.json()
        if "/v1/interviews -H" in cmd and r.status_code == 201:
            ids["ID"] = data["id"]
        expected = "\n".join(shown)
        if '"status": 409' in expected:
            assert r.status_code == 409, (cmd, r.text)
            detail = re.search(r'"detail": "([^"]+)"', expected)
            assert detail is not None and data["detail"] == detail.group(1)
            continue
        assert r.status_code in (200, 201), (cmd, r.text)
        for key in re.findall(r'"(\w+)":', expected):
            # jq renames are shown as the README's own keys (e.g. {score: .grade.score})
            assert key in _keys(data) or key in {"score", "points", "evidence"}, (key, cmd)
    assert json.loads(json.dumps(ids))["ID"]
