# Two commands on a fresh clone:
#   make run    create .venv, install (CPU torch first), build the index if missing, serve on 127.0.0.1:8000
#   make test   install the dev dependencies and run the test suite
# and what CI runs (.ci/run): make lint typecheck test

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install install-dev run index test eval lint format typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch==2.13.0 goes in first: this machine has its CPU build; an unpinned torch
# (pulled in by sentence-transformers) would fetch several GB of CUDA packages.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,llm]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

index: install
	$(BIN)/silkqa index

run: install
	$(BIN)/silkqa index
	$(BIN)/silkqa serve --host $(HOST) --port $(PORT)

# axe-core for the browser tests' accessibility pass (test-only; pinned by the lock file).
AXE := tests/system/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/system/browser/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/system/browser --no-audit --no-fund --ignore-scripts --silent; \
	else echo "npm not found: the accessibility tests will be skipped (apt-get install npm)"; fi

# The whole suite on the embedded store, then the tests marked `stores` (API,
# updates, the eval gate, two servers on one Milvus) again on Milvus Lite.
test: install-dev $(AXE)
	$(BIN)/python -m pytest
	SILKQA_STORE=milvus $(BIN)/python -m pytest -m stores

# The development set in-process; the report lands in eval/reports/latest.
eval: install
	$(BIN)/silkqa eval eval/dev.jsonl --out eval/reports/latest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# mypy resolves `silkqa.index` etc. through links that mirror the install's
# package-dir mapping (the editable install's import hook is invisible to it).
typecheck: install-dev
	@mkdir -p var/typecheck/silkqa
	@for d in index service eval; do ln -sfn ../../../$$d var/typecheck/silkqa/$$d; done
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .mypy_cache .ruff_cache
