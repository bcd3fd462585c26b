# Two commands do all the set-up on a fresh machine with Python 3.11+ and make:
#   make run   -> creates .venv, installs, starts the platform on embedded defaults
#   make test  -> creates .venv, installs dev deps, runs lint and the whole suite under coverage
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
# `make run`'s data dir: $OPTILOOP_DATA_DIR when set, so `optiloop keys` (which reads it) finds the same data
DATA_DIR ?= $(or $(OPTILOOP_DATA_DIR),./.optiloop)

.PHONY: run test lint typecheck bench bench-micro demo clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "OptiLoop needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[cli,train,automl]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/optiloop serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

# The whole suite under coverage.py (branch coverage of optiloop, [tool.coverage] in pyproject.toml),
# then a summary per sub-package and the least-covered files, then the floor (fail_under). pytest runs
# on TEST_WORKERS pytest-xdist processes (the machine's 2 cores; `make test TEST_WORKERS=0` runs one
# process); tests sharing an expensive fixture stay on one worker (tests/conftest.py), and each
# process's coverage data is combined before the reports.
TEST_WORKERS ?= 2
# Schemathesis makes one test per API operation only in a single process: under xdist its two test
# functions run as two tests (measured: 2 instead of 246 cases, 19 s instead of 84 s), so it runs apart.
FUZZ_TESTS = tests/functional/test_http_schemathesis.py
test: lint typecheck
	$(BIN)/python -m coverage erase
	$(BIN)/python -m coverage run -m pytest -n $(TEST_WORKERS) --dist loadgroup --ignore=$(FUZZ_TESTS)
	$(BIN)/python -m coverage run -m pytest -p no:xdist $(FUZZ_TESTS)
	$(BIN)/python -m coverage combine -q
	$(BIN)/python tests/coverage_summary.py
	@printf 'total coverage of optiloop (lines and branches): '
	@$(BIN)/python -m coverage report --format=total

# Every Python file of the repository (shared, tests, functions, infra_cdk, layers, training_jobs: the
# `include` of [tool.ruff] in pyproject.toml), one configuration for both tools.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Strict mypy with the pydantic plugin over shared/optiloop, functions/ and infra_cdk/ ([tool.mypy] in
# pyproject.toml): about a minute from a cold cache, seconds after.
.PHONY: typecheck
typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# What `make lint` checks, fixed where the tools can.
.PHONY: format
format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: $(VENV)/.installed-run
	$(BIN)/optiloop demo

# Lambda layers (build/layers/<name>/python) and function code packages (build/functions/<name>),
# size-checked against Lambda's 250 MB and for heavy libraries on the HTTP path; needs the index.
.PHONY: layers
layers: | $(BIN)/python
	$(BIN)/python layers/build.py --out build

# One tenant's CloudFormation (infra_cdk/, no CDK CLI needed), checked by cdk-nag AwsSolutions: fails
# on any unacknowledged finding, warnings included. Deploying is `cdk deploy` (README, Deploy to AWS).
TENANT  ?=
CDK_OUT ?= cdk.out
.PHONY: synth
synth: $(VENV)/.installed-dev
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(BIN)/python infra_cdk/app.py -c tenant=$(TENANT) --outdir $(CDK_OUT)

clean:
	rm -rf $(VENV) .optiloop build *.egg-info shared/*.egg-info .coverage .coverage.*
