# Two commands for users: `make run` and `make test`. Everything else is for contributors.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The OpenAPI linters (node packages pinned in tools/openapi/package-lock.json).
LINTERS := tools/openapi
LINTERS_STAMP := $(LINTERS)/node_modules/.installed
OPENAPI_DOC := $(VENV)/openapi.json

.PHONY: run test lint openapi-lint format migrate seed ci clean bench bench-full loadtest faulttest hardeningtest replicatest cachetest

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "geoevents needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)  ## migrate, seed an empty database, serve on http://127.0.0.1:8000
	$(BIN)/geoevents serve

test: $(STAMP)  ## the whole suite; TEST_DATABASE_URL selects PostgreSQL
	$(BIN)/python -m pytest

$(LINTERS_STAMP): $(LINTERS)/package.json $(LINTERS)/package-lock.json
	cd $(LINTERS) && npm ci --ignore-scripts --no-audit --no-fund
	@touch $(LINTERS_STAMP)

lint: $(STAMP) openapi-lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tests
	$(BIN)/lint-imports

openapi-lint: $(STAMP) $(LINTERS_STAMP)  ## the document the app serves, by Redocly and Spectral
	DATABASE_URL=sqlite:// $(BIN)/geoevents openapi $(OPENAPI_DOC)
	$(LINTERS)/lint.sh $(OPENAPI_DOC)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP)
	$(BIN)/geoevents db upgrade

seed: $(STAMP)
	$(BIN)/geoevents seed

ci:
	bash .ci/run

bench: $(STAMP)  ## small benchmark (10 k events, SQLite, Datasette beside): a couple of minutes
	$(BIN)/python bench/run.py --events 10000 --duration 2 --stores sqlite --workers 1 \
		--connections 1,32 --datasette

bench-full: $(STAMP)  ## 1 M events on both stores, Datasette beside, py-spy profiles: one to two hours
	$(BIN)/python bench/run.py --events 1000000 --duration 10 --stores sqlite,postgresql \
		--workers 1,2 --connections 1,32 --datasette \
		--profile Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8 --profile-generate 100000

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

loadtest: $(STAMP)  ## 64 clients for 60 s, 5 % writes (ingests among them), SQLite then PostgreSQL; nothing lost
	$(BIN)/python bench/loadtest.py --stores sqlite,postgresql --clients 64 --duration 60

faulttest: $(STAMP)  ## PostgreSQL backends killed, the cluster stopped and started, under reads and writes
	$(BIN)/python bench/faulttest.py

replicatest: $(STAMP)  ## a throwaway PostgreSQL primary and streaming replica: routing, read-your-writes, cache versions
	REPLICA_TEST=1 $(BIN)/python -m pytest tests/test_streaming_replica.py -v

hardeningtest: $(STAMP)  ## stalled bodies, made-up keys and as_of reads against the server, both stores
	$(BIN)/python bench/hardening.py --stores sqlite,postgresql

cachetest: $(STAMP)  ## nginx in front as docs/deploy.md says: stored, revalidated, never stale (installs nginx if root)
	@PATH="$$PATH:/usr/sbin"; \
	if ! command -v nginx >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing nginx (Debian's package)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	fi; \
	if command -v nginx >/dev/null; then \
		SHARED_CACHE_TEST=1 $(BIN)/python -m pytest tests/test_shared_cache.py -v; \
	else \
		echo "cachetest skipped: nginx is not installed; install it with 'apt-get install -y nginx'"; \
	fi
