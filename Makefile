# orechain: two set-up commands, `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out/pakistan-us
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest test-browser test-postgres bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,postgres]'
	touch $(STAMP)

# demo: the Pakistan-US assessment on the shipped data; the three real articles beside the checkout
# (../shared/corpus, not shipped: news copyright) feed its claims section when they are there.
demo: $(STAMP)
	$(BIN)/orechain db init --db $(OUT)/orechain.db
	if [ -d ../shared/corpus ]; then $(BIN)/orechain claims ingest ../shared/corpus --db $(OUT)/orechain.db; fi
	$(BIN)/orechain assess pakistan-us --db $(OUT)/orechain.db --out $(OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples scripts

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q -m 'not slow and not browser'

test: lint typecheck pytest browser-if-chromium

# the real-browser suite runs in `make test` wherever Debian chromium is installed (.ci/run installs it)
browser-if-chromium: $(STAMP)
	if [ -x /usr/bin/chromium ]; then $(BIN)/pytest -q -m browser; else echo 'browser tests not run: no /usr/bin/chromium'; fi

test-browser: $(STAMP)
	$(BIN)/pytest -q -m browser

test-postgres: $(STAMP)
	$(BIN)/pytest -q -m "postgres"

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
