"""PostgreSQL for the tests: a throwaway cluster per test session, a fresh database per test.

Order of preference: `VIVA_TEST_POSTGRES_URL` (a server you run), else Debian's server binaries
(`/usr/lib/postgresql/*/bin/initdb`, from `apt-get install postgresql`) started on a free
127.0.0.1 port in a temp dir, else skip. Under CI=true a missing PostgreSQL fails instead, so
CI never passes by skipping half the persistence tests.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HOW_TO = (
    "PostgreSQL tests need a server: `apt-get install postgresql` (Debian's binaries are "
    "started on a free port automatically) or set VIVA_TEST_POSTGRES_URL="
    "postgresql+psycopg://user:pass@host:5432/db"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return Path(found[-1]).parent if found else None


def _version_key(path: str) -> float:
    try:
        return float(Path(path).parts[-3])
    except ValueError:
        return 0.0


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: PostgreSQL is required; scripts/test-deps.sh installs it)")
    pytest.skip(reason)


class _Cluster:
    """A private cluster; as root it runs as the `postgres` OS user (initdb refuses root)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix="viva-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            os.chmod(self.base, 0o700)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        cmd = [*self.as_user, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.base, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")

    def start(self) -> str:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        opts = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.base / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server's maintenance database (tests make their own)."""
    url = os.environ.get("VIVA_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bin_dir = _bin_dir()
    if bin_dir is None:
        _missing(f"no PostgreSQL server found. {HOW_TO}")
        return
    cluster = _Cluster(bin_dir)
    try:
        server_url = cluster.start()
    except Exception as exc:  # pragma: no cover - environment-specific
        cluster.stop()
        _missing(f"could not start PostgreSQL from {bin_dir}: {exc}")
        return
    try:
        yield server_url
    finally:
        cluster.stop()


def _admin_dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"viva_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(postgres_server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(_admin_dsn(postgres_server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each persistence test runs once on SQLite (a WAL file in tmp_path) and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'viva.db'}"
    return str(request.getfixturevalue("postgres_url"))
