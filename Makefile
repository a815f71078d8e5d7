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

# Developers and CI keep the publishers' files in ../shared/data beside the checkout (and
# have no internet): the tests read them there. Anyone else gets DATA_DIR's default, data/,
# filled by `dtm-geo data fetch` (a no-op when every file is present).
SHARED_DATA := $(wildcard $(abspath ../shared/data))
ifneq ($(SHARED_DATA),)
test: export DATA_DIR ?= $(SHARED_DATA)
endif

## test: fetch missing source files, bring up the database and run the test suite
test: $(STAMP)
	$(BIN)/dtm-geo data fetch
	$(BIN)/dtm-geo db up --no-migrate
	$(BIN)/python -m pytest

db: $(STAMP)
	$(BIN)/dtm-geo db up

lint: $(STAMP)
	$(BIN)/ruff check .

clean-db: $(STAMP)
	$(BIN)/dtm-geo db destroy --yes
