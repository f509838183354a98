# dailypapers: make run (serve the demo) and make test (the whole default test run).
VENV := .venv
BIN := $(VENV)/bin
# The commands' own default, so `.venv/bin/dailypapers ...` here reads the demo's data.
export DAILYPAPERS_DATA_DIR ?= $(CURDIR)/dailypapers-data
PORT ?= 8000

.PHONY: setup run serve test test-all lint format audit bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || "$$(scripts/find-python)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: setup  ## serve on http://127.0.0.1:$(PORT) with the bundled sample of real papers
	DAILYPAPERS_SITE_URL=$${DAILYPAPERS_SITE_URL:-http://127.0.0.1:$(PORT)} $(BIN)/dailypapers demo --port $(PORT)

serve: setup
	$(BIN)/dailypapers serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/dailypapers makemigrations --check --dry-run

test: lint  ## the default test run (SQLite, or DATABASE_URL's server)
	$(BIN)/pytest $(if $(CI),,-m "not slow")

test-all: lint  ## everything, slow tests included (CI)
	$(BIN)/pytest

format: setup
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

audit: setup  ## known vulnerabilities in the dependencies (needs PyPI's JSON API)
	$(BIN)/python scripts/audit

bench: setup
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) dailypapers-data
