"""The all-sector snapshot published into a fresh database of the real PostgreSQL server, then
read as each ministry's role (psycopg and psql) and checked against the snapshot itself: every
table arrives whole, each ministry sees exactly its own rows, the planner tells nothing of
others' rows, no role can write, and no personal records are served."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import duckdb
import psycopg
import pytest
from psycopg import errors
from psycopg.conninfo import make_conninfo

from maglumat.settings import MaglumatPaths
from tests.serving_support import ServingDatabase, fresh_database
from tests.serving_support import served_tables as _served
from warehouse.duck import read_only_connection
from warehouse.serving import PERSONAL_COLUMN, Publication, publish_to_postgres
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
