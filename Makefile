# Every target bootstraps a local .venv on a fresh machine, then works from there.
# `make demo`, `make ui` and the examples install nablanet with its `all` extras only (what a
# user needs); `make test`, `make lint` and `make install` add the `dev` extras (the test
# tools); `make notebooks` adds JupyterLab. Each installation leaves its own stamp in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_ALL := $(VENV)/.installed-all
# (the name the single stamp of earlier versions had: an existing .venv is not reinstalled)
STAMP_DEV := $(VENV)/.installed
STAMP_NOTEBOOKS := $(VENV)/.installed-notebooks
# the examples' figures (examples/_common.py's default)
FIGURES := runs/examples

.PHONY: install demo test test-fast lint typecheck check format bench ui notebooks lab xor spiral \
	regression mnist clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# (a dev install newer than pyproject.toml holds `all` already)
$(STAMP_ALL): pyproject.toml | $(VENV)/bin/python
	test $(STAMP_DEV) -nt pyproject.toml || $(BIN)/python -m pip install --quiet -e ".[all]"
	touch $(STAMP_ALL)

# the dev install includes `all`: it refreshes both stamps
$(STAMP_DEV): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	touch $(STAMP_ALL) $(STAMP_DEV)

$(STAMP_NOTEBOOKS): pyproject.toml $(STAMP_ALL)
	$(BIN)/python -m pip install --quiet -e ".[all,notebooks]"
	touch $(STAMP_NOTEBOOKS)

install: $(STAMP_DEV)

demo: $(STAMP_ALL)
	$(BIN)/python examples/demo.py

# tests/ and the docstring examples of src/nablanet (--doctest-modules), with line coverage
test: $(STAMP_DEV)
	$(BIN)/python -m pytest -q --cov=nablanet --cov-report=term

test-fast: $(STAMP_DEV)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks examples scripts conftest.py
	$(BIN)/ruff format --check src tests benchmarks examples scripts conftest.py

# mypy, configured in pyproject.toml ([tool.mypy]): strict on nablanet.data and
# nablanet.pipeline, typed signatures in nablanet.nn
typecheck: $(STAMP_DEV)
	$(BIN)/mypy

# the gates CI runs before the tests
check: lint typecheck

format: $(STAMP_DEV)
	$(BIN)/ruff format src tests benchmarks examples scripts conftest.py
	$(BIN)/ruff check --fix src tests benchmarks examples scripts conftest.py

bench: $(STAMP_DEV)
	$(BIN)/python benchmarks/run.py

ui: $(STAMP_ALL)
	$(BIN)/nablanet ui

# JupyterLab on the course notebooks (the notebooks extra; add `ARGS=--no-browser` on a server)
notebooks: $(STAMP_NOTEBOOKS)
	$(BIN)/jupyter lab notebooks/ $(ARGS)

lab: notebooks

# the course's examples: each trains in seconds and prints where its figure is
xor: $(STAMP_ALL)
	$(BIN)/python examples/xor.py --output $(FIGURES)

spiral: $(STAMP_ALL)
	$(BIN)/python examples/spiral.py --output $(FIGURES)

regression: $(STAMP_ALL)
	$(BIN)/python examples/sine_regression.py --output $(FIGURES)

# MNIST from $NABLANET_DATA (or ~/.cache/nablanet), downloaded there once (about 11 MB) if missing
mnist: $(STAMP_ALL)
	$(BIN)/python examples/mnist.py --download --output $(FIGURES)

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache .coverage
