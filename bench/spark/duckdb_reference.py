"""The DuckDB side of the Spark check: the same dbt project built on DuckDB, exported as Parquet.

Runs in the pipeline's environment (it needs duckdb and dbt-duckdb); the Spark side reads only
Parquet. From a published snapshot of a finished run (``maglumat demo``):

1. the snapshot is copied into ``--out`` and the dbt project of this work tree is built on the
   copy (``dbt build``, tests left to ``make test``), so both engines run the same model code;
2. ``raw/<table>/data.parquet`` and ``audit/<table>/data.parquet``: the dbt project's sources, as
   the quality gate left them (loaded rows only: held batches and quarantined rows never reach
   raw, so building from raw keeps the gate's decisions without running the gate again), and
   ``reference/<seed>/data.parquet``: the seeds as dbt loaded them;
3. ``expected/<schema>__<table>/data.parquet``: DuckDB's results that the Spark build is compared
   with, and ``expected/relation_rows.json``: the row count of every relation dbt built.

Usage: ``python bench/spark/duckdb_reference.py --home MAGLUMAT_HOME --out DIR``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

SOURCE_SCHEMAS = ("raw", "audit", "reference")
DBT_SCHEMAS = ("reference", "staging", "intermediate", "marts", "indicators")
COMPARED_RELATIONS = (
    ("indicators", "fct_indicator_values"),
    ("indicators", "ind_campaign_progress"),
)
PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
DBT_PROJECT = Path(__file__).resolve().parent.parent.parent / "dbt_project"


def quoted(name: str) -> str:
    """A schema or table name from the catalogue, checked and quoted for interpolation."""
    if not PLAIN_NAME.match(name):
        raise ValueError(f"unexpected relation name {name!r}")
    return f'"{name}"'


def build_reference(snapshot: Path, out: Path) -> Path:
    """Copy ``snapshot`` to ``out`` and build the dbt project on the copy; return its path."""
    home = out / "duckdb"
    shutil.rmtree(home, ignore_errors=True)
    (home / "warehouse").mkdir(parents=True)
    warehouse = home / "warehouse" / "warehouse.duckdb"
    shutil.copyfile(snapshot, warehouse)
    warehouse.chmod(0o644)
    ensure_every_raw_table(warehouse)
    dbt = Path(sys.executable).with_name("dbt")
    command = [
        str(dbt),
        "build",
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(home / "target"),
        "--log-path",
        str(home / "logs"),
        # The snapshot's incremental tables are rebuilt whole from this project's SQL.
        "--full-refresh",
        "--exclude",
        "resource_type:test",
        "resource_type:unit_test",
    ]
    environment = {**os.environ, "MAGLUMAT_HOME": str(home)}
    built = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        print(built.stdout[-4000:])
        raise SystemExit("[duckdb] dbt build failed on DuckDB: nothing to compare Spark with")
    return warehouse


def ensure_every_raw_table(warehouse: Path) -> None:
    """Create the raw tables of systems the run predates, as the pipeline does before a first
    batch, so that the work tree's dbt project builds on an older run's snapshot."""
    from maglumat.catalogue import load_catalogue
    from quality.suites import load_suite
    from warehouse.raw import ensure_raw_table

    con = duckdb.connect(str(warehouse))
    try:
        for system in load_catalogue():
            for table in system.tables:
                suite = load_suite(system, table.name)
                ensure_raw_table(con, system.name, table.name, suite.columns)
    finally:
        con.close()


def export(warehouse: Path, out: Path) -> dict[str, int]:
    """Write the sources and the compared results of ``warehouse`` under ``out``."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name, table_type from information_schema.tables"
            " where table_catalog = current_database()"
        ).fetchall()
        written: dict[str, int] = {}
        for schema, table, table_type in relations:
            if schema not in SOURCE_SCHEMAS or table_type != "BASE TABLE":
                continue
            target = out / schema / table / "data.parquet"
            shutil.rmtree(target.parent, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"copy (select * from {quoted(schema)}.{quoted(table)})"  # noqa: S608
                f" to '{target}' (format parquet)"
            )
            written[f"{schema}.{table}"] = _count(con, schema, table)
        expected = out / "expected"
        for schema, table in COMPARED_RELATIONS:
            target = expected / f"{schema}__{table}" / "data.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"copy (select * from {quoted(schema)}.{quoted(table)})"  # noqa: S608
                f" to '{target}' (format parquet)"
            )
        relation_rows = {
            f"{schema}.{table}": _count(con, schema, table)
            for schema, table, _ in relations
            if schema in DBT_SCHEMAS
        }
        (expected / "relation_rows.json").write_text(
            json.dumps(relation_rows, indent=2, sort_keys=True)
        )
        return written
    finally:
        con.close()


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    row = con.execute(f"select count(*) from {quoted(schema)}.{quoted(table)}").fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="MAGLUMAT_HOME of a finished run")
    parser.add_argument("--out", type=Path, required=True, help="scratch directory (Parquet files)")
    parser.add_argument(
        "--warehouse",
        type=Path,
        help="a DuckDB file with the raw and audit schemas (default: the home's current snapshot)",
    )
    args = parser.parse_args()
    snapshot = args.warehouse or args.home / "snapshots" / "current" / "warehouse.duckdb"
    if not snapshot.exists():
        raise SystemExit(
            f"{snapshot} is missing: run `maglumat demo` with MAGLUMAT_HOME={args.home}"
        )
    started = time.monotonic()
    warehouse = build_reference(snapshot, args.out)
    print(f"[duckdb] dbt build on a copy of {snapshot}: {time.monotonic() - started:.0f} s")
    written = export(warehouse, args.out)
    rows = sum(written.values())
    print(f"[duckdb] {len(written)} source tables ({rows} rows) and the results to {args.out}")


if __name__ == "__main__":
    main()
