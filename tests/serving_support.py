"""A serving database of its own on the real PostgreSQL for each test module, its readers added
the way an administrator adds them, and a small snapshot for tests that need no pipeline run;
publishing with short patience, the psql client, and what a snapshot serves."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from tests.conftest import POSTGRES_DSN, _server_unreachable
from warehouse.docs_catalog import write_docs
from warehouse.serving import Publication, ServingPolicy, publish_to_postgres
from warehouse.serving.users import add_user

# Short patience, so that each test shows the policy in seconds.
QUICK = ServingPolicy(start_timeout_seconds=3, swap_timeout_seconds=4, reader_grace_seconds=2)


@dataclass(frozen=True)
class ServingDatabase:
    name: str
    dsn: str
    role_prefix: str
    # People's logins start with this, so that the database's roles are dropped afterwards.
    people_prefix: str

    def reader(self, ministry: str) -> str:
        """A person of ``ministry`` (added through ``add_user`` the first time)."""
        name = f"{self.people_prefix}{ministry}"
        with self.admin() as pg:
            if pg.execute("select from pg_roles where rolname = %s", [name]).fetchone() is None:
                add_user(self.dsn, self.role_prefix, name, ministry, secrets.token_urlsafe(16))
        return name

    def as_reader(self, ministry: str, **options: str) -> psycopg.Connection:
        return self.as_role(self.reader(ministry), **options)

    def as_role(self, role: str, **options: str) -> psycopg.Connection:
        return psycopg.connect(make_conninfo(self.dsn, user=role, **options), autocommit=True)

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, autocommit=True)


@contextlib.contextmanager
def fresh_database() -> Iterator[ServingDatabase]:
    """A new database on the real server and a random role prefix; both dropped afterwards."""
    try:
        server = psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        _server_unreachable(f"PostgreSQL is unreachable at {POSTGRES_DSN}: {error}")
    token = secrets.token_hex(4)
    database = f"maglumat_serving_{token}"
    prefix = f"mgt{token}_"
    people = f"person{token}_"
    server.execute(f'create database "{database}"')
    try:
        yield ServingDatabase(
            database, make_conninfo(POSTGRES_DSN, dbname=database), prefix, people
        )
    finally:
        server.execute(f'drop database if exists "{database}" with (force)')
        roles = server.execute(
            "select rolname from pg_roles where starts_with(rolname, %s)"
            " or starts_with(rolname, %s) order by starts_with(rolname, %s) desc, rolname desc",
            [prefix, people, people],
        ).fetchall()
        for (role,) in roles:
            server.execute(f'drop role "{role}"')
        server.close()


# Who may read each table of the small snapshot, as dbt's meta would declare it (a table not
# listed declares nothing).
SMALL_SNAPSHOT_ACCESS = {
    ("marts", "dim_ministries"): "shared",
    ("marts", "dim_dates"): "shared",
    ("indicators", "dim_indicators"): "rows",
}


def small_snapshot(path: Path, extra_sql: str = "") -> Path:
    """A snapshot with a few tables of every kind of column, and its ``docs`` schema written as
    publishing writes it."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            """
            create schema marts; create schema indicators; create schema reference;
            create table marts.dim_ministries as
                select 'health' as ministry_id, 'Saglygy' as name_tk, 'Минздрав' as name_ru,
                       'Health' as name_en, 'medicine' as sectors;
            create table indicators.dim_indicators as
                select 'med_beds' as indicator_id, 'medicine' as sector, 'health' as ministry_id;
            create table reference.ref_delivery_schedules as
                select 'medicine_facility_reports' as system_name, 'medicine' as sector;
            create table marts.dim_dates as select
                date '2023-10-01' as date_day,
                timestamptz '2023-10-01 06:00:00+05' as loaded_at,
                timestamp '2023-10-01 06:00:00.123456' as local_at,
                1.500::decimal(18, 3) as tonnes,
                true as is_working_day,
                0.1::double as share,
                '' as empty_text,
                null::varchar as no_text,
                'a"b,c' || chr(10) || 'ş\\ý' as awkward_text,
                ['bugdaý', null, 'a"b', '']::varchar[] as words,
                [1, 2]::integer[] as numbers,
                {'a': 1, 'b': 'x'} as detail,
                interval 3 day as lag,
                '-infinity'::date as open_start;
            """
            + extra_sql
        )
        write_docs(connection, manifest_path=None)
        for (schema, table), access in SMALL_SNAPSHOT_ACCESS.items():
            connection.execute(
                "update docs.tables set access = ? where schema_name = ? and table_name = ?",
                [access, schema, table],
            )
    return path


@contextlib.contextmanager
def published_database(snapshot: Path) -> Iterator[ServingDatabase]:
    """A fresh serving database with ``snapshot`` published in it as "first"."""
    with fresh_database() as served:
        publish_to_postgres(snapshot, "first", served.dsn, served.role_prefix)
        yield served


def publish_quickly(
    database: ServingDatabase, snapshot: Path, name: str, **policy: object
) -> tuple[Publication, list[str]]:
    """Publish ``snapshot`` as ``name`` with the ``QUICK`` policy (``policy`` overriding it);
    the publication and the messages it logged."""
    messages: list[str] = []
    publication = publish_to_postgres(
        snapshot,
        name,
        database.dsn,
        database.role_prefix,
        policy=ServingPolicy(**{**vars(QUICK), **policy}),
        log=messages.append,
    )
    return publication, messages


def in_force(database: ServingDatabase) -> str:
    """The snapshot id of the publication readers see."""
    with database.admin() as pg:
        row = pg.execute("select snapshot_id from serving.publication").fetchone()
    assert row is not None
    return row[0]


def wait_for(condition: str, database: ServingDatabase, seconds: float = 30) -> None:
    """Wait until the query ``condition`` returns a row, failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    with database.admin() as pg:
        while pg.execute(f"select exists ({condition})").fetchone() != (True,):
            assert time.monotonic() < deadline, f"never true: {condition}"
            time.sleep(0.1)


def psql_client() -> str:
    """The psql executable; the test is skipped without it (failed under CI)."""
    found = shutil.which("psql")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but the psql client is not installed")
        pytest.skip("the psql client is not installed on this machine")
    return found


def psql_environment() -> dict[str, str]:
    """The environment without the PG variables, so psql connects only where it is told."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def served_tables(duck: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
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
