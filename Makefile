# Group Analyst: `make run` to try it, `make test` to check everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

AUDIT := tests/http_audit
AUDIT_STAMP := $(AUDIT)/node_modules/.installed-stamp

.PHONY: run test lint schema test-sqlite test-postgres http-audit fuzz test-web test-browser web \
  bench install clean

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

## Lint, type-check, and run the whole suite on SQLite and on PostgreSQL, audit and fuzz a
## live server, then the front end's unit tests and the browser tests.
test: $(STAMP) lint test-sqlite test-postgres http-audit fuzz test-web test-browser

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

$(AUDIT_STAMP): $(AUDIT)/package.json $(AUDIT)/package-lock.json
	cd $(AUDIT) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## graphql-http's GraphQL-over-HTTP audit against a live server: every audit must be ok.
# The audit's requests carry no token and some ask `__type`: the server under audit lets
# anyone introspect (off for anonymous callers by default; tests/ check that rule itself).
http-audit: $(STAMP) $(AUDIT_STAMP)
	@echo "== GraphQL over HTTP audit (graphql-http) against a live server"
	GROUPANALYST_INTROSPECTION=everyone $(BIN)/python -m tests.live_server \
	  node $(AUDIT)/audit.mjs {url}

## Schemathesis' GraphQL fuzzing of a live server, as the owner and anonymously (bounded:
## FUZZ_MAX_EXAMPLES per operation, FUZZ_MAX_SECONDS per run): no 5xx, no INTERNAL_SERVER_ERROR,
## every error coded, and the database intact afterwards. The budget is raised so the fuzzer
## reaches the resolvers instead of RATE_LIMITED, and anyone may introspect so the anonymous
## run can read the schema it generates requests from.
fuzz: $(STAMP)
	@echo "== GraphQL fuzzing (Schemathesis) against a live server"
	GROUPANALYST_COST_BUDGET_PER_MINUTE=100000000 GROUPANALYST_INTROSPECTION=everyone \
	  $(BIN)/python -m tests.live_server \
	  $(BIN)/python -m tests.fuzz.run {url}

## Regenerate schema.graphql from the code.
schema: $(STAMP)
	$(BIN)/groupanalyst export-schema --out schema.graphql

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var $(AUDIT)/node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis \
	  web/node_modules web/dist
