"""Build the whole dbt project on Apache Spark and compare its indicators with DuckDB's.

Runs in the Spark check's own environment (``.venv-spark``, from ``bench/spark/requirements.lock``):
a local PySpark session in this process, which dbt-spark (``method: session``) reuses. Its
warehouse directory and Hive metastore live under ``--scratch``.

1. The dbt sources (``raw.*`` and ``audit.*``) and the seeds (``reference.*``) become Spark tables
   over the Parquet files that ``duckdb_reference.py`` wrote.
2. ``dbt build`` of every model and data test (seeds and unit tests excluded: see
   docs/scaling.md).
3. ``indicators.fct_indicator_values`` and ``indicators.ind_campaign_progress`` are compared with
   DuckDB's, row by row on their keys, numbers within a relative tolerance; the row count of every
   relation dbt built is compared too. Differences are printed; any makes the exit status 1.

Usage: ``.venv-spark/bin/python bench/spark/build_on_spark.py --exported DIR --scratch DIR``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql import types as T  # noqa: N812

HERE = Path(__file__).resolve().parent
DBT_PROJECT = HERE.parent.parent / "dbt_project"
SOURCE_SCHEMAS = ("raw", "audit", "reference")
# Both engines evaluate the same double operations, but may add up a group's doubles in another
# order: that changes a sum of n terms by at most about n x 2.2e-16 of their magnitudes, far below
# 1e-9 for any group here, while a real difference (Spark's six-place decimal division, a day of
# rounding) is far above it. Not a place to absorb differences of semantics.
RELATIVE_TOLERANCE = 1e-9
ABSOLUTE_TOLERANCE = 1e-9
SHOWN_DIFFERENCES = 10


@dataclass(frozen=True)
class Comparison:
    """A relation compared with DuckDB's: the columns that identify a row."""

    schema: str
    table: str
    keys: tuple[str, ...]


COMPARED = (
    # indicator_id|period_type|period_start|region_id|enterprise_id|breakdown
    Comparison("indicators", "fct_indicator_values", ("indicator_value_id",)),
    Comparison(
        "indicators",
        "ind_campaign_progress",
        ("campaign_id", "report_date", "region_level", "region_id"),
    ),
)


