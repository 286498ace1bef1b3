"""The PostgreSQL serving database: published from the all-sector snapshot into a fresh
database of the real server, then read as each ministry's role (psycopg and psql) and checked
against the snapshot itself; swapped atomically under a reader; no role can write."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from maglumat.settings import MaglumatPaths
from pipelines.assets.serving import (
    SERVING_DSN_ENV,
    SERVING_KEY,
    ServingDatabaseResource,
    build_serving_asset,
    build_serving_assets,
)
from pipelines.assets.transform import manifest_path
from pipelines.resources import MaglumatResource
from tests.serving_support import ServingDatabase, fresh_database, small_snapshot
from warehouse.duck import read_only_connection
from warehouse.serving import (
    PERSONAL_COLUMN,
    Publication,
    ServingError,
    postgres_type,
    publish_to_postgres,
    table_access,
)
from warehouse.serving.access import DECLARED_ACCESS
from warehouse.snapshot import Snapshot, current_snapshot

pytestmark = pytest.mark.postgres

REFERENCE_DIMENSIONS = ("dim_regions", "dim_dates", "dim_ministries", "dim_breakdowns")
AGRICULTURE_CAMPAIGN_TABLES = (
    "dim_campaigns",
    "dim_farms",
    "fct_campaign_daily_progress",
    "ind_campaign_progress",
    "ind_lagging_districts",
)


@pytest.fixture(scope="module")
def serving_db() -> Iterator[ServingDatabase]:
    with fresh_database() as database:
        yield database


@pytest.fixture(scope="module")
def snapshot(all_sectors: MaglumatPaths) -> Snapshot:
    published = current_snapshot(all_sectors)
    assert published is not None
    return published


@pytest.fixture(scope="module")
def publication(serving_db: ServingDatabase, snapshot: Snapshot) -> Publication:
    return publish_to_postgres(
        snapshot.path, snapshot.snapshot_id, serving_db.dsn, serving_db.role_prefix
    )


@pytest.fixture
def duck(snapshot: Snapshot) -> Iterator[duckdb.DuckDBPyConnection]:
    # Closed after each test: a second locked read-only connection to the same file in one
    # process is refused, and the publisher opens one.
    connection = read_only_connection(snapshot.path)
    yield connection
    connection.close()


def _ministries(duck: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = duck.execute("select ministry_id, sectors from marts.dim_ministries").fetchall()
    return {ministry: [s.strip() for s in sectors.split(",")] for ministry, sectors in rows}


def _served(duck: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """The snapshot's marts and indicators (dbt keeps its intermediate steps elsewhere)."""
    rows = duck.execute(
        "select table_schema || '.' || table_name, column_name, data_type"
        " from information_schema.columns where table_schema in ('marts', 'indicators')"
        " order by table_schema, table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for address, column, data_type in rows:
        tables.setdefault(address, []).append((column, data_type))
    return tables


def _measure(columns: list[tuple[str, str]]) -> str:
    """count(*) and the sum of the table's first numeric column, as text both sides agree on."""
    numeric = next(
        (c for c, t in columns if re.match(r"^(DOUBLE|DECIMAL|INTEGER|BIGINT)", t)), None
    )
    return f"count(*), {f'sum({numeric})' if numeric else 'null'}"


def _own_sector(table: str, sectors: list[str]) -> bool | None:
    """Whether a single-sector table is the ministry's; None when the table is shared."""
    all_sectors = [
        "agriculture", "livestock", "fuel_energy", "chemical", "processing", "construction",
        "transport", "telecom", "medicine", "textile", "edocument",
    ]  # fmt: skip
    named = [s for s in all_sectors if f"_{s}_" in f"_{table}_"]
    if table in AGRICULTURE_CAMPAIGN_TABLES:
        named = ["agriculture"]
    if not named:
        return None
    return named[0] in sectors


def _expected_filter(
    table: str, columns: list[str], ministry: str, sectors: list[str]
) -> str | None:
    """The rows a ministry may see, as a DuckDB condition; None when it may not read the table.
    This is the access contract written out independently of the code under test."""
    quoted = ", ".join(f"'{s}'" for s in sectors)
    if table in REFERENCE_DIMENSIONS:
        return "true"
    own = _own_sector(table, sectors)
    if own is not None:
        return "true" if own else None
    if "ministry_id" in columns:
        return f"ministry_id = '{ministry}'"
    if "sector" in columns:
        return f"sector in ({quoted})"
    if "indicator_id" in columns:
        return (
            "indicator_id in (select indicator_id from indicators.dim_indicators"
            f" where ministry_id = '{ministry}')"
        )
    if "system_name" in columns:
        return (
            "system_name in (select system_name from reference.ref_delivery_schedules"
            f" where sector in ({quoted}))"
        )
    return None


def _same(pg_value: tuple, duck_value: tuple) -> bool:
    count_pg, sum_pg = pg_value
    count_duck, sum_duck = duck_value
    if count_pg != count_duck:
        return False
    if sum_pg is None or sum_duck is None:
        return sum_pg is None and sum_duck is None
    return float(sum_pg) == pytest.approx(float(sum_duck), rel=1e-9, abs=1e-6)


# --- pure functions --------------------------------------------------------------------------


def test_duckdb_types_map_to_postgres_types() -> None:
    assert postgres_type("DATE") == "date"
    assert postgres_type("TIMESTAMP WITH TIME ZONE") == "timestamptz"
    assert postgres_type("DECIMAL(18,3)") == "numeric(18,3)"
    assert postgres_type("BOOLEAN") == "boolean"
    assert postgres_type("VARCHAR[]") == "text[]"
    assert postgres_type("INTEGER[][]") == "jsonb"
    assert postgres_type("STRUCT(a INTEGER, b VARCHAR)") == "jsonb"
    assert postgres_type("UBIGINT") == "numeric(20,0)"


def test_tables_are_shared_as_their_model_declares() -> None:
    assert table_access("dim_regions", ["region_id"], "shared").kind == "shared"
    medicine = table_access("fct_medicine_facility_monthly", ["value"], "sector", "medicine")
    assert (medicine.kind, medicine.sector) == ("one_sector", "medicine")
    values = table_access("fct_indicator_values", ["indicator_id", "value"], "rows")
    assert (values.kind, values.column) == ("indicator_rows", "indicator_id")
    enterprises = table_access("dim_enterprises", ["sector", "ministry_id"], "rows")
    assert enterprises.kind == "ministry_rows"
    assert table_access("fct_source_quality", ["system_name"], "rows").kind == "system_rows"
    assert table_access("fct_something_new", ["value"], None).kind == "government_only"
    assert table_access("fct_something_new", ["value"], "government").kind == "government_only"
    with pytest.raises(ServingError, match="meta access is rows, but it has none of the columns"):
        table_access("fct_unkeyed", ["value"], "rows")
    with pytest.raises(ServingError, match="meta access is sector, but it names no meta sector"):
        table_access("fct_unowned", ["value"], "sector")
    with pytest.raises(ServingError, match="meta access 'public' is not one of internal, shared"):
        table_access("fct_open", ["value"], "public")


def test_every_published_model_declares_who_may_read_it() -> None:
    """Each model of the published schemas says its access in dbt_project.yml (or its own
    config); a sector's tables name their sector; intermediate models are internal."""
    manifest = json.loads(Path(manifest_path()).read_text(encoding="utf-8"))
    declared = {
        (node["config"]["schema"], node["name"]): node["config"].get("meta") or {}
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    problems = [
        f"{schema}.{name}: {meta}"
        for (schema, name), meta in sorted(declared.items())
        if (schema in ("marts", "indicators") and meta.get("access") not in DECLARED_ACCESS)
        or (meta.get("access") == "sector" and not meta.get("sector"))
        or (schema in ("staging", "intermediate") and meta.get("access") != "internal")
    ]
    assert problems == []
    sectors = {meta.get("sector") for (schema, _), meta in declared.items() if schema == "marts"}
    assert {"agriculture", "fuel_energy", "medicine", "textile", "edocument"} <= sectors


def test_columns_that_identify_a_person_are_recognised() -> None:
    for name in ("patient_id", "person_code", "date_of_birth", "passport_number", "full_name"):
        assert PERSONAL_COLUMN.search(name), name
    for name in ("births_head", "outpatient_visits", "inpatient_admissions", "beds"):
        assert not PERSONAL_COLUMN.search(name), name


def test_the_asset_exists_only_when_the_dsn_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVING_DSN_ENV, raising=False)
    assert build_serving_assets() == []
    monkeypatch.setenv(SERVING_DSN_ENV, "postgresql://owner@127.0.0.1:5432/maglumat_serving")
    from pipelines.definitions import build_definitions

    definitions = build_definitions()
    graph = definitions.resolve_asset_graph()
    assert SERVING_KEY in graph.get_all_asset_keys()
    assert dg.AssetKey(["snapshot", "warehouse"]) in graph.get(SERVING_KEY).parent_keys
    daily = definitions.resolve_job_def("maglumat_daily")
    assert SERVING_KEY in daily.asset_layer.selected_asset_keys


# --- the all-sector publication, read as each role ------------------------------------------


def test_publication_holds_every_table_of_the_snapshot(
    publication: Publication, serving_db: ServingDatabase, duck: duckdb.DuckDBPyConnection
) -> None:
    served = _served(duck)
    assert set(publication.table_rows) == set(served)
    assert publication.closed_tables == []
    with serving_db.admin() as pg:
        recorded = pg.execute(
            "select snapshot_id, table_count, row_count, table_rows from serving.publications"
        ).fetchall()
        assert recorded == [
            (
                publication.snapshot_id,
                len(served),
                sum(publication.table_rows.values()),
                publication.table_rows,
            )
        ]
        for address in served:
            (count,) = duck.execute(f"select count(*) from {address}").fetchone() or (None,)
            assert publication.table_rows[address] == count, address
            assert pg.execute(f"select count(*) from {address}").fetchone() == (count,), address
        # Types survive: dates, zoned timestamps, decimals and booleans, compared exactly.
        for query in (
            "select min(report_date), max(report_date) from marts.fct_campaign_daily_progress",
            "select max(last_extracted_at) from marts.fct_source_quality",
            "select sum(is_reconciled::int) from marts.fct_source_quality",
        ):
            assert pg.execute(query).fetchone() == duck.execute(query).fetchone(), query
        # dbt's descriptions travel along, for the tools that show them.
        description = "select comment from duckdb_columns() where schema_name = 'indicators'"
        description += " and table_name = 'dim_indicators' and column_name = 'name_tk'"
        assert (
            pg.execute(
                "select col_description(attrelid, attnum) from pg_attribute"
                " where attrelid = 'indicators.dim_indicators'::regclass and attname = 'name_tk'"
            ).fetchone()
            == duck.execute(description).fetchone()
        )
        decimals = pg.execute(
            "select table_name, column_name, numeric_precision, numeric_scale"
            " from information_schema.columns where data_type = 'numeric'"
            " and table_schema in ('marts', 'indicators') order by 1, 2"
        ).fetchall()
        expected = duck.execute(
            "select table_name, column_name, numeric_precision, numeric_scale"
            " from information_schema.columns where data_type like 'DECIMAL%'"
            " and table_schema in ('marts', 'indicators') order by 1, 2"
        ).fetchall()
        assert decimals == expected


def test_each_ministry_sees_exactly_its_own_rows_and_the_government_all(
    publication: Publication, serving_db: ServingDatabase, duck: duckdb.DuckDBPyConnection
) -> None:
    served = _served(duck)
    ministries = _ministries(duck)
    assert len(ministries) >= 9
    government = serving_db.reader("government")
    with serving_db.as_role(government) as pg:
        for address, columns in served.items():
            measure = _measure(columns)
            seen = pg.execute(f"select {measure} from {address}").fetchone()
            whole = duck.execute(f"select {measure} from {address}").fetchone()
            assert seen is not None
            assert whole is not None
            assert _same(seen, whole), (government, address, seen, whole)

    for ministry, sectors in ministries.items():
        role = serving_db.reader(ministry)
        readable = 0
        with serving_db.as_role(role) as pg:
            for address, columns in served.items():
                names = [c for c, _ in columns]
                condition = _expected_filter(address.split(".")[1], names, ministry, sectors)
                measure = _measure(columns)
                if condition is None:
                    with pytest.raises(errors.InsufficientPrivilege):
                        pg.execute(f"select count(*) from {address}")
                    continue
                readable += 1
                seen = pg.execute(f"select {measure} from {address}").fetchone()
                own = duck.execute(f"select {measure} from {address} where {condition}")
                expected = own.fetchone()
                assert seen is not None
                assert expected is not None
                assert _same(seen, expected), (role, address, seen, expected)
        assert readable > len(REFERENCE_DIMENSIONS), role


def test_a_ministry_sees_only_its_indicators_and_not_another_ministrys_tables(
    publication: Publication, serving_db: ServingDatabase, duck: duckdb.DuckDBPyConnection
) -> None:
    with serving_db.as_reader("energy") as pg:
        indicators = {
            row[0]
            for row in pg.execute(
                "select distinct indicator_id from indicators.fct_indicator_values"
            ).fetchall()
        }
        assert indicators
        assert all(indicator.startswith("fe_") for indicator in indicators), indicators
        with pytest.raises(errors.InsufficientPrivilege):
            pg.execute("select * from marts.fct_medicine_facility_monthly limit 1")
        assert pg.execute("select count(*) from marts.fct_fuel_energy_daily_production").fetchone()
    (facilities,) = duck.execute(
        "select count(*) from marts.fct_medicine_facility_monthly"
    ).fetchone() or (0,)
    with serving_db.as_reader("health") as pg:
        seen = pg.execute("select count(*) from marts.fct_medicine_facility_monthly").fetchone()
        assert seen == (facilities,)
        assert facilities > 0


def _estimated_rows(pg: psycopg.Connection, query: str, parameters: list) -> float:
    (plan,) = pg.execute(f"explain (format json) {query}", parameters).fetchone() or (None,)
    return float(plan[0]["Plan"]["Plan Rows"])


def test_the_planner_tells_a_ministry_nothing_of_another_ministrys_rows(
    publication: Publication, serving_db: ServingDatabase, duck: duckdb.DuckDBPyConnection
) -> None:
    """Energy asks the planner how many of medicine's rows a shared table holds: the estimate
    is the same as for values that do not exist. What every role does see is the table's total
    (pg_class.reltuples), as docs/bi-guide.md says."""
    medicine = [
        row[0]
        for row in duck.execute(
            "select distinct indicator_id from indicators.fct_indicator_values"
            " where indicator_id in (select indicator_id from indicators.dim_indicators"
            " where ministry_id = 'health')"
        ).fetchall()
    ]
    (medicine_rows,) = duck.execute(
        "select count(*) from indicators.fct_indicator_values where indicator_id = any(?)",
        [medicine],
    ).fetchone() or (0,)
    total = duck.execute("select count(*) from indicators.fct_indicator_values").fetchone()
    assert medicine
    assert medicine_rows > 100
    invented = [f"no_such_indicator_{number}" for number in range(len(medicine))]
    query = "select * from indicators.fct_indicator_values where indicator_id = any(%s)"
    facility = "select * from indicators.fct_indicator_values where breakdown = %s"
    (a_facility,) = duck.execute(
        "select breakdown from indicators.fct_indicator_values"
        " where starts_with(breakdown, 'medicine_facility_reports:') limit 1"
    ).fetchone() or (None,)
    assert a_facility is not None
    with serving_db.as_reader("energy") as pg:
        assert _estimated_rows(pg, query, [medicine]) == _estimated_rows(pg, query, [invented])
        assert _estimated_rows(pg, facility, [a_facility]) == _estimated_rows(
            pg, facility, ["nothing"]
        )
        (reltuples,) = pg.execute(
            "select reltuples from pg_class where oid = 'indicators.fct_indicator_values'::regclass"
        ).fetchone() or (None,)
        assert total is not None
        assert reltuples == pytest.approx(total[0], rel=0.1)  # ANALYZE samples a few rows
    with serving_db.admin() as pg:
        assert pg.execute(
            "select count(*) from pg_stats"
            " where schemaname = 'indicators' and tablename = 'fct_indicator_values'"
        ).fetchone() == (0,)
    # The same question through psql.
    psql = shutil.which("psql")
    if psql is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but the psql client is not installed")
        pytest.skip("the psql client is not installed on this machine")
    estimates = []
    for values in (medicine, invented):
        array = "array[" + ", ".join(f"'{value}'" for value in values) + "]"
        shown = subprocess.run(
            [psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-d", make_conninfo(serving_db.dsn, user=serving_db.reader("energy")),
             "-c", "explain select * from indicators.fct_indicator_values"
                   f" where indicator_id = any({array})"],
            capture_output=True, text=True, timeout=60, check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        estimates.append(re.search(r"rows=(\d+)", shown.stdout).group(1))  # type: ignore[union-attr]
    assert estimates[0] == estimates[1]


def test_no_role_can_write_create_or_use_temporary_tables(
    publication: Publication, serving_db: ServingDatabase
) -> None:
    for ministry in ("textile", "government"):
        with serving_db.as_reader(ministry) as pg:
            with pytest.raises(errors.ReadOnlySqlTransaction):
                pg.execute("delete from marts.dim_regions")
            # Even a session that turns read-only off has no privilege to write anything.
            pg.execute("set default_transaction_read_only = off")
            for statement in (
                "insert into marts.dim_regions (region_id) values ('x')",
                "update marts.dim_regions set region_id = region_id",
                "delete from marts.dim_regions",
                "truncate marts.dim_regions",
                "create table public.mine (x int)",
                "create table marts.mine (x int)",
                "create schema mine",
                "create temporary table mine (x int)",
                "insert into serving.publications (snapshot_id) values ('x')",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    pg.execute(statement)


def test_no_personal_medical_records_reach_the_serving_database(
    publication: Publication, serving_db: ServingDatabase
) -> None:
    with serving_db.admin() as pg:
        columns = pg.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema in ('marts', 'indicators')"
        ).fetchall()
        assert columns
        assert [c for c in columns if PERSONAL_COLUMN.search(c[1])] == []
        # The health ministry's facts are per facility and month (or product), not per person.
        grain = pg.execute(
            "select count(*), count(distinct (enterprise_id, report_month))"
            " from marts.fct_medicine_facility_monthly"
        ).fetchone()
        assert grain is not None
        assert grain[0] == grain[1] > 0


def test_psql_as_a_ministry_role(
    publication: Publication, serving_db: ServingDatabase, duck: duckdb.DuckDBPyConnection
) -> None:
    psql = shutil.which("psql")
    if psql is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but the psql client is not installed")
        pytest.skip("the psql client is not installed on this machine")
    conninfo = make_conninfo(serving_db.dsn, user=serving_db.reader("agriculture"))
    (expected,) = duck.execute(
        "select count(*) from indicators.fct_indicator_values where indicator_id in"
        " (select indicator_id from indicators.dim_indicators where ministry_id = 'agriculture')"
    ).fetchone() or (None,)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    shown = subprocess.run(
        [psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c",
         "select count(*), count(distinct indicator_id) > 0 from indicators.fct_indicator_values"],
        capture_output=True, text=True, env=environment, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == f"{expected}|t"
    refused = subprocess.run(
        [psql, "-X", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c",
         "select count(*) from marts.fct_textile_mill_monthly_output"],
        capture_output=True, text=True, env=environment, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "permission denied" in refused.stderr


# --- swapping -------------------------------------------------------------------------------

WATCHED = (
    "indicators.fct_indicator_values",
    "marts.fct_campaign_daily_progress",
    "marts.dim_enterprises",
)


def _counts(pg: psycopg.Connection) -> tuple[int, ...]:
    return tuple(
        row[0]
        for table in WATCHED
        for row in [pg.execute(f"select count(*) from {table}").fetchone()]
        if row is not None
    )


def _pinned_read(pg: psycopg.Connection) -> tuple[str, tuple[int, ...]]:
    """One reader's transaction: which snapshot, and the watched tables' counts in it."""
    with pg.transaction():
        row = pg.execute("select snapshot_id from serving.publication").fetchone()
        assert row is not None
        return row[0], _counts(pg)


@pytest.mark.slow
def test_a_second_publish_swaps_atomically_under_readers_and_leaves_nothing_behind(
    publication: Publication, serving_db: ServingDatabase, snapshot: Snapshot, tmp_path: Path
) -> None:
    # A second snapshot whose watched tables differ from the first.
    changed = tmp_path / "warehouse.duckdb"
    shutil.copyfile(snapshot.path, changed)
    changed.chmod(0o644)
    with duckdb.connect(str(changed)) as writer:
        writer.execute("delete from indicators.fct_indicator_values where period_type = 'day'")
        writer.execute(
            "delete from marts.fct_campaign_daily_progress where report_date < '2023-09-01'"
        )
        writer.execute("delete from marts.dim_enterprises where sector = 'transport'")
        second_counts = tuple(
            writer.execute(f"select count(*) from {table}").fetchone()[0] for table in WATCHED
        )
    second_id = f"{snapshot.snapshot_id}-second"
    with serving_db.as_reader("government") as pg:
        first_id, first_counts = _pinned_read(pg)
    assert first_id == publication.snapshot_id
    assert first_counts != second_counts
    expected = {first_id: first_counts, second_id: second_counts}

    observed: list[tuple[str, tuple[int, ...]]] = []
    stop = threading.Event()

    def keep_reading() -> None:
        with serving_db.as_reader("government") as pg:
            pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            while not stop.is_set():
                observed.append(_pinned_read(pg))

    swap_waits = threading.Event()
    outcome: dict[str, Publication | BaseException] = {}

    def publish_second() -> None:
        try:
            outcome["publication"] = publish_to_postgres(
                changed,
                second_id,
                serving_db.dsn,
                serving_db.role_prefix,
                log=lambda message: swap_waits.set() if "waits" in message else None,
            )
        except BaseException as error:  # reported by the test thread
            outcome["error"] = error

    reader = threading.Thread(target=keep_reading)
    publisher = threading.Thread(target=publish_second)
    held = serving_db.as_reader("government")
    held.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    try:
        reader.start()
        with held.transaction():
            # A long transaction that has read the first version: the swap must wait for it.
            row = held.execute("select snapshot_id from serving.publication").fetchone()
            assert row == (first_id,)
            assert _counts(held) == first_counts
            publisher.start()
            assert swap_waits.wait(timeout=120), outcome
            assert _counts(held) == first_counts
            assert held.execute("select snapshot_id from serving.publication").fetchone() == row
        publisher.join(timeout=300)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(i == second_id for i, _ in observed):
            time.sleep(0.1)
    finally:
        stop.set()
        reader.join(timeout=60)
        held.close()
    assert "error" not in outcome, outcome.get("error")
    second = outcome["publication"]
    assert isinstance(second, Publication)
    assert second.swap_attempts > 1

    assert len(observed) > 3
    for snapshot_id, counts in observed:
        assert counts == expected[snapshot_id], (snapshot_id, counts)
    assert {snapshot_id for snapshot_id, _ in observed} == {first_id, second_id}

    # Publishing again leaves only the live schemas, and every publication is recorded.
    third = publish_to_postgres(
        snapshot.path, snapshot.snapshot_id, serving_db.dsn, serving_db.role_prefix
    )
    with serving_db.admin() as pg:
        schemas = {
            row[0]
            for row in pg.execute(
                "select nspname from pg_namespace"
                " where nspname not like 'pg\\_%' and nspname <> 'information_schema'"
            ).fetchall()
        }
        assert schemas == {"public", "serving", "marts", "indicators", "maglumat_control"}
        history = pg.execute(
            "select snapshot_id from serving.publications order by publication_id"
        ).fetchall()
        assert [r[0] for r in history][-2:] == [second_id, third.snapshot_id]
        assert _counts(pg) == first_counts


# --- types and safety on a small snapshot of its own -----------------------------------------


def test_types_survive_the_copy_exactly(tmp_path: Path) -> None:
    small = small_snapshot(tmp_path / "warehouse.duckdb")
    with fresh_database() as database:
        publish_to_postgres(small, "small", database.dsn, database.role_prefix)
        with database.as_reader("health") as pg:
            row = pg.execute(
                "select date_day, loaded_at, local_at, tonnes, is_working_day, share,"
                " empty_text, no_text, awkward_text, words, numbers, detail, lag,"
                " open_start::text from marts.dim_dates"
            ).fetchone()
            types = pg.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'marts' and table_name = 'dim_dates' order by 1"
            ).fetchall()
    with duckdb.connect(str(small), read_only=True) as connection:
        original = connection.execute(
            "select date_day, loaded_at, local_at, tonnes, is_working_day, share, empty_text,"
            " no_text, awkward_text, words, numbers, detail, lag from marts.dim_dates"
        ).fetchone()
    assert row is not None
    assert original is not None
    assert row[:13] == original
    assert row[13] == "-infinity"
    assert dict(types) == {
        "awkward_text": "text",
        "date_day": "date",
        "detail": "jsonb",
        "empty_text": "text",
        "is_working_day": "boolean",
        "lag": "interval",
        "loaded_at": "timestamp with time zone",
        "local_at": "timestamp without time zone",
        "no_text": "text",
        "numbers": "ARRAY",
        "open_start": "date",
        "share": "double precision",
        "tonnes": "numeric",
        "words": "ARRAY",
    }


def test_a_table_of_personal_records_is_never_served(tmp_path: Path) -> None:
    small = small_snapshot(
        tmp_path / "warehouse.duckdb",
        "create table marts.fct_medicine_admissions as select 'p1' as patient_id, 1 as days;",
    )
    with fresh_database() as database:
        with pytest.raises(ServingError, match="patient_id"):
            publish_to_postgres(small, "personal", database.dsn, database.role_prefix)
        with database.admin() as pg:
            assert pg.execute("select to_regnamespace('marts')").fetchone() == (None,)


# --- the Dagster asset -----------------------------------------------------------------------


def test_the_serving_asset_publishes_the_current_snapshot(
    all_sectors: MaglumatPaths, tmp_path: Path
) -> None:
    home = tmp_path / "maglumat"
    shutil.copytree(all_sectors.snapshots, home / "snapshots", symlinks=True)
    paths = MaglumatPaths(home=home)
    snapshot = current_snapshot(paths)
    assert snapshot is not None
    with fresh_database() as database:
        result = dg.materialize(
            [build_serving_asset()],
            resources={
                "maglumat": MaglumatResource(home=str(home)),
                "serving_database": ServingDatabaseResource(
                    dsn=database.dsn, role_prefix=database.role_prefix
                ),
            },
        )
        assert result.success
        (event,) = [
            e for e in result.get_asset_materialization_events() if e.asset_key == SERVING_KEY
        ]
        metadata = event.materialization.metadata
        assert metadata["snapshot_id"].value == snapshot.snapshot_id
        assert str(metadata["database"].value).endswith(f"/{database.name}")  # no user
        with read_only_connection(snapshot.path) as duck:
            assert metadata["tables"].value == len(_served(duck))
        with database.as_reader("cabinet") as pg:
            assert pg.execute("select snapshot_id from serving.publication").fetchone() == (
                snapshot.snapshot_id,
            )
