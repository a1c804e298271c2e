# Two commands for a fresh clone: `make run` plays, `make test` tests.
# Everything installs into .venv with the Python found on the PATH.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck check-server install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# A stamp per requirements file, so edits to requirements reinstall.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_themes
	@echo
	@echo "Fortress Director is starting at http://$(HOST):$(PORT)/"
	@echo "Open it in a browser, choose 'Sign up' to create a player account, then start a game."
	@echo "Game-master console: create a staff account with '$(BIN)/python manage.py createsuperuser',"
	@echo "then sign in at http://$(HOST):$(PORT)/admin/.  API docs: http://$(HOST):$(PORT)/api/v1/docs/"
	@echo "Stop the server with Ctrl+C."
	@echo
	$(BIN)/daphne -b $(HOST) -p $(PORT) fortress_site.asgi:application

test: install-dev
	$(BIN)/python -m pytest

lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf var/ .pytest_cache .ruff_cache .mypy_cache
