# Viva: the two commands a new user needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export HF_HUB_OFFLINE ?= 1

ASAG ?= ../shared/data/asag

.PHONY: run serve demo test lint typecheck bench install system-deps clean calibration agreement

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Run Viva's service on http://127.0.0.1:8000 (installs into .venv first).
run: $(STAMP)
	$(BIN)/viva serve

## Grade the example answers file and print the summary.
demo: $(STAMP)
	$(BIN)/viva grade examples/answers.jsonl --bank keras

## Install what the tests need (PostgreSQL, Chromium under CI) and run them all, lint included.
test: $(STAMP)
	bash scripts/test-deps.sh
	$(BIN)/ruff check service tests bench scripts
	$(BIN)/ruff format --check service tests bench scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check service tests bench scripts
	$(BIN)/ruff format --check service tests bench scripts
	$(BIN)/mypy

## Rebuild the shipped fitted files from scratch: the injection head (guard corpus against answer
## sentences), then the calibration (SemEval-2013 labels + the banks' graded examples).
calibration: $(STAMP)
	$(BIN)/viva fit-guard $(ASAG)/semeval2013_scientsbank_2way_train.jsonl \
		$(ASAG)/semeval2013_beetle_2way_train.jsonl -o service/viva/data/injection_head.json
	$(BIN)/viva fit-vague $(ASAG)/semeval2013_scientsbank_2way_train.jsonl \
		$(ASAG)/semeval2013_beetle_2way_train.jsonl -o service/viva/data/vague_head.json
	$(BIN)/viva calibrate $(ASAG)/semeval2013_scientsbank_2way_train.jsonl \
		$(ASAG)/semeval2013_beetle_2way_train.jsonl -o service/viva/data/calibration.json

## Regenerate the README's agreement table (docs/agreement*) with `viva eval`.
agreement: $(STAMP)
	$(BIN)/python scripts/agreement.py --data $(ASAG)

# torch, plus each optional backend whose extra is installed.
BENCH_BACKENDS = torch$(shell $(BIN)/python -c 'import onnxruntime' 2>/dev/null && echo ,onnx)$(shell $(BIN)/python -c 'import openvino, nncf' 2>/dev/null && echo ,openvino)

bench: $(STAMP)
	$(BIN)/python bench/bench_grader.py
	$(BIN)/python bench/bench_backends.py --backends $(BENCH_BACKENDS)
	$(BIN)/python bench/bench_api.py --backend openvino
	$(BIN)/python bench/startup.py --backends $(BENCH_BACKENDS)
	$(shell $(BIN)/python -c 'import ray' 2>/dev/null && echo $(BIN)/python bench/bench_ray.py)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache artifacts
