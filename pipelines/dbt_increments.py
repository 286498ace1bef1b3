"""What a daily dbt build brings to the incremental models: the batches new since the last
successful build, read from the batch ledger.

Raw tables change only by batches, and every batch has a row in ``audit.batches``. Each build
keeps a copy of the ledger as it stood when the build started (``audit.dbt_build_ledger``); the
next build compares the ledger with the copy of the last successful build:

- a batch that is new and loaded, or was held then and is loaded now (readmitted), is an
  **increment**: its rows were appended. The incremental models (``materialized='incremental'``,
  strategy ``delete+insert``) rebuild only the periods its rows touch, from every row of those
  periods, so a correction of an old day rebuilds that day and nothing else
  (``macros/incremental/``);
- a batch that had rows in raw and whose verdict changed since (a steward's readmit of a batch
  loaded with quarantine) may have taken rows away. A period that lost every row would not be
  found from the rows that remain, so such a build refreshes the incremental models in full.

This build's increments are written to ``audit.dbt_build_increments`` (batch, system, table),
which the models read through a macro. The table is a control input, not a dbt source: a
source would make every model over it a descendant of every build.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb

LEDGER_COPY_DDL = """
create schema if not exists audit;
create table if not exists audit.dbt_build_ledger (
    build_number integer not null,
    batch_id varchar not null,
    system varchar not null,
    table_name varchar not null,
    status varchar not null,
    loaded_rows bigint not null,
    checked_at timestamptz not null
);
create table if not exists audit.dbt_build_increments (
    batch_id varchar not null,
    system varchar not null,
    table_name varchar not null
);
"""
# Of a ledger row, what says which rows of the batch are in raw.
_VERDICT = "status, loaded_rows, checked_at"
_LOADED = "('loaded', 'loaded_with_quarantine')"


@dataclass(frozen=True)
class BuildIncrement:
    """The batches a build brings, against the last successful build's copy of the ledger."""

    new_batches: list[tuple[str, str, str]]  # batch_id, system, table_name
    full_refresh_reason: str | None  # why the incremental models are rebuilt in full

    @property
    def is_full_refresh(self) -> bool:
        return self.full_refresh_reason is not None

    def describe(self, *, rebuilt: bool = True) -> str:
        """What the build does with its incremental models; ``rebuilt`` is False when the
        plan leaves every one of them alone."""
        if not rebuilt:
            return "incremental models not rebuilt: no source of theirs changed"
        if self.full_refresh_reason is not None:
            return f"incremental models in full: {self.full_refresh_reason}"
        tables = sorted({f"{system}.{table}" for _, system, table in self.new_batches})
        count = len(self.new_batches)
        return f"incremental models: {count} new batch{'es' if count != 1 else ''}" + (
            f" ({', '.join(tables)})" if tables else ""
        )


