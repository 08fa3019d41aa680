# Two commands a new machine needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench setup dev-setup demo cluster

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamps: the package is installed again only when pyproject.toml (its dependencies) changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

setup: $(VENV)/.installed

dev-setup: $(VENV)/.installed-dev

.env:
	cp .env.example .env
	@echo "Created .env from .env.example: put your BOT_TOKEN in it, then run 'make run' again." && false

run: setup .env
	$(BIN)/python -m bot

# N webhook instances on ports 8081.. against .env's PostgreSQL and Redis (docs/deployment.md).
N ?= 2
cluster: setup .env
	PYTHON=$(BIN)/python scripts/cluster.sh $(N)

demo: setup
	$(BIN)/python -m bot demo

test: dev-setup
	$(BIN)/python -m pytest

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/mypy bot core storage

bench: dev-setup
	$(BIN)/python -m bench
