# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv test lint demo exchange bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check exchange_mock loadtests tests benchmarks
	$(BIN)/ruff format --check exchange_mock loadtests tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/stampede demo

exchange: $(STAMP)
	$(BIN)/stampede exchange

bench: $(STAMP)
	for b in $(filter-out benchmarks/harness.py benchmarks/loadgen.py,$(wildcard benchmarks/*.py)); do \
		$(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
