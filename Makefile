# The README's two commands. Each creates .venv on first use and keeps it up to date.
# `make test` builds the compiled recurrences (a C compiler is required there) and runs
# the tests on both of their paths; `pip install .` alone builds them where it can.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint clean

demo: $(VENV)/.installed
	$(BIN)/rnnkit demo

test: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	RNNKIT_REQUIRE_KERNELS=1 $(BIN)/python -m pytest -n 2

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml setup.py | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[plot,baseline]"
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py $(wildcard src/rnnkit/core/csrc/*) | $(VENV)/bin/python
	RNNKIT_REQUIRE_KERNELS=1 $(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
	rm -f src/rnnkit/core/recurrence_kernels*.so
