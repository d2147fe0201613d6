# The two commands a fresh machine needs: `make demo` and `make test`.
# Each creates the virtual environment on first use and installs into it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench screenshots docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[ml,dev]'
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --silent; fi
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m bot.demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The pictures in docs/screenshots/, from the real runs of tests/rendering/test_bodies.py.
screenshots: $(STAMP)
	MLBOT_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/rendering/test_bodies.py

docs: $(STAMP)
	$(BIN)/mkdocs build --strict

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
