# Every target bootstraps a local .venv on a fresh machine, then works from there.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint typecheck check format bench ui clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# tests/ and the docstring examples of src/nablanet (--doctest-modules), with line coverage
test: $(STAMP)
	$(BIN)/python -m pytest -q --cov=nablanet --cov-report=term

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples scripts conftest.py
	$(BIN)/ruff format --check src tests benchmarks examples scripts conftest.py

# mypy, configured in pyproject.toml ([tool.mypy]): strict on nablanet.data and
# nablanet.pipeline, typed signatures in nablanet.nn
typecheck: $(STAMP)
	$(BIN)/mypy

# the gates CI runs before the tests
check: lint typecheck

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples scripts conftest.py
	$(BIN)/ruff check --fix src tests benchmarks examples scripts conftest.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

ui: $(STAMP)
	$(BIN)/nablanet ui

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .coverage