def incremental_models(manifest: Mapping[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """Each incremental model that applies the ledger's increments, with the source tables
    (system, table) it reads through the models between them."""
    nodes = manifest.get("nodes") or {}
    sources = manifest.get("sources") or {}
    found: dict[str, set[tuple[str, str]]] = {}
    for unique_id, node in nodes.items():
        if node.get("resource_type") != "model":
            continue
        config = node.get("config") or {}
        if config.get("materialized") != "incremental":
            continue
        # The indicator values find what changed from their days, not from the ledger.
        if (config.get("meta") or {}).get("refresh") == "changed_days":
            continue
        upstream: set[tuple[str, str]] = set()
        pending = list((node.get("depends_on") or {}).get("nodes") or [])
        while pending:
            parent = pending.pop()
            if parent in sources:
                upstream.add((sources[parent]["source_name"], sources[parent]["name"]))
            elif parent in nodes:
                pending += (nodes[parent].get("depends_on") or {}).get("nodes") or []
        found[unique_id] = upstream
    return found


def prepare_increment(
    connection: duckdb.DuckDBPyConnection,
    build_number: int,
    *,
    base_build: int | None,
    full_reason: str | None,
    watched: Collection[tuple[str, str]],
) -> BuildIncrement:
    """Copy the ledger for ``build_number``, compare it with ``base_build``'s copy (the last
    successful build the plan builds on; None when the plan rebuilds everything) and write this
    build's increments for the models to read. Only a batch of a ``watched`` table (one an
    incremental model reads) decided again makes the build refresh in full."""
    connection.execute(LEDGER_COPY_DDL)
    connection.execute(
        f"insert into audit.dbt_build_ledger select ?, batch_id, system, table_name, {_VERDICT}"  # noqa: S608 - constant column list
        " from audit.batches",
        [build_number],
    )
    connection.execute("delete from audit.dbt_build_increments")
    increment = _compare(connection, build_number, base_build, full_reason, watched)
    if increment.new_batches:
        connection.executemany(
            "insert into audit.dbt_build_increments values (?, ?, ?)", increment.new_batches
        )
    # Only the base of the next build is ever read: the copies of older builds go.
    connection.execute(
        "delete from audit.dbt_build_ledger where build_number < ?"
        " and build_number <> coalesce(?, -1)",
        [build_number, base_build],
    )
    return increment


def record_increment(
    connection: duckdb.DuckDBPyConnection, build_number: int, description: str
) -> None:
    """Say in the build's row what it did with its incremental models (``increment``)."""
    connection.execute("alter table audit.dbt_builds add column if not exists increment varchar")
    connection.execute(
        "update audit.dbt_builds set increment = ? where build_number = ?",
        [description, build_number],
    )


def _compare(
    connection: duckdb.DuckDBPyConnection,
    build_number: int,
    base_build: int | None,
    full_reason: str | None,
    watched: Collection[tuple[str, str]],
) -> BuildIncrement:
    if full_reason is not None:
        return BuildIncrement([], full_reason)
    if base_build is None:
        return BuildIncrement([], "no earlier build to add to")
    (copies,) = connection.execute(  # type: ignore[misc]
        "select count(*) from audit.dbt_build_ledger where build_number = ?", [base_build]
    ).fetchone()
    (ledger_rows,) = connection.execute("select count(*) from audit.batches").fetchone()  # type: ignore[misc]
    if copies == 0 and ledger_rows > 0:
        return BuildIncrement([], f"build {base_build} kept no copy of the batch ledger")
    # A batch that had rows in raw and has other rows now (or none) may have taken rows away.
    changed = connection.execute(
        f"""
        select base.batch_id
        from (select batch_id, system, table_name, {_VERDICT} from audit.dbt_build_ledger
              where build_number = ?) as base
        left join (select batch_id, {_VERDICT} from audit.dbt_build_ledger
                   where build_number = ?) as now using (batch_id)
        where base.status in {_LOADED}
            and list_contains(?, base.system || '.' || base.table_name)
            and (now.batch_id is null
                or (base.status, base.loaded_rows, base.checked_at)
                is distinct from (now.status, now.loaded_rows, now.checked_at))
        order by base.batch_id
        """,  # noqa: S608 - constant column and status lists
        [base_build, build_number, sorted(f"{system}.{table}" for system, table in watched)],
    ).fetchall()
    if changed:
        named = ", ".join(batch for (batch,) in changed[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        return BuildIncrement([], f"batch {named}{more} was decided again since the last build")
    # New batches, and batches that had no rows then (held) and are loaded now (readmitted).
    new = connection.execute(
        f"""
        select now.batch_id, now.system, now.table_name
        from audit.dbt_build_ledger as now
        where now.build_number = ? and now.status in {_LOADED}
            and now.batch_id not in (
                select batch_id from audit.dbt_build_ledger
                where build_number = ? and status in {_LOADED}
            )
        order by now.system, now.table_name, now.batch_id
        """,  # noqa: S608 - constant status list
        [build_number, base_build],
    ).fetchall()
    return BuildIncrement([(str(b), str(s), str(t)) for b, s, t in new], None)
