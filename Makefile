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

.PHONY: demo test lint format ui lock clean venv bench spark-check

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	# setuptools warns that folders named like the packages may shadow them: they are them.
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The main job end to end on the embedded default: simulated systems, DuckDB, Dagster's local instance.
demo: $(STAMP)
	$(BIN)/maglumat demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pipelines.indicators.generate --check
	@$(SQLFLUFF)
	# The slowest tests are printed: CI has 30 minutes, and they are where it goes.
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/pytest -n 2 --dist loadgroup --durations=15

# The benchmark (docs/benchmark.md): SF=1 or SF="0.1 1"; default SF 1 and SF 10.
SF ?= 1 10
# Then the serving database (docs/benchmark.md): publication and swap lock time, and the design
# it was chosen over, on each scale factor's snapshot (PostgreSQL: MAGLUMAT_BENCH_POSTGRES_DSN).
bench: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python -m bench.run --keep-home $(foreach sf,$(SF),--sf $(sf))
	for sf in $(SF); do \
		$(BIN)/python -m bench.serving --home bench/.data/runs/sf$$($(BIN)/python -c \
			"from bench.systems import sf_label; print(sf_label($$sf))") || exit 1; \
	done

# The dbt project built on Apache Spark (dbt-spark, a local PySpark session, Java 17) from a demo
# run's data and compared with DuckDB (docs/scaling.md). dbt-spark and PySpark live in their own
# environment, .venv-spark, from bench/spark/requirements.lock.
SPARK_VENV := .venv-spark
SPARK_CHECK_HOME ?= $(or $(TMPDIR),/tmp)/maglumat-spark-check
$(SPARK_VENV)/.installed: bench/spark/requirements.lock
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SPARK_VENV)/bin/python -m pip install --quiet -r bench/spark/requirements.lock
	touch $@

spark-check: $(STAMP) $(SPARK_VENV)/.installed
	@java -version 2>&1 | head -1
	test -e $(SPARK_CHECK_HOME)/home/snapshots/current || \
		MAGLUMAT_HOME=$(SPARK_CHECK_HOME)/home DAGSTER_HOME=$(SPARK_CHECK_HOME)/home/dagster_home \
		PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/maglumat demo > $(SPARK_CHECK_HOME).demo.log
	$(BIN)/python bench/spark/duckdb_reference.py --home $(SPARK_CHECK_HOME)/home \
		--out $(SPARK_CHECK_HOME)/exported
	$(SPARK_VENV)/bin/python bench/spark/build_on_spark.py \
		--exported $(SPARK_CHECK_HOME)/exported --scratch $(SPARK_CHECK_HOME)/spark

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
