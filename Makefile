# Group Analyst: `make run` to try it, `make test` to check everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint schema test-sqlite test-postgres test-web test-browser web bench install clean

install: $(STAMP)

# -- the front end (web/): npm packages, then the build in web/dist served at `/` -----------
WEB_DEPS := web/node_modules/.installed-stamp
WEB_SOURCES := $(shell find web/src -type f ! -path 'web/src/gql/*' 2>/dev/null) \
	web/index.html web/graphiql.html web/vite.config.ts web/codegen.ts web/tsconfig.json \
	schema.graphql
WEB_BUILD := web/dist/index.html

$(WEB_DEPS): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WEB_BUILD): $(WEB_DEPS) $(WEB_SOURCES)
	cd web && npm run --silent build

## Build the dashboard and GraphiQL into web/dist (codegen checks every operation against schema.graphql).
web: $(WEB_BUILD)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## Migrate, load the demo into var/groupanalyst.db if empty, print tokens, serve GraphiQL.
run: $(STAMP) $(WEB_BUILD)
	$(BIN)/groupanalyst run-dev

## Lint, type-check, and run the whole suite on SQLite and on PostgreSQL, then the front end's
## unit tests and the browser tests.
test: $(STAMP) lint test-sqlite test-postgres test-web test-browser

test-web: $(WEB_BUILD)
	@echo "== front-end unit tests"
	cd web && npx vitest run

# Headless Debian chromium driven by playwright-core (never a downloaded browser), installed
# when missing and we are root (as in CI); screenshots land in web/e2e/screens/.
test-browser: $(STAMP) $(WEB_BUILD)
	@echo "== browser tests"
	web/e2e/ensure-chromium.sh
	cd web && node --test --test-concurrency=1 e2e/

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: $(STAMP)
	@echo "== tests on SQLite"
	$(BIN)/pytest

# Exit 77 from the wrapper means PostgreSQL is missing and cannot be installed here; outside
# CI that skips the PostgreSQL run with a notice, in CI (CI set) it fails.
test-postgres: $(STAMP)
	@echo "== tests on PostgreSQL"
	@tests/with_postgres.sh $(BIN)/pytest; rc=$$?; \
	if [ $$rc -eq 77 ] && [ -z "$$CI" ]; then \
	  echo "PostgreSQL run SKIPPED: PostgreSQL is not installed (CI installs it and runs it)."; \
	else exit $$rc; fi

## Regenerate schema.graphql from the code.
schema: $(STAMP)
	$(BIN)/groupanalyst export-schema --out schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis web/node_modules web/dist
