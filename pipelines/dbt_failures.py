"""The rows behind a failed dbt test: which landed batch, which rows of it.

A blocking dbt test that fails stops publication; the steward then needs the source batch and
rows, not only the test's name. After a build with failed tests, each test's compiled query is
run again to get its failing values, and the rows carrying them are looked up, walking up the
tested model's lineage to the first relation that keeps the batch and row of each row (raw
tables keep ``_batch_id`` and ``_row_number``; staging models keep ``batch_id`` and
``batch_row_number`` where they can). The findings are kept in ``audit.dbt_test_failures``
(those of the latest build) for ``maglumat quarantine``, and make the run's error message.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from maglumat import clock

log = logging.getLogger(__name__)

# (batch column, row column) pairs, as raw tables and staging models name them.
_BATCH_COLUMNS = (("_batch_id", "_row_number"), ("batch_id", "batch_row_number"))
SAMPLE_VALUES = 20  # failing values looked up per test
SAMPLE_ROWS = 50  # rows named per batch


@dataclass(frozen=True)
class RowsBehind:
    batch_id: str
    system: str | None
    table: str | None
    source_file: str | None
    rows: list[int]
    more: int = 0  # rows of the batch not listed

    def describe(self) -> str:
        origin = [f"{self.system}.{self.table}"] if self.system else []
        origin += [f"file {self.source_file}"] if self.source_file else []
        where = f" ({', '.join(origin)})" if origin else ""
        label = "row" if len(self.rows) == 1 and not self.more else "rows"
        more = f" and {self.more} more" if self.more else ""
        return f"batch {self.batch_id}{where} {label} {', '.join(map(str, self.rows))}{more}"


@dataclass(frozen=True)
class FailedTest:
    test: str  # dbt's unique id
    model: str | None  # the tested relation, schema.name
    column: str | None
    failures: int  # rows the test returned
    message: str
    values: list[str | None] = field(default_factory=list)
    behind: list[RowsBehind] = field(default_factory=list)
    traced_in: str | None = None  # the relation where the rows were found

    @property
    def name(self) -> str:
        return self.test.split(".")[-1] if self.test.startswith("test.") else self.test

    def describe(self) -> str:
        subject = ""
        if self.model:
            subject = f" on {self.model}" + (f".{self.column}" if self.column else "")
        shown = ", ".join("null" if v is None else repr(v) for v in self.values[:5])
        if shown:
            shown = f" (values {shown}{', …' if len(self.values) > 5 else ''})"
        plural = "s" if self.failures != 1 else ""
        head = f"dbt test {self.name}{subject} failed: {self.failures} row{plural}{shown}"
        if not self.behind:
            return f"{head}; no landed row carries these values (a model's logic or a seed)"
        return f"{head}; behind them: " + "; ".join(rows.describe() for rows in self.behind)


def failed_tests(run_results: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The results of tests that failed or could not run, from dbt's run_results.json."""
    return [
        result
        for result in run_results.get("results", [])
        if str(result.get("unique_id", "")).startswith("test.")
        and result.get("status") in ("fail", "error")
    ]


def trace(
    connection: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    run_results: Mapping[str, Any],
) -> list[FailedTest]:
    """Each failed test of the build, with the landed batches and rows behind its failures."""
    found = []
    for result in failed_tests(run_results):
        node = manifest.get("nodes", {}).get(result["unique_id"], {})
        try:
            found.append(_trace_one(connection, manifest, node, result))
        except duckdb.Error as error:  # the trace is help, never a second failure
            log.warning("could not trace %s: %s", result["unique_id"], error)
            found.append(
                FailedTest(
                    test=result["unique_id"],
                    model=None,
                    column=node.get("column_name"),
                    failures=int(result.get("failures") or 0),
                    message=str(result.get("message") or ""),
                )
            )
    return found


def _relation(node: Mapping[str, Any]) -> tuple[str, str] | None:
    schema = node.get("schema")
    name = node.get("alias") or node.get("identifier") or node.get("name")
    return (schema, name) if schema and name else None


def _trace_one(
    connection: duckdb.DuckDBPyConnection,
    manifest: Mapping[str, Any],
    node: Mapping[str, Any],
    result: Mapping[str, Any],
) -> FailedTest:
    column = node.get("column_name")
    attached = node.get("attached_node") or next(
        (parent for parent in node.get("depends_on", {}).get("nodes", [])), None
    )
    attached_node = _node(manifest, attached) if attached else {}
    relation = _relation(attached_node) if attached_node else None
    test = FailedTest(
        test=result["unique_id"],
        model=".".join(relation) if relation else None,
        column=column,
        failures=int(result.get("failures") or 0),
        message=str(result.get("message") or ""),
    )
    compiled = result.get("compiled_code") or node.get("compiled_code")
    if not compiled:
        return test
    rows = connection.execute(
        f"select * from ({compiled}) as failing limit {SAMPLE_VALUES * 10}"  # noqa: S608
    ).fetchall()
    names = [description[0] for description in connection.description or []]
    direct = _batch_pair(names)
    if direct is not None:  # a test that returns whole rows with their batch and row
        batch_at, row_at = names.index(direct[0]), names.index(direct[1])
        pairs = [(str(row[batch_at]), int(row[row_at])) for row in rows]
        return _with_rows(connection, test, pairs, ".".join(relation) if relation else None)
    if not rows:
        return test
    values = list(dict.fromkeys(None if row[0] is None else str(row[0]) for row in rows))
    values = values[:SAMPLE_VALUES]
    test = FailedTest(**{**test.__dict__, "values": values})
    if not column or not attached:
        return test
    for candidate in _lineage(manifest, attached):
        found = _rows_with_values(connection, candidate, column, values)
        if found is not None and found[1]:
            return _with_rows(connection, test, found[1], ".".join(found[0]))
    return test


