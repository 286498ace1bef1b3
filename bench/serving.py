"""``python -m bench.serving``: the serving database's publication, and its alternative, measured.

Publishes a home's current snapshot to a fresh database on the PostgreSQL server and prints:

* the publication's time and the swap's lock time (how long readers could not read), with a
  reader in the middle of a transaction and without;
* the alternative design the row-level security was chosen over: each ministry's rows copied
  into a schema of its own (what a ministry may read, and nothing else). Its copy time, size
  and table count beside the shared tables', the time of a ministry's typical query on both;
* what a ministry can infer of another's rows on each: the energy ministry's estimate of how
  many rows medicine has in ``indicators.fct_indicator_values``, through the planner's
  estimates (``explain``) with column statistics on (as before) and off (as now), and through
  ``pg_class.reltuples`` of medicine's own table under the alternative.

    python -m bench.serving --home bench/.data/runs/sf1 [--dsn postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from maglumat.settings import MaglumatPaths
from warehouse.duck import read_only_connection
from warehouse.serving import (
    ServedTable,
    ServingRoles,
    publish_to_postgres,
    read_ministries,
    read_row_keys,
    served_tables,
)
from warehouse.serving.publish import copy_table
from warehouse.serving.users import add_user
from warehouse.snapshot import current_snapshot

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LONG_TABLE = "indicators.fct_indicator_values"  # a fixed name: the f-strings below are safe
TYPICAL_QUERY = (
    "select indicator_id, period_type, count(*), sum(value) from {table}"
    " where region_level = 'province' group by 1, 2"
)


def _readers(table: ServedTable, ministry_id: str, roles: ServingRoles) -> bool:
    kind = table.access.kind
    if kind == "government_only":
        return False
    if kind == "one_sector":
        owner = roles.ministry_of_sector(table.access.sector or "")
        return owner is not None and owner.ministry_id == ministry_id
    return True


def per_ministry_schemas(snapshot_path: Path, dsn: str) -> dict[str, float]:
    """The alternative: every ministry's readable rows COPYed into ``alt_<ministry>``."""
    snapshot = read_only_connection(snapshot_path)
    ministries = read_ministries(snapshot)
    roles = ServingRoles("bench_", ministries)
    tables = served_tables(snapshot)
    keys = read_row_keys(snapshot)
    started = time.monotonic()
    table_count = 0
    with psycopg.connect(dsn, autocommit=True) as pg:
        for ministry in ministries:
            schema = f"alt_{ministry.ministry_id}"
            pg.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
            for table in tables:
                if not _readers(table, ministry.ministry_id, roles):
                    continue
                condition = "true"
                if table.access.kind not in ("shared", "one_sector"):
                    values = keys.values(table.access.kind, ministry)
                    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
                    condition = f'"{table.access.column}" in ({quoted})' if values else "false"
                target = sql.Identifier(schema, f"{table.schema}__{table.name}")
                copy_table(pg, snapshot, table, target, condition)
                pg.execute(sql.SQL("analyze {}").format(target))
                table_count += 1
        seconds = time.monotonic() - started
        (size,) = pg.execute(
            "select sum(pg_total_relation_size(c.oid)) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname like 'alt\\_%' and c.relkind = 'r'"
        ).fetchone() or (0,)
    snapshot.close()
    return {"seconds": seconds, "bytes": float(size or 0), "tables": float(table_count)}


def _estimate(pg: psycopg.Connection, query: str, parameters: list) -> float:
    (plan,) = pg.execute(f"explain (format json) {query}", parameters).fetchone() or (None,)
    return float(plan[0]["Plan"]["Plan Rows"])


def _inferred(pg: psycopg.Connection, query: str, parameters: list) -> float:
    """A ministry's best guess from the planner: the estimate for the other ministry's values,
    with its own row policy's share divided out (the planner multiplies the two), times the
    table's total, which pg_class shows everyone."""
    everything = _estimate(pg, f"select * from {LONG_TABLE}", [])  # noqa: S608 - a fixed table name
    (total,) = pg.execute(
        "select reltuples from pg_class where oid = %s::regclass", [LONG_TABLE]
    ).fetchone() or (0,)
    return _estimate(pg, query, parameters) / everything * float(total)


