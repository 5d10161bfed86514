# Journey Workbench — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install.stamp
CLIENT ?= demo
JOBS ?= 2

.DEFAULT_GOAL := help

## help: list the targets
.PHONY: help
help:
	@echo "Journey Workbench"
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  make /' -e 's/: / — /'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Journey Workbench (Python 3)" >/dev/null
	@touch $(STAMP)

## install: create .venv/ and install the workbench with its dev tools (fast when nothing changed)
.PHONY: install
install: $(STAMP)

## demo: build the demo client and run the full report on it (prints the report's path)
.PHONY: demo
demo: $(STAMP)
	$(BIN)/journey demo

TEST_STAMP := $(VENV)/.install-test.stamp
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	@touch $(TEST_STAMP)

## test: check the import layers, then run every test: library, doctests, CLI, notebooks (nbval), Spark parity
.PHONY: test
test: $(TEST_STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 --dist loadfile -q --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg \
		tests journeylib $(wildcard notebooks/00_*.ipynb)

## record: re-record the demo's key numbers checked by the notebook tests (after an intended change)
.PHONY: record
record: $(STAMP)
	$(BIN)/python tests/notebooks/record.py

## lab: open JupyterLab on the notebooks with the project's kernel
.PHONY: lab
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

## bench: time journey ingest, metrics, run and the explorer against DuckDB SQL and pandas on 1 M and 10 M events (BENCH_ARGS="--big" adds 50 M and 100 M; writes reports/bench/)
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

## lint: check style with ruff and the import layers of docs/architecture.md with import-linter
.PHONY: lint
lint: $(STAMP)
	$(BIN)/ruff check journeylib tests bench
	$(BIN)/ruff format --check journeylib tests bench
	$(BIN)/lint-imports --no-cache

LOCALES := journeylib/locales
TRANSLATED := ar zh

## messages: extract the workbench's words (journey.pot) and the notebooks' markdown (notebooks.pot) and update the ar and zh catalogs
.PHONY: messages
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 --project journeylib --version 0.1.0 \
		-o $(LOCALES)/journey.pot .
	for lang in $(TRANSLATED); do \
		$(BIN)/pybabel update -i $(LOCALES)/journey.pot -d $(LOCALES) -D journey -l $$lang || exit 1; \
	done
	$(BIN)/python -m journeylib.report.translate extract

## run: run the seven notebooks for CLIENT (make run CLIENT=acme)
.PHONY: run
run: $(STAMP)
	$(BIN)/journey run $(CLIENT) --jobs $(JOBS)

## clean: remove generated reports (keeps .venv/)
.PHONY: clean
clean:
	rm -rf reports/ .pytest_cache .hypothesis
