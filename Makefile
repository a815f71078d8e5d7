# The two commands the README promises: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test db lint bench clean-db

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: bring up the database, migrate, load the default data and serve on $$PORT (8000)
run: $(STAMP)
	$(BIN)/dtm-geo run

## test: bring up the database (separate test database) and run the test suite
test: $(STAMP)
	$(BIN)/dtm-geo db up --no-migrate
	$(BIN)/python -m pytest

db: $(STAMP)
	$(BIN)/dtm-geo db up

lint: $(STAMP)
	$(BIN)/ruff check .

clean-db: $(STAMP)
	$(BIN)/dtm-geo db destroy --yes
