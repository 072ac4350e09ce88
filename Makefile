# Practice Bot: `make run` to try it, `make test` to check it. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NOW ?=

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

.stamp-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ .stamp-install

## run: install, seed the demo authority into ./practice-bot.db, serve http://127.0.0.1:3000
run: .stamp-install
	$(BIN)/practice-bot $(if $(NOW),--now $(NOW)) run

## test: install dev dependencies, run the whole suite on SQLite and PostgreSQL
test: .stamp-dev
	$(BIN)/python -m pytest -q

lint: .stamp-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot handlers storage schedules

bench: .stamp-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .stamp-* practice-bot.db practice-bot.db-*
