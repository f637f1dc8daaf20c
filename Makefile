# Two promises: `make demo` and `make test` work on a fresh clone with only python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
BENCH_VENV := .venv-bench

.PHONY: demo test test-fast lint bench browser wrk clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The extras the demo's stages use, and the dashboard it offers (--ui): profiling
# (DuckDB: stage 2b's profile and the monitoring stage) and automl (Optuna: the
# auto stage) included; not ray (the demo runs on the local executor, and Ray is
# the largest extra) nor postgres (its workspace is SQLite). tests/cli/test_demo.py
# runs the demo with every other extra's modules hidden, so a stage that needs one
# more fails there. `pip install modelyard` is the lean core.
# --no-compile: Python writes the bytecode of the modules the demo imports as it
# imports them, not of every module installed (200 MB).
DEMO_EXTRAS := serve,xgboost,lightgbm,onnx,reports,ui,profiling,automl

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --no-compile -e '.[$(DEMO_EXTRAS)]'
	touch $@

# dev holds every extra (modelyard[all]) and the test tools
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(DEMO_STAMP)

## demo: install modelyard and walk through the whole lifecycle in a temporary workspace
demo: $(DEMO_STAMP)
	$(BIN)/modelyard demo

# The suite's worker processes (pytest-xdist): most of a test's time is spent waiting
# on a server, a CLI subprocess or the browser, so more workers than cores pay off.
TEST_WORKERS ?= 3

## test: install the dev extras and run the whole test suite (slow tests included)
test: $(DEV_STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

## test-fast: the suite without the slow end-to-end tests
test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -m "not slow"

## lint: ruff and mypy (strict on the package)
lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# benchmarks/serve.py compares with `mlflow models serve`, benchmarks/profile.py with
# ydata-profiling and skrub, benchmarks/monitor.py with Evidently, benchmarks/automl.py
# with FLAML: not modelyard dependencies, and their pins clash with ours, so they live in
# their own virtualenv (with modelyard, to unpickle the pipeline).
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet mlflow ydata-profiling skrub evidently 'flaml[automl]' -e '.[xgboost,lightgbm]'
	touch $@

## bench: run every benchmark; each prints one JSON line
bench: $(DEV_STAMP) wrk
	@$(MAKE) --no-print-directory $(BENCH_STAMP) || \
		echo "could not build $(BENCH_VENV): serve.py reports MLflow as null" >&2
	@for script in benchmarks/[!_]*.py; do \
		echo "== $$script" >&2; \
		MODELYARD_BENCH_MLFLOW_PYTHON=$(BENCH_VENV)/bin/python $(BIN)/python $$script || exit 1; \
	done

## wrk: the HTTP load generator of benchmarks/serve.py (Debian package, needs root)
wrk:
	@command -v wrk >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk)

## browser: headless Chromium and its driver for the browser tests (Debian packages, needs root)
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then \
		echo "chromium and chromedriver are installed"; \
	else \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache
