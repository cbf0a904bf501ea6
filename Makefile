# Two entry points for a fresh machine (see README.md):
#   make demo   runs the main job on embedded data
#   make test   runs the test suite
# Each creates .venv and installs what it needs; torch is pinned by constraints.txt.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
PIP_INSTALL := $(PIP) install --quiet --constraint constraints.txt
PYTEST_ARGS ?= -n 2 -m "not slow"

.PHONY: demo test lint test-slow bench doc clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml constraints.txt Makefile | $(PY)
	$(PIP_INSTALL) torch==2.13.0
	$(PIP_INSTALL) -e ".[plot,torch]"
	touch $@

$(VENV)/.test-installed: pyproject.toml constraints.txt | $(PY)
	$(PIP_INSTALL) torch==2.13.0
	$(PIP_INSTALL) -e ".[test,torch]"
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(PY) -m skrep.demo

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

test-slow: $(VENV)/.test-installed
	$(PY) -m pytest -n 2 -m slow

bench: $(VENV)/.test-installed
	$(PY) benchmarks/bench_linear.py
	$(PY) benchmarks/bench_pairwise.py
	$(PY) benchmarks/bench_stochastic.py
	$(PY) benchmarks/bench_geometry.py
	$(PY) benchmarks/bench_similarity.py
	$(PY) benchmarks/bench_rsa.py
	$(PY) benchmarks/bench_extraction.py

doc: $(VENV)/.test-installed
	$(PIP_INSTALL) -e ".[doc,test,torch]"
	$(PY) -m sphinx -b html -W --keep-going doc doc/_build/html

clean:
	rm -rf $(VENV) doc/_build doc/auto_examples doc/gen_modules .pytest_cache .hypothesis