def start_spark(scratch: Path) -> SparkSession:
    """A local Spark with its warehouse and metastore in ``scratch``; UTC like the pipeline."""
    scratch.mkdir(parents=True, exist_ok=True)
    # The embedded Hive metastore (Derby) writes into the working directory.
    os.chdir(scratch)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("maglumat-spark-check")
        .config("spark.sql.warehouse.dir", str(scratch / "spark-warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
        .config("spark.sql.session.timeZone", "UTC")
        # Small data: Spark's default 200 shuffle partitions would cost more than the work.
        .config("spark.sql.shuffle.partitions", "2")
        # The indicator models are deep CTE graphs that Spark inlines into plans of thousands of
        # stages; re-planning them adaptively after every stage costs more than it saves.
        .config("spark.sql.adaptive.enabled", "false")
        # The indicator models' plans are large: the default 1 GB driver heap runs out.
        .config("spark.driver.memory", "4g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .enableHiveSupport()
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    # dbt reports a failing statement; PySpark would also log its whole Java stack trace.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    return spark


def register_sources(spark: SparkSession, exported: Path) -> int:
    """Create ``raw.<table>`` and ``audit.<table>`` over the exported Parquet; return the count."""
    tables = 0
    for schema in SOURCE_SCHEMAS:
        spark.sql(f"create database if not exists {schema}")
        for folder in sorted((exported / schema).iterdir()):
            spark.sql(f"drop table if exists {schema}.{folder.name}")
            spark.sql(
                f"create table {schema}.{folder.name} using parquet location '{folder.as_uri()}'"
            )
            tables += 1
    return tables


def dbt_build(
    project: Path, scratch: Path, selection: list[str]
) -> tuple[bool, list[tuple[str, str, str]]]:
    """``dbt build`` in this process (dbt-spark's session is the one started here)."""
    from dbt.cli.main import dbtRunner

    args = [
        "build",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(HERE),
        "--target-path",
        str(scratch / "target"),
        "--log-path",
        str(scratch / "logs"),
        "--exclude",
        "resource_type:seed",
        "resource_type:unit_test",
        *selection,
    ]
    outcome = dbtRunner().invoke(args)
    failures: list[tuple[str, str, str]] = []
    for result in getattr(outcome.result, "results", None) or []:
        status = str(result.status)
        if status in {"error", "fail", "skipped", "runtime error"}:
            message = (result.message or "").strip().splitlines()
            failures.append((result.node.unique_id, status, message[0] if message else ""))
    if outcome.exception is not None:
        failures.append(("dbt", "error", str(outcome.exception)))
    return outcome.success, failures


def compare_relation(spark: SparkSession, exported: Path, comparison: Comparison) -> list[str]:
    """Rows missing on either side and values that differ beyond the tolerance."""
    name = f"{comparison.schema}.{comparison.table}"
    if not spark.catalog.tableExists(name):
        return [f"{name}: not built on Spark"]
    expected = spark.read.parquet(
        (exported / "expected" / f"{comparison.schema}__{comparison.table}").as_uri()
    )
    actual = spark.table(name)
    problems: list[str] = []
    missing_columns = sorted(set(expected.columns) - set(actual.columns))
    if missing_columns:
        return [f"{name}: columns missing on Spark: {missing_columns}"]
    keys = list(comparison.keys)
    values = [column for column in expected.columns if column not in keys]
    duplicated = actual.groupBy(*keys).count().where("count > 1").count()
    if duplicated:
        problems.append(f"{name}: {duplicated} keys appear more than once on Spark")
    joined = _aliased(expected, "duckdb").join(
        _aliased(actual.select(*expected.columns), "spark"),
        on=[F.col(f"duckdb_{key}").eqNullSafe(F.col(f"spark_{key}")) for key in keys],
        how="full_outer",
    )
    only_duckdb = joined.where(F.col(f"spark_{keys[0]}").isNull() & _present("duckdb", keys))
    only_spark = joined.where(F.col(f"duckdb_{keys[0]}").isNull() & _present("spark", keys))
    for side, rows in (("DuckDB", only_duckdb), ("Spark", only_spark)):
        count = rows.count()
        if count:
            problems.append(f"{name}: {count} rows only on {side}, e.g.")
            side_prefix = "duckdb" if side == "DuckDB" else "spark"
            for row in (
                rows.select(*[f"{side_prefix}_{key}" for key in keys])
                .limit(SHOWN_DIFFERENCES)
                .collect()
            ):
                problems.append(f"    {tuple(row)}")
    both = joined.where(_present("duckdb", keys) & _present("spark", keys))
    types = dict(expected.dtypes)
    for column in values:
        differs = _differs(F.col(f"duckdb_{column}"), F.col(f"spark_{column}"), types[column])
        rows = both.where(differs)
        count = rows.count()
        if count:
            problems.append(f"{name}.{column}: {count} rows differ, e.g. (key, DuckDB, Spark)")
            shown = rows.select(
                *[f"duckdb_{key}" for key in keys], f"duckdb_{column}", f"spark_{column}"
            ).limit(SHOWN_DIFFERENCES)
            for row in shown.collect():
                problems.append(f"    {tuple(row[:-2])}: {row[-2]!r} vs {row[-1]!r}")
    return problems


def _aliased(frame: DataFrame, prefix: str) -> DataFrame:
    return frame.select(*[F.col(column).alias(f"{prefix}_{column}") for column in frame.columns])


def _present(prefix: str, keys: list[str]) -> Column:
    condition = F.lit(False)
    for key in keys:
        condition = condition | F.col(f"{prefix}_{key}").isNotNull()
    return condition


def _differs(duckdb_value: Column, spark_value: Column, duckdb_type: str) -> Column:
    """Null on one side only, or a different value (numbers: beyond the tolerance)."""
    null_mismatch = duckdb_value.isNull() != spark_value.isNull()
    numeric = duckdb_type in {"double", "float", "int", "bigint", "smallint", "tinyint"} or (
        duckdb_type.startswith("decimal")
    )
    if numeric:
        left = duckdb_value.cast(T.DoubleType())
        right = spark_value.cast(T.DoubleType())
        bound = F.greatest(F.lit(ABSOLUTE_TOLERANCE), F.abs(left) * F.lit(RELATIVE_TOLERANCE))
        value_mismatch = F.abs(left - right) > bound
    else:
        value_mismatch = duckdb_value.cast("string") != spark_value.cast("string")
    return null_mismatch | (F.coalesce(value_mismatch, F.lit(False)))


def compare_row_counts(spark: SparkSession, exported: Path) -> list[str]:
    """Every relation dbt built in DuckDB exists on Spark with as many rows."""
    expected: dict[str, int] = json.loads(
        (exported / "expected" / "relation_rows.json").read_text()
    )
    problems = []
    for relation, rows in sorted(expected.items()):
        if not spark.catalog.tableExists(relation):
            problems.append(f"{relation}: not built on Spark")
            continue
        spark_rows = spark.table(relation).count()
        if spark_rows != rows:
            problems.append(f"{relation}: {rows} rows in DuckDB, {spark_rows} on Spark")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exported", type=Path, required=True, help="export_duckdb.py's output")
    parser.add_argument("--scratch", type=Path, required=True, help="Spark warehouse, dbt target")
    parser.add_argument("--project-dir", type=Path, default=DBT_PROJECT, help="the dbt project")
    parser.add_argument("--select", nargs="*", default=[], help="dbt selection (default: all)")
    args = parser.parse_args()
    exported, scratch = args.exported.resolve(), args.scratch.resolve()

    started = time.monotonic()
    spark = start_spark(scratch)
    tables = register_sources(spark, exported)
    print(f"[spark] Spark {spark.version}; {tables} source tables over {exported}")
    print(f"[spark] session ready in {time.monotonic() - started:.0f} s")

    built_at = time.monotonic()
    selection = ["--select", *args.select] if args.select else []
    success, failures = dbt_build(args.project_dir.resolve(), scratch, selection)
    verdict = "passed" if success else "FAILED"
    print(f"[spark] dbt build: {verdict} in {time.monotonic() - built_at:.0f} s")
    for unique_id, status, message in failures:
        print(f"    {status}: {unique_id}: {message[:300]}")

    problems: list[str] = []
    if not args.select:
        compared_at = time.monotonic()
        for comparison in COMPARED:
            found = compare_relation(spark, exported, comparison)
            name = f"{comparison.schema}.{comparison.table}"
            rows = spark.table(name).count() if spark.catalog.tableExists(name) else 0
            print(f"[spark] {name}: {rows} rows, {'same as DuckDB' if not found else 'DIFFERS'}")
            problems += found
        counted = compare_row_counts(spark, exported)
        print(
            f"[spark] row counts of every relation: {'same as DuckDB' if not counted else 'DIFFER'}"
        )
        problems += counted
        print(f"[spark] compared in {time.monotonic() - compared_at:.0f} s")
        for problem in problems:
            print(f"    {problem}")
    spark.stop()
    passed = success and not problems
    print(f"[spark] {'PASSED' if passed else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
