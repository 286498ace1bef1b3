"""Which dbt tests are Dagster asset checks, and where the others' results are kept.

Every dbt test runs inside ``dbt build`` and a failing one stops publication either way (dbt's
exit code; pipelines/dbt_failures.py names the rows behind it). What differs is the cost: each
asset check is an event Dagster writes when it plans a run and another when it is evaluated,
one database commit each on the default instance: with 557 generic tests as checks, they were
most of a run's start (docs/benchmark.md has the figures). So only the singular tests, the
project's business rules over several models (``dbt_project/tests``: cumulative progress never
falls, a province is the sum of its districts), are checks a user sees on the assets; the
generic column tests (not null, unique, relationships, accepted values) are recorded per build
in ``audit.dbt_test_results``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

RESULTS_DDL = """
create schema if not exists audit;
create table if not exists audit.dbt_test_results (
    build_number integer not null,
    test varchar not null,
    test_name varchar not null,
    model varchar,
    column_name varchar,
    status varchar not null,
    failures bigint,
    seconds double,
    primary key (build_number, test)
);
"""


def is_asset_check(node: Mapping[str, Any]) -> bool:
    """A singular test (a SQL file of the project's ``tests/`` folder): it has no generic test
    behind it."""
    return node.get("resource_type") == "test" and not node.get("test_metadata")


def record_test_results(
    connection: duckdb.DuckDBPyConnection,
    build_number: int,
    manifest: Mapping[str, Any],
    run_results: Mapping[str, Any],
) -> int:
    """Keep the build's test results (every test dbt ran, checks included); returns how many."""
    connection.execute(RESULTS_DDL)
    nodes = manifest.get("nodes", {})
    rows = []
    for result in run_results.get("results", []):
        unique_id = str(result.get("unique_id", ""))
        if not unique_id.startswith("test."):
            continue
        node = nodes.get(unique_id, {})
        attached = nodes.get(node.get("attached_node") or "", {})
        model = f"{attached['schema']}.{attached['name']}" if attached.get("schema") else None
        rows.append(
            [
                build_number,
                unique_id,
                node.get("name") or unique_id.split(".")[-1],
                model,
                node.get("column_name"),
                str(result.get("status")),
                result.get("failures"),
                result.get("execution_time"),
            ]
        )
    connection.execute("delete from audit.dbt_test_results where build_number = ?", [build_number])
    if rows:
        connection.executemany(
            "insert into audit.dbt_test_results values (?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    return len(rows)


def latest_build_test_counts(connection: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How the tests of the latest build ended, by dbt status (pass, warn, fail, error, skipped);
    empty before the first build or when it ran no test."""
    present = connection.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'audit' and table_name in ('dbt_builds', 'dbt_test_results')"
    ).fetchone()
    if not present or present[0] < 2:
        return {}
    rows = connection.execute(
        "select status, count(*) from audit.dbt_test_results"
        " where build_number = (select max(build_number) from audit.dbt_builds)"
        " group by status"
    ).fetchall()
    return {str(status): int(count) for status, count in rows}
