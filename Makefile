# The two quick-start commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed  ## install, load the bundled sample, serve on http://127.0.0.1:8000/
	$(BIN)/dailypapers serve --demo --data-dir data/demo

test: $(VENV)/.installed  ## install, lint, run the suite on SQLite, then on PostgreSQL
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/pytest
	$(BIN)/pytest --postgres

bench: $(VENV)/.installed  ## benchmarks (minutes; not part of `make test`)
	$(BIN)/python bench/ingest.py