def _median_ms(pg: psycopg.Connection, query: str, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        pg.execute(query).fetchall()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.serving", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="a MAGLUMAT_HOME with a snapshot")
    parser.add_argument(
        "--dsn",
        default=os.environ.get(
            "MAGLUMAT_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server where a fresh database may be created and dropped",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    arguments = parser.parse_args(argv)
    snapshot = current_snapshot(MaglumatPaths(arguments.home))
    if snapshot is None:
        print(
            f"bench.serving: {arguments.home} has no snapshot: run the pipeline there",
            file=sys.stderr,
        )
        return 2
    token = secrets.token_hex(4)
    database, prefix = f"maglumat_bench_{token}", f"bench{token}_"
    people = f"benchperson{token}_"
    server = psycopg.connect(arguments.dsn, autocommit=True)
    server.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    dsn = make_conninfo(arguments.dsn, dbname=database)
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line)
        lines.append(line)

    try:
        first = publish_to_postgres(snapshot.path, snapshot.snapshot_id, dsn, prefix)
        energy = add_user(dsn, prefix, f"{people}energy", "energy", secrets.token_urlsafe(16)).name
        again = publish_to_postgres(snapshot.path, snapshot.snapshot_id, dsn, prefix)

        # A reader's transaction open on the tables, ending 2 s after the swap starts to wait.
        reader = psycopg.connect(make_conninfo(dsn, user=energy), autocommit=True)
        reader.execute("begin")
        reader.execute("select count(*) from marts.dim_dates")
        timer = threading.Timer(2.0, lambda: reader.execute("commit"))

        def on_wait(message: str) -> None:
            if message.startswith("the swap waits for") and not timer.is_alive():
                timer.start()

        waited = publish_to_postgres(snapshot.path, snapshot.snapshot_id, dsn, prefix, log=on_wait)
        timer.join()
        reader.close()

        with psycopg.connect(dsn, autocommit=True) as pg:
            (rls_size,) = pg.execute(
                "select sum(pg_total_relation_size(c.oid)) from pg_class c"
                " join pg_namespace n on n.oid = c.relnamespace"
                " where n.nspname in ('marts', 'indicators') and c.relkind = 'r'"
            ).fetchone() or (0,)
        rls_bytes = float(rls_size or 0)
        alternative = per_ministry_schemas(snapshot.path, dsn)

        duck = read_only_connection(snapshot.path)
        medicine_ids = [
            row[0]
            for row in duck.execute(
                "select indicator_id from indicators.dim_indicators where ministry_id = 'health'"
            ).fetchall()
        ]
        (medicine_rows,) = duck.execute(
            f"select count(*) from {LONG_TABLE} where indicator_id = any(?)",  # noqa: S608
            [medicine_ids],
        ).fetchone() or (0,)
        (total_rows,) = duck.execute(f"select count(*) from {LONG_TABLE}").fetchone() or (0,)  # noqa: S608 - a fixed table name
        duck.close()
        query = f"select * from {LONG_TABLE} where indicator_id = any(%s)"  # noqa: S608 - a fixed table name
        with psycopg.connect(dsn, autocommit=True) as admin:
            columns = [
                row[0]
                for row in admin.execute(
                    "select attname from pg_attribute where attrelid = %s::regclass"
                    " and attnum > 0 and not attisdropped",
                    [LONG_TABLE],
                ).fetchall()
            ]
            admin.execute("grant usage on schema alt_energy to " + f'"{prefix}energy"')
            admin.execute(
                "grant select on all tables in schema alt_energy to " + f'"{prefix}energy"'
            )

            def statistics_target(target: int) -> None:
                for column in columns:
                    admin.execute(
                        sql.SQL("alter table {} alter column {} set statistics {}").format(
                            sql.Identifier(*LONG_TABLE.split(".")),
                            sql.Identifier(column),
                            sql.Literal(target),
                        )
                    )
                admin.execute(sql.SQL("analyze {}").format(sql.Identifier(*LONG_TABLE.split("."))))

            with psycopg.connect(make_conninfo(dsn, user=energy), autocommit=True) as pg:
                blind = _inferred(pg, query, [medicine_ids])
                statistics_target(-1)
                seeing = _inferred(pg, query, [medicine_ids])
                rls_with_statistics_ms = _median_ms(pg, TYPICAL_QUERY.format(table=LONG_TABLE))
                statistics_target(0)
                rls_ms = _median_ms(pg, TYPICAL_QUERY.format(table=LONG_TABLE))
                own_ms = _median_ms(
                    pg, TYPICAL_QUERY.format(table="alt_energy.indicators__fct_indicator_values")
                )
                (medicine_reltuples,) = pg.execute(
                    # pg_class is every role's to read, the schema's privileges aside.
                    "select reltuples from pg_class as c"
                    " inner join pg_namespace as n on c.relnamespace = n.oid"
                    " where n.nspname = 'alt_health'"
                    " and c.relname = 'indicators__fct_indicator_values'"
                ).fetchone() or (0,)
                (shared_reltuples,) = pg.execute(
                    "select reltuples from pg_class where oid = %s::regclass", [LONG_TABLE]
                ).fetchone() or (0,)

        def error(estimate: float) -> str:
            return f"{abs(estimate - medicine_rows) / medicine_rows * 100:.1f} %"

        rows = sum(first.table_rows.values())
        say(f"# Serving database, {dt.date.today().isoformat()}: snapshot {snapshot.snapshot_id}")
        say(f"{len(first.table_rows)} tables, {rows:,} rows; {LONG_TABLE} {total_rows:,} rows,"
            f" medicine's {medicine_rows:,}")  # fmt: skip
        say()
        say("| publication | seconds | swap lock (readers cannot read) | swap attempts |")
        say("| --- | --- | --- | --- |")
        for label, publication in (
            ("first (empty database)", first),
            ("again, no reader", again),
            ("again, a reader's transaction open 2 s into the swap", waited),
        ):
            lock_ms = publication.swap_lock_seconds * 1000
            say(
                f"| {label} | {publication.seconds:.1f} | {lock_ms:.0f} ms"
                f" | {publication.swap_attempts} |"
            )
        say()
        copy_ratio = alternative["seconds"] / again.seconds
        size_ratio = alternative["bytes"] / max(rls_bytes, 1)
        say("| design | copy seconds | size | tables | energy's typical query |")
        say("| --- | --- | --- | --- | --- |")
        say(
            f"| row-level security on shared tables (chosen) | {again.seconds:.1f} |"
            f" {rls_bytes / 2**20:.0f} MiB | {len(first.table_rows)} | {rls_ms:.0f} ms"
            f" (statistics on: {rls_with_statistics_ms:.0f} ms) |"
        )
        say(
            f"| a schema per ministry | {alternative['seconds']:.1f} ({copy_ratio:.1f}x) |"
            f" {alternative['bytes'] / 2**20:.0f} MiB ({size_ratio:.1f}x) |"
            f" {alternative['tables']:.0f} | {own_ms:.0f} ms ({own_ms / rls_ms:.2f}x) |"
        )
        say()
        say(f"What energy can tell of medicine's {medicine_rows:,} rows in {LONG_TABLE}:")
        say()
        say("| through | energy's figure | off by |")
        say("| --- | --- | --- |")
        say(f"| `explain`, column statistics on (before) | {seeing:,.0f} | {error(seeing)} |")
        say(f"| `explain`, column statistics off (now) | {blind:,.0f} | {error(blind)} |")
        say(
            "| `pg_class.reltuples` of the shared table: all ministries together"
            f" | {shared_reltuples:,.0f} | (the total) |"
        )
        say(
            "| `pg_class.reltuples` of medicine's own table, a schema per ministry"
            f" | {medicine_reltuples:,.0f} | {error(medicine_reltuples)} |"
        )
    finally:
        server.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
        )
        for (role,) in server.execute(
            "select rolname from pg_roles where starts_with(rolname, %s)"
            " or starts_with(rolname, %s) order by rolcanlogin desc, rolname",
            [prefix, people],
        ).fetchall():
            server.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))
        server.close()
    arguments.results.mkdir(parents=True, exist_ok=True)
    out = arguments.results / f"{dt.date.today().isoformat()}-serving-{arguments.home.name}.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
