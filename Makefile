# The two quick-start commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed  ## install, load the bundled sample, serve on http://127.0.0.1:8000/
	$(BIN)/dailypapers serve --demo --data-dir data/demo

# Debian's Chromium for the browser tests (needs root, as in CI; elsewhere they are skipped).
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test: $(VENV)/.installed browser  ## install, lint, run the suite on SQLite, then on PostgreSQL
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/pytest
	$(BIN)/pytest --postgres

bench: $(VENV)/.installed  ## benchmarks (minutes; not part of `make test`)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/search.py --scale 74728 1000000
