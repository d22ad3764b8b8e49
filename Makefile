# groupops: `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PY ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(shell command -v $(PY))

.PHONY: run test lint setup system-deps lock bench i18n i18n-extract clean synapse

$(UV):
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

# Debian packages the project needs: Chromium for the browser tests, CJK fonts for images.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "system-deps: run as root or install chromium and fonts-noto-cjk" >&2; fi; fi

$(BIN)/groupops: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --extra dev --quiet
	@touch $@

setup: $(BIN)/groupops i18n

i18n: $(BIN)/groupops
	$(BIN)/pybabel compile -d src/groupops/locale -D groupops

lock: $(UV)
	$(UV) lock

run: setup
	$(BIN)/groupops serve --demo

test: setup system-deps synapse
	bash .ci/test-all

# Synapse (AGPL) for the Matrix tests only: its own venv, never a dependency of groupops.
SYNAPSE_VERSION := 1.163.2
SYNAPSE_VENV := .cache/synapse-venv
synapse: $(SYNAPSE_VENV)/.installed-$(SYNAPSE_VERSION)

$(SYNAPSE_VENV)/.installed-$(SYNAPSE_VERSION):
	@mkdir -p .cache
	@[ -x $(SYNAPSE_VENV)/bin/python ] || $(PY) -m venv $(SYNAPSE_VENV)
	@if $(SYNAPSE_VENV)/bin/pip install --quiet --disable-pip-version-check matrix-synapse==$(SYNAPSE_VERSION); \
	then touch $@; else echo "synapse: install failed; the Matrix tests will be skipped (under CI=true they fail)" >&2; fi

lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

bench: setup
	$(UV) sync --frozen --extra dev --extra bench --quiet && $(BIN)/python bench/ingest.py && $(BIN)/python bench/analyze.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache

# Refresh the message catalogues from the code and the help pages of the command line (docstrings,
# help=, which babel cannot find), then translate the new zh_CN entries.
i18n-extract: $(BIN)/groupops
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k t --no-location --sort-output -o src/groupops/locale/groupops.pot src
	$(BIN)/python scripts/extract_help.py --merge-into src/groupops/locale/groupops.pot
	for lang in zh_CN en; do \
	  if [ -f src/groupops/locale/$$lang/LC_MESSAGES/groupops.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i src/groupops/locale/groupops.pot -d src/groupops/locale -D groupops -l $$lang; \
	  else $(BIN)/pybabel init -i src/groupops/locale/groupops.pot -d src/groupops/locale -D groupops -l $$lang; fi; done
	$(BIN)/python scripts/merge_translations.py
