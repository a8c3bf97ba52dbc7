# photodesk: `make run` starts the desktop app, `make test` runs the checks. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: run test lint setup setup-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed-all: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[all]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[all,dev]'
	touch $@ $(VENV)/.installed-all

setup: $(VENV)/.installed-all
setup-dev: $(VENV)/.installed-dev

run: setup
	$(BIN)/photodesk $(ARGS)

lint: setup-dev
	$(BIN)/ruff check photodesk tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy photodesk

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n auto -q $(PYTEST_ARGS)

bench: setup-dev
	$(BIN)/python bench/import_bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
