"""The e-document fact by document: a daily build rebuilds only the documents whose events its
new batches bring (late executions, a deadline extended, an event delivered twice), each from
every event of that document; what moves with the log's reach ("overdue now") is recomputed for
every document; and after several days the tables equal a full rebuild, row for row."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from maglumat.clock import LOCAL_TIMEZONE
from maglumat.settings import MaglumatPaths
from simulator import edocument
from simulator.sql_database import timestamp
from tests.support import failed_checks, run_daily_job, table_fingerprint

pytestmark = pytest.mark.slow
DOCUMENTS = "intermediate.int_edocument_documents"
TABLES = [
    DOCUMENTS,
    "marts.fct_edocument_documents",
    "intermediate.int_indicator_values_edocument",
    "indicators.fct_indicator_values",
]
# Written into the documents' duplicate count, which nothing downstream adds up: a rebuilt
# document loses it.
MARKED = -1


def _morning(month: int, day: int) -> dt.datetime:
    return dt.datetime(2023, month, day, 4, tzinfo=dt.UTC)


def _run(paths: MaglumatPaths, *, full: bool = False) -> str:
    result = run_daily_job(paths, [edocument.SYSTEM], dbt_full_build=full)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    assert failed_checks(result) == []
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        (increment,) = connection.execute(  # type: ignore[misc]
            "select increment from audit.dbt_builds order by build_number desc limit 1"
        ).fetchone()
    finally:
        connection.close()
    return str(increment)


def _mark_documents(paths: MaglumatPaths) -> set[str]:
    """Mark every document delivered without duplicates; returns them."""
    connection = duckdb.connect(str(paths.warehouse))
    try:
        rows = connection.execute(
            f"update {DOCUMENTS} set duplicate_event_count = ? where duplicate_event_count = 0"
            " returning document_id",
            [MARKED],
        ).fetchall()
    finally:
        connection.close()
    return {document for (document,) in rows}


def _marked_documents(paths: MaglumatPaths) -> set[str]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = connection.execute(
            f"select document_id from {DOCUMENTS} where duplicate_event_count = ?", [MARKED]
        ).fetchall()
    finally:
        connection.close()
    return {document for (document,) in rows}


def _unmark_documents(paths: MaglumatPaths) -> None:
    connection = duckdb.connect(str(paths.warehouse))
    try:
        for table in (DOCUMENTS, "marts.fct_edocument_documents"):
            connection.execute(
                f"update {table} set duplicate_event_count = 0 where duplicate_event_count = ?",
                [MARKED],
            )
    finally:
        connection.close()


def _documents_logged_between(start: dt.datetime, end: dt.datetime) -> set[str]:
    """The documents with an event the log server wrote after ``start`` and by ``end``, from the
    simulated system's own log."""
    after, by = timestamp(start), timestamp(end)
    return {
        line.event.document_id
        for line in edocument.generate().lines
        if line.event is not None and after < line.logged_at <= by
    }


def _last_logged_date(by: dt.datetime) -> dt.date:
    last = max(line.logged_at for line in edocument.visible_lines(edocument.generate(), by))
    moment = dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TIMEZONE).date()


def _overdue_now(paths: MaglumatPaths) -> tuple[dt.date, int]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        (reach, overdue) = connection.execute(  # type: ignore[misc]
            "select max(status_as_of_date), count(*) filter (where is_overdue_now)"
            " from marts.fct_edocument_documents"
        ).fetchone()
    finally:
        connection.close()
    return reach, int(overdue)


def test_daily_builds_rebuild_the_documents_they_bring_and_equal_a_full_rebuild(
    maglumat_home: MaglumatPaths,
) -> None:
    """Four real runs: the log to 1 March 2023, built in full; to 3 March, then to 7 March, each
    rebuilding only the documents with new lines (marked documents without new lines keep their
    mark); then a full rebuild, equal to what the increments made."""
    home = maglumat_home
    edocument.simulate(home, _morning(3, 1))
    assert _run(home).startswith("incremental models in full: no earlier build")
    marked = _mark_documents(home)
    assert len(marked) > 1000

    edocument.simulate(home, _morning(3, 3))
    said_3rd = _run(home)
    edocument.simulate(home, _morning(3, 7))
    said_7th = _run(home)

    assert said_3rd.startswith("incremental models: ")
    assert said_7th.startswith("incremental models: ")
    brought = _documents_logged_between(_morning(3, 1), _morning(3, 7))
    # Old documents too: executions logged late, deadlines extended, events sent twice.
    assert len(brought & marked) > 10
    assert _marked_documents(home) == marked - brought
    # The log's reach moved for every document, rebuilt or not: the Aşgabat date of the last
    # line the log server had written.
    reach, overdue = _overdue_now(home)
    assert reach == _last_logged_date(_morning(3, 7))
    _unmark_documents(home)
    incremental = {table: table_fingerprint(str(home.warehouse), table) for table in TABLES}

    assert _run(home, full=True) == "incremental models in full: a full build was asked for"

    assert _overdue_now(home) == (reach, overdue)
    for table in TABLES:
        assert incremental[table] == table_fingerprint(str(home.warehouse), table), table
