# Two commands for a fresh clone: `make demo` and `make test`. Each sets itself up.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: setup demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/gesture-gym demo --out demo_out

test: setup
	$(PY) -m pytest -n 2 -m "not slow" tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: setup
	$(PY) -m benchmarks.data_speed
	$(PY) -m benchmarks.tokenizer_speed
	$(PY) -m benchmarks.metrics_speed
	$(PY) -m benchmarks.throughput

clean:
	rm -rf $(VENV) demo_out .pytest_cache
