# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app cooperative
CATALOGS := cooperative/translations
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1/test
# `make run PORT=5001 HOST=0.0.0.0`: where the development server listens. `flask run`
# reads them as FLASK_RUN_PORT/FLASK_RUN_HOST, and so does config.py for the default
# BASE_URL (e-mailed links), unless BASE_URL is set.
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: install translations run serve test test-postgres test-browser bench lint format messages clean

# --no-compile: the modules a process imports are compiled then, and kept (see below);
# compiling every installed module up front took a third of the install.
$(BIN)/activate: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-compile -e '.[dev]'
	touch $(BIN)/activate

install: $(BIN)/activate

translations: install
	$(BIN)/pybabel --quiet compile -d $(CATALOGS)

run: export FLASK_RUN_PORT = $(PORT)
run: export FLASK_RUN_HOST = $(HOST)
run: translations
	$(FLASK) db upgrade
	$(FLASK) coop seed-demo
	@echo "The site: $$($(BIN)/python -c 'from cooperative.config import base_url; print(base_url())')  (e-mails appear below and in instance/mail/)"
	@trap 'kill 0' EXIT INT TERM; \
	$(FLASK) coop worker & \
	$(FLASK) run

serve: translations
	$(FLASK) db upgrade
	$(BIN)/gunicorn --bind 127.0.0.1:8000 --workers 3 wsgi:app

# Tests in TEST_WORKERS processes (pytest-xdist), each on its own database: `make test
# TEST_WORKERS=0` runs them in this one process. A process that runs out of tests takes
# some of the other's (worksteal). The slowest 15 are listed at the end (where CI's time
# goes).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=15
# Compiled modules are kept (in __pycache__, ignored by git) even where the environment
# says not to: each test process, and each server a test starts, then reads them instead of
# compiling the app and rewriting the tests' asserts again (5 s instead of 13 to collect).
unexport PYTHONDONTWRITEBYTECODE

test: translations
	$(PYTEST)

# The browser tests drive pages, not SQL: they run once, on SQLite, in `make test`.
test-postgres: translations
	TEST_DATABASE_URL=$(PG_URL) $(PYTEST) --ignore=tests/browser

test-browser: translations
	$(PYTEST) tests/browser

# The load benchmark (a few minutes; not part of the tests). See bench/README.md.
bench: translations
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh the catalogs after changing UI text: extract, then merge into nl (and en).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o $(CATALOGS)/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache
