# Two commands on a fresh clone:
#   make run    create .venv, install (CPU torch first), build the index if missing, serve on 127.0.0.1:8000
#   make test   install the dev dependencies and run the test suite (what CI runs)

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install install-dev run index test eval lint clean

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

test: install-dev
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
