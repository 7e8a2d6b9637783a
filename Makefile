# ihub: every target creates .venv and installs into it when it is missing or older than pyproject.toml,
# so `make demo` and `make test` work as the first command on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo sim test bench lint screenshots run test-update mc-check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ihub needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)            ## open the app against the embedded simulator with a seeded demo plant
	$(BIN)/ihub demo

run: $(STAMP)             ## open the app with your saved profiles
	$(BIN)/ihub

sim: $(STAMP)             ## serve the simulator on 127.0.0.1 for other clients
	$(BIN)/ihub sim --port $${PORT:-8765}

test: $(STAMP)            ## the whole test suite (the command CI runs)
	$(BIN)/python -m pytest

test-update: $(STAMP)     ## regenerate SVG snapshots after reviewing a UI change (never unattended)
	$(BIN)/python -m pytest tests/ui --snapshot-update

bench: $(STAMP)           ## benchmarks: figures and ratios, not part of `make test`
	$(BIN)/python -m pytest tests/bench -s -p no:randomly -o addopts="" --rootdir=.

lint: $(STAMP)           ## ruff, the import contracts (who may import whom) and mypy
	$(BIN)/ruff check tui tests
	$(BIN)/ruff format --check tui tests
	$(BIN)/lint-imports
	$(BIN)/mypy

# Siemens' mc CLI for `make mc-check`, installed with npm into a git-ignored cache and reused.
MC_VERSION := 3.24.2
MC_DIR     := .cache/mc
MC_STAMP   := $(MC_DIR)/.installed-$(MC_VERSION)

$(MC_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "make mc-check needs npm (Node.js 20 or newer)" >&2; exit 2; }
	@mkdir -p $(MC_DIR)
	npm install --prefix $(MC_DIR) --prefer-offline --no-audit --no-fund --loglevel=error \
		@mindconnect/mindconnect-nodejs@$(MC_VERSION)
	@rm -f $(MC_DIR)/.installed-*
	@touch $@

mc-check: $(STAMP) $(MC_STAMP)  ## Siemens' mc CLI against the simulator: a table of commands (needs npm)
	$(BIN)/python -m tui.devtools.mc_check --mc $(MC_DIR)/node_modules/.bin/mc

screenshots: $(STAMP)     ## regenerate screenshots/ from the demo
	$(BIN)/python -m tui.devtools.screenshots screenshots

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
