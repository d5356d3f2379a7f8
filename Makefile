# Two commands do all set-up: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint audit install migrate demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/switchboard migrate
	$(BIN)/switchboard demo
	$(BIN)/switchboard serve

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check core routing channels workers tests
	$(BIN)/mypy
	$(BIN)/lint-imports

audit: install
	$(BIN)/python .ci/audit.py

migrate: install
	$(BIN)/switchboard migrate

demo: install
	$(BIN)/switchboard demo

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
