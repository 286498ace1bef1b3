"""A row committed after a later one (its cursor value earlier than the mark already landed)
is landed on the next run, on SQLite, PostgreSQL and MariaDB: the extractor reads a time cursor
again from `late_commit_seconds` before the mark and leaves out what was landed."""

from __future__ import annotations

import datetime as dt

import pytest

from maglumat.catalogue import Delivery, SourceSystem, SourceTable
from maglumat.settings import MaglumatPaths
from pipelines.extract.dbapi import connect
from pipelines.ingest import extract_to_landing
from pipelines.landing import high_water_mark, list_batches, read_batch

NOON = dt.datetime(2023, 9, 1, 12, 0)


def _system(late_commit_seconds: float) -> SourceSystem:
    table = SourceTable(
        name="dispatch_notes",
        business_key=("note_id",),
        mode="incremental",
        cursor="updated_at",
        options={"late_commit_seconds": late_commit_seconds},
    )
    return SourceSystem(
        name="late_commit_source",
        sector="processing",
        ministry="test",
        kind="sql",
        connection_env="MAGLUMAT_LATE_COMMIT_SOURCE_DSN",
        demo_connection=None,
        delivery=Delivery(every="day", expected_by="10:00", timezone="Asia/Ashgabat"),
        tables=(table,),
    )


def _commit(dsn: str, rows: list[tuple[int, float, dt.datetime]]) -> None:
    connection, dialect = connect(dsn)
    try:
        cursor = connection.cursor()
        cursor.execute(
            "create table if not exists dispatch_notes"
            " (note_id integer, quantity double precision, updated_at timestamp)"
        )
        marks = ", ".join([dialect.placeholder] * 3)
        for row in rows:
            cursor.execute(f"insert into dispatch_notes values ({marks})", list(row))
        connection.commit()
    finally:
        connection.close()


def _landed(paths: MaglumatPaths, system: SourceSystem) -> list[tuple[int, float]]:
    rows = []
    for manifest in list_batches(paths.landing, system.name, "dispatch_notes"):
        frame = read_batch(paths.landing, manifest)
        rows += list(zip(frame["note_id"].to_list(), frame["quantity"].to_list(), strict=True))
    return sorted(rows)


def _late_original_lands(
    dsn: str, paths: MaglumatPaths, monkeypatch: pytest.MonkeyPatch, seconds: float
) -> list[tuple[int, float]]:
    monkeypatch.setenv("MAGLUMAT_LATE_COMMIT_SOURCE_DSN", dsn)
    system = _system(seconds)
    table = system.tables[0]
    _commit(dsn, [(1, 10.0, NOON), (2, 20.0, NOON + dt.timedelta(minutes=5))])
    extract_to_landing(paths, system, table)
    # Note 4 (12:10) commits first; note 3, stamped 12:07 when its transaction began, after it.
    _commit(dsn, [(4, 40.0, NOON + dt.timedelta(minutes=10))])
    extract_to_landing(paths, system, table)
    _commit(dsn, [(3, 30.0, NOON + dt.timedelta(minutes=7))])
    extract_to_landing(paths, system, table)
    mark = high_water_mark(paths.landing, system.name, table.name)
    assert mark is not None
    assert "12:10" in mark, "the mark never goes back"
    # A run with nothing new lands nothing (the rows read again are all landed).
    assert extract_to_landing(paths, system, table).manifests == []
    return _landed(paths, system)


ALL_FOUR = [(1, 10.0), (2, 20.0), (3, 30.0), (4, 40.0)]


def test_sqlite(maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    dsn = f"sqlite:///{maglumat_home.systems}/late.sqlite"
    assert _late_original_lands(dsn, maglumat_home, monkeypatch, 3600) == ALL_FOUR


def test_without_the_look_back_the_late_row_is_lost(
    maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = f"sqlite:///{maglumat_home.systems}/late.sqlite"
    landed = _late_original_lands(dsn, maglumat_home, monkeypatch, 0)
    assert (3, 30.0) not in landed  # what `late_commit_seconds: 0` gives up


@pytest.mark.postgres
def test_postgresql(
    postgres_dsn: str, maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _late_original_lands(postgres_dsn, maglumat_home, monkeypatch, 3600) == ALL_FOUR


@pytest.mark.mariadb
def test_mariadb(
    mariadb_dsn: str, maglumat_home: MaglumatPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _late_original_lands(mariadb_dsn, maglumat_home, monkeypatch, 3600) == ALL_FOUR
