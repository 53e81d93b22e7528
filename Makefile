# Blabber: `make run` serves the app, `make test` runs everything. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUN_VERSION := 1.4.5
BUN := .tools/node_modules/bun/bin/bun.exe
# axe-core: the accessibility checker the browser tests inject into each page
# (tests/e2e/test_accessibility.py). Pinned, like bun, so every machine checks
# against the same rules.
AXE_CORE_VERSION := 4.14.1
AXE_CORE := .tools/node_modules/axe-core/axe.min.js
PORT ?= 3000
# Where `make run` listens: this machine only, since it runs with the public
# development secret. `make run HOST=0.0.0.0` serves the LAN (see README).
HOST ?= 127.0.0.1

export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup setup-dev migrate run test lint typecheck unit e2e build seed bench bench-quick bench-mentions bench-search bench-uploads soak clean

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(BUN):
	@command -v npm >/dev/null || { echo "Node.js 20+ with npm is required"; exit 1; }
	npm install --prefix .tools --no-audit --no-fund --loglevel=error bun@$(BUN_VERSION)

# After bun, so two npm installs never write .tools at once (make -j); --save-exact
# makes .tools/package.json record the pinned version, not a range.
$(AXE_CORE): $(BUN)
	npm install --prefix .tools --no-audit --no-fund --loglevel=error --save-exact axe-core@$(AXE_CORE_VERSION)

setup: $(VENV)/.runtime $(BUN)

setup-dev: setup $(VENV)/.dev $(AXE_CORE)
	@scripts/ensure-system-packages.sh

migrate: setup
	$(PY) -m alembic upgrade head

## Serve the production build on http://localhost:$(PORT) (SQLite + in-process broker by default).
## Built like the image, served by the image's entrypoint (Uvicorn, one worker).
run: migrate
	REFLEX_API_URL=http://localhost:$(PORT) REFLEX_DEPLOY_URL=http://localhost:$(PORT) \
	  $(VENV)/bin/reflex export --frontend-only --no-zip --env prod
	PORT=$(PORT) PYTHON=$(PY) WORKERS=1 BIND_HOST=$(HOST) BIND_PORT=$(PORT) SKIP_MIGRATIONS=1 deploy/entrypoint.sh

## Demo data: `make seed USERS=5`.
USERS ?= 5
seed: migrate
	$(PY) -m blabber.seed --users $(USERS)

lint: setup-dev
	$(VENV)/bin/ruff check blabber tests bench deploy alembic rxconfig.py
	$(VENV)/bin/ruff format --check blabber tests bench deploy alembic rxconfig.py

typecheck: setup-dev
	$(VENV)/bin/mypy blabber bench deploy

## Everything CI runs: lint, types, unit/service tests, production build, browser tests.
## Two pytest processes, each taking whole files (the suite waits on browsers and servers
## more than on the CPU); `.venv/bin/pytest tests/...` runs a part in one process.
test: setup-dev lint typecheck
	$(VENV)/bin/pytest -n 2 --dist loadfile

bench: setup-dev
	$(PY) -m bench

bench-quick: setup-dev
	$(PY) -m bench --quick

## The mentions line (issue 15): 200 members, 5 msg/s, plain vs 5 @mentions alternated; ~70 s.
bench-mentions: setup-dev
	$(PY) -m bench --mentions

## Search at scale (issue 17): 1M messages on SQLite and PostgreSQL; queries, backfill, index
## size, send cost with the index on/off. E.g. `make bench-search SEARCH_ARGS="--messages 200000"`.
bench-search: setup-dev
	$(PY) -m bench.search $(SEARCH_ARGS)

## Files (issue 18): 20 MB upload throughput and worker RSS on local disk and S3 (moto), and
## chat p99 of 100 x 10 while ten people upload, against quiet; about 3 minutes.
bench-uploads: setup-dev
	$(PY) -m bench.uploads $(UPLOADS_ARGS)

## Soak: 5 min, 200 tabs, sends/typing/reconnects/joins on PostgreSQL + Redis; fails on any
## loss, duplicate or reordering (bench/soak.py). E.g. `make soak SOAK_ARGS="--minutes 1"`.
soak: setup-dev
	$(PY) -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf .web .states data test-artifacts