def _node(manifest: Mapping[str, Any], unique_id: str) -> Mapping[str, Any]:
    return manifest.get("nodes", {}).get(unique_id) or manifest.get("sources", {}).get(
        unique_id, {}
    )


def _lineage(manifest: Mapping[str, Any], start: str) -> list[tuple[str, str]]:
    """Relations from the tested model up its lineage, nearest first (breadth first)."""
    seen, queue, relations = {start}, [start], []
    while queue:
        unique_id = queue.pop(0)
        node = _node(manifest, unique_id)
        relation = _relation(node)
        if relation and node.get("resource_type") in ("model", "source", "snapshot"):
            relations.append(relation)
        for parent in node.get("depends_on", {}).get("nodes", []):
            if parent not in seen and not parent.startswith("seed."):
                seen.add(parent)
                queue.append(parent)
    return relations


def _batch_pair(columns: Sequence[str]) -> tuple[str, str] | None:
    return next(
        (pair for pair in _BATCH_COLUMNS if pair[0] in columns and pair[1] in columns), None
    )


def _rows_with_values(
    connection: duckdb.DuckDBPyConnection,
    relation: tuple[str, str],
    column: str,
    values: list[str | None],
) -> tuple[tuple[str, str], list[tuple[str, int]]] | None:
    columns = [
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns"
            " where table_schema = ? and table_name = ?",
            list(relation),
        ).fetchall()
    ]
    pair = _batch_pair(columns)
    if pair is None or column not in columns:
        return None
    given = [value for value in values if value is not None]
    conditions = []
    if given:
        conditions.append(f'cast("{column}" as varchar) in ({", ".join("?" * len(given))})')
    if None in values:
        conditions.append(f'"{column}" is null')
    batch, row = pair
    found = connection.execute(
        f'select "{batch}", "{row}" from "{relation[0]}"."{relation[1]}"'  # noqa: S608
        f" where {' or '.join(conditions)} order by 1, 2 limit 10000",
        given,
    ).fetchall()
    return relation, [(str(b), int(r)) for b, r in found]


def _with_rows(
    connection: duckdb.DuckDBPyConnection,
    test: FailedTest,
    pairs: list[tuple[str, int]],
    relation: str | None,
) -> FailedTest:
    by_batch: dict[str, list[int]] = {}
    for batch_id, row in pairs:
        by_batch.setdefault(batch_id, []).append(row)
    behind = []
    for batch_id, rows in sorted(by_batch.items()):
        rows = sorted(set(rows))
        ledger = connection.execute(
            "select system, table_name, source_file from audit.batches where batch_id = ?",
            [batch_id],
        ).fetchone()
        system, table, source_file = ledger if ledger else (None, None, None)
        behind.append(
            RowsBehind(
                batch_id=batch_id,
                system=system,
                table=table,
                source_file=source_file,
                rows=rows[:SAMPLE_ROWS],
                more=max(0, len(rows) - SAMPLE_ROWS),
            )
        )
    return FailedTest(**{**test.__dict__, "behind": behind, "traced_in": relation})


_TABLE = """
create table if not exists audit.dbt_test_failures (
    found_at timestamptz,
    test varchar,
    model varchar,
    column_name varchar,
    failures integer,
    failing_value varchar,
    batch_id varchar,
    system varchar,
    table_name varchar,
    source_file varchar,
    row_number integer,
    traced_in varchar,
    description varchar
)
"""


def record(
    connection: duckdb.DuckDBPyConnection,
    tests: list[FailedTest],
    found_at: dt.datetime | None = None,
) -> None:
    """Keep the latest build's failed tests (none after a build that passed) for the steward."""
    found_at = found_at or clock.now()
    connection.execute(_TABLE)
    connection.execute("delete from audit.dbt_test_failures")
    for test in tests:
        described = test.describe()
        base = [found_at, test.name, test.model, test.column, test.failures]
        value = ", ".join("null" if v is None else v for v in test.values[:SAMPLE_VALUES])
        found = [(rows, row) for rows in test.behind for row in rows.rows] or [(None, None)]
        connection.executemany(
            "insert into audit.dbt_test_failures values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    *base,
                    value or None,
                    rows.batch_id if rows else None,
                    rows.system if rows else None,
                    rows.table if rows else None,
                    rows.source_file if rows else None,
                    row,
                    test.traced_in if rows else None,
                    described,
                ]
                for rows, row in found
            ],
        )


def recorded(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """The descriptions of the latest build's failed tests, one per test."""
    exists = connection.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'audit' and table_name = 'dbt_test_failures'"
    ).fetchone()
    if not exists or not exists[0]:
        return []
    return [
        description
        for (description,) in connection.execute(
            "select distinct description from audit.dbt_test_failures order by 1"
        ).fetchall()
    ]
