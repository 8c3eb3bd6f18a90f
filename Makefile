# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint demo exchange bench conformance clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check exchange_mock loadtests conformance tests benchmarks
	$(BIN)/ruff format --check exchange_mock loadtests conformance tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/stampede demo

exchange: $(STAMP)
	$(BIN)/stampede exchange

# ccxt's own binanceusdm test suite against a fresh mock: a table of method -> pass/fail/skipped
# (build/conformance/ccxt-binanceusdm.md), non-zero on any failure of an in-scope method.
conformance: $(STAMP)
	$(BIN)/python -m conformance.ccxt_suite

bench: $(STAMP)
	for b in $(filter-out benchmarks/harness.py benchmarks/loadgen.py,$(wildcard benchmarks/*.py)); do \
		$(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build
