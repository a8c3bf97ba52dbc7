# photodesk: `make run` starts the desktop app, `make test` runs the checks. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: run test lint setup setup-dev bench clean wheel icons bundle bundle-test

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
	$(BIN)/ruff check photodesk tests bench installers resources
	$(BIN)/lint-imports
	$(BIN)/mypy photodesk

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -n auto -q $(PYTEST_ARGS)

# sdist + wheel in dist/ (PEP 517); the wheel carries every runtime file (tests/test_wheel.py checks).
wheel: setup-dev
	rm -f dist/photodesk-*.whl dist/photodesk-*.tar.gz
	$(BIN)/python -m build --outdir dist .

# Re-render resources/icons and the package's icons from resources/photodesk.svg.
icons: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python resources/make_icons.py

# The desktop bundle for this machine (PyInstaller one-folder): dist/photodesk/photodesk.
BUNDLE_FACES ?= ../shared/corpus
bundle: setup
	$(PIP) install -e '.[all,bundle]'
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller \
		installers/desktop/photodesk.spec
	$(BIN)/python installers/desktop/linux/make_tarball.py dist/photodesk

# Drives the bundled program: --version, import, ls --json, serve, gui --screenshot, a faces run.
bundle-test:
	$(BIN)/python installers/desktop/bundle_test.py dist/photodesk $(BUNDLE_FACES)

bench: setup-dev
	$(BIN)/python bench/import_bench.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache
