# OpenCityBrain — the two commands a new user runs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := .make
COCKPIT := src/opencitybrain/api/cockpit_dist/index.html
WEB_SOURCES := $(shell find web/src web/index.html web/package.json web/package-lock.json web/tsconfig.json web/vite.config.ts -type f 2>/dev/null)
PORT ?= 8000
SPEED ?= 60

.PHONY: setup demo test check lint typecheck contracts unit webtest bench clean chromium clients-venv

setup: $(STAMP)/venv $(STAMP)/clients-venv $(COCKPIT) chromium ## Install everything (idempotent)

$(STAMP)/venv: pyproject.toml
	@mkdir -p $(STAMP)
	@command -v $(PYTHON) >/dev/null || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

# Real NGSI-LD clients (ngsildclient) in a venv of their own: they pin old httpx and rich.
CLIENTS_VENV := .venv-clients

clients-venv: $(STAMP)/clients-venv ## The venv of the real NGSI-LD clients the tests drive

$(STAMP)/clients-venv: clients-requirements.txt
	@mkdir -p $(STAMP)
	test -x $(CLIENTS_VENV)/bin/python || $(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CLIENTS_VENV)/bin/python -m pip install --quiet -r clients-requirements.txt
	@touch $@

$(COCKPIT): $(WEB_SOURCES)
	@command -v npm >/dev/null || { echo "需要 Node.js 与 npm / Node.js and npm are required"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

chromium: ## Debian's chromium (browser tests) and a CJK font (Chinese in screenshots), when missing
	@{ test -x /usr/bin/chromium && test -d /usr/share/fonts/truetype/wqy; } || { \
	  echo "installing Debian chromium and fonts-wqy-microhei…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei; }

demo: setup ## Run the demo city: cockpit at http://127.0.0.1:$(PORT)
	$(BIN)/citybrain demo --port $(PORT) --speed $(SPEED)

lint: $(STAMP)/venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)/venv
	$(BIN)/mypy

contracts: $(STAMP)/venv
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest -q -p no:cacheprovider --durations=30

webtest: $(COCKPIT)
	cd web && npm test

check: lint typecheck contracts webtest unit ## Lint, types, architecture contracts, all tests

test: setup check ## Set up everything, then lint, types, contracts and the whole test suite

bench: setup ## Run the benchmarks (figures as ratios against a same-run baseline)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(CLIENTS_VENV) $(STAMP) web/node_modules src/opencitybrain/api/cockpit_dist
