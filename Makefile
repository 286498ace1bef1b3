# Maglumat: the two set-up commands are `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export MAGLUMAT_HOME ?= $(CURDIR)/var
export DAGSTER_HOME ?= $(MAGLUMAT_HOME)/dagster_home
# sqlfluff's dbt templater opens a warehouse: give it a scratch one, never the pipeline's.
SQLFLUFF := scratch=$$(mktemp -d) && mkdir -p $$scratch/warehouse && \
	MAGLUMAT_HOME=$$scratch $(BIN)/sqlfluff lint dbt_project/models --disable-progress-bar; \
	status=$$?; rm -rf $$scratch; exit $$status

.PHONY: demo test lint format ui lock clean venv

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The main job end to end on the embedded default: simulated systems, DuckDB, Dagster's local instance.
demo: $(STAMP)
	$(BIN)/maglumat demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pipelines.indicators.generate --check
	@$(SQLFLUFF)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pipelines.indicators.generate --check
	@$(SQLFLUFF)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ui: $(STAMP)
	$(BIN)/maglumat prepare
	mkdir -p $(DAGSTER_HOME)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/dagster dev -m pipelines.definitions

lock:
	rm -rf /tmp/maglumat-lock && $(PYTHON) -m venv /tmp/maglumat-lock
	/tmp/maglumat-lock/bin/pip install --quiet --upgrade pip
	/tmp/maglumat-lock/bin/pip install --quiet -e '.[dev]'
	{ echo "# Exact versions for every install (make venv). Regenerate with: make lock"; \
	  /tmp/maglumat-lock/bin/pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf var dbt_project/target dbt_project/logs
