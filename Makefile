# Task runner. `make run` sets everything up and runs the pipeline; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= var
export TRADING_DATA_DIR ?= $(DATA_DIR)
export DO_NOT_TRACK := 1
export DAGSTER_HOME ?= $(abspath $(DATA_DIR))/dagster_home

.PHONY: setup run test test-fast test-chaos test-postgres ui lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

setup: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml

run: setup  ## the embedded default: simulated market, paper broker, SQLite, 20 sessions
	$(BIN)/trading-pipeline run --sessions 20

test: setup  ## every test, PostgreSQL-backed ones included (they skip without a server, fail when CI=true)
	$(BIN)/pytest

test-fast: setup  ## the inner loop: everything but Dagster-process tests and the chaos suite
	$(BIN)/pytest -m "not slow and not chaos"

test-chaos: setup  ## only the chaos suite (sized by CHAOS_* variables; CI=true runs the acceptance counts)
	$(BIN)/pytest -m chaos -s

test-postgres: setup  ## only the PostgreSQL-backed tests
	$(BIN)/pytest -m postgres

ui: setup  ## the Dagster UI (webserver + daemon) on http://127.0.0.1:3000
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python benchmarks/bench_pricing.py

clean:  ## the data dir (ledger, Dagster home, run outputs, dbt artifacts) and dbt run by hand
	rm -rf $(DATA_DIR) dbt_project/target dbt_project/logs
