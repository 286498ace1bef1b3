"""The e-document workflow system: its simulated event log, landing and gating it through the
``event_log`` kind, the same events from PostgreSQL through the ``sql`` kind, and the document
fact against an independent computation over the log's lines."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import duckdb
import pytest

from maglumat.catalogue import SourceTable, load_catalogue
from maglumat.settings import DBT_PROJECT_DIR, MaglumatPaths
from pipelines.cli import main
from pipelines.extract.event_log import read_log
from pipelines.extract.sql import extract_table
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import read_batch
from simulator import edocument
from simulator.processing import ASHGABAT
from tests.support import dbt_build

SYSTEM = next(s for s in load_catalogue() if s.name == "edocument_workflow")
EVENTS = SYSTEM.table("events")
FEBRUARY_END = dt.datetime(2023, 3, 1, tzinfo=ASHGABAT)
MARCH_THIRD_END = dt.datetime(2023, 3, 4, tzinfo=ASHGABAT)


@pytest.fixture(scope="module")
def log() -> edocument.EventLog:
    return edocument.generate()


def _files_between(log: edocument.EventLog, first: str, last: str) -> edocument.EventLog:
    """The log as a server would hold it if it had been installed on ``first``."""
    return edocument.EventLog(
        [
            line
            for line in log.lines
            if f"events-{first}.jsonl" <= line.file_name <= f"events-{last}.jsonl"
        ]
    )


def _local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_same_seed_same_log() -> None:
    until = dt.date(2022, 1, 31)
    first = edocument.generate(7, last_day=until)
    assert first == edocument.generate(7, last_day=until)
    assert first.lines != edocument.generate(8, last_day=until).lines


def test_the_log_carries_the_mess_of_a_real_system(log: edocument.EventLog) -> None:
    events = log.events
    assert Counter(e.event_type for e in events).keys() == {
        "registered",
        "routed",
        "assigned",
        "executed",
    }
    registered = [e for e in events if e.event_type == "registered"]
    assert all(edocument.is_working_day(_local(e.event_time).date()) for e in registered)
    assert 40 * 400 < len({e.document_id for e in registered}) < 90 * 500
    assert {e.sender_ministry for e in events} <= set(edocument.MINISTRIES)

    files = {line.file_name for line in log.lines}
    assert "events-2022-11-15.jsonl" not in files
    assert "events-2022-11-16.jsonl" not in files
    held = [e for e in events if _local(e.event_time).date() in edocument.OUTAGE]
    assert held
    # Queued by the clients, they reach the log once it is back: the morning after, or later
    # for the few that were slow to arrive anyway.
    logged = sorted(_local(e.logged_at).date() for e in held)
    assert logged[0] == dt.date(2022, 11, 17)
    assert logged.count(dt.date(2022, 11, 17)) > 0.9 * len(logged)

    twice = [event_id for event_id, n in Counter(e.event_id for e in events).items() if n > 1]
    assert twice, "some events are delivered twice"
    synced_late = [
        e
        for e in events
        if e.event_type == "executed"
        and _local(e.logged_at) - _local(e.event_time) > dt.timedelta(days=1)
        and _local(e.event_time).date() not in edocument.OUTAGE
    ]
    assert synced_late, "some executions are logged days later"

    (cut_off,) = [index for index, line in enumerate(log.lines) if line.event is None]
    assert log.lines[cut_off].file_name == "events-2023-02-14.jsonl"
    assert log.lines[cut_off + 1].text.startswith(log.lines[cut_off].text)

    deadlines: dict[str, set[str | None]] = defaultdict(set)
    executed: dict[str, dt.date] = {}
    for e in events:
        if e.event_type == "assigned":
            deadlines[e.document_id].add(e.deadline)
        if e.event_type == "executed":
            executed[e.document_id] = _local(e.event_time).date()
    assert any(len(values) > 1 for values in deadlines.values()), "deadlines get extended"
    late = [
        e
        for e in events
        if e.event_type == "executed"
        and e.deadline
        and executed[e.document_id].isoformat() > e.deadline
    ]
    assert 0.05 < len(late) / len(executed) < 0.25
    assert len({e.document_id for e in registered} - set(executed)) > 100  # never executed


def test_the_log_is_only_ever_appended(tmp_path: Path, log: edocument.EventLog) -> None:
    early = dt.datetime(2022, 1, 10, 12, tzinfo=ASHGABAT)
    later = dt.datetime(2022, 1, 20, 12, tzinfo=ASHGABAT)
    first = edocument.write_log(tmp_path, log, early)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    second = edocument.write_log(tmp_path, log, later)

    visible = edocument.visible_lines(log, later)
    assert first["events"] + second["events"] == len(visible)
    assert edocument.write_log(tmp_path, log, later) == {"events": 0, "files": 0}
    for name, content in before.items():
        assert (tmp_path / name).read_bytes().startswith(content)
    written = b"".join(path.read_bytes() for path in sorted(tmp_path.iterdir()))
    assert written.decode().splitlines() == [line.text for line in visible]


def test_demo_default_is_a_log_directory_under_systems(maglumat_home: MaglumatPaths) -> None:
    added = edocument.simulate(maglumat_home, dt.datetime(2022, 1, 5, 12, tzinfo=dt.UTC))
    directory = maglumat_home.systems / "edocument_workflow" / "events"
    # New Year's Day 2022 fell on a Saturday: Monday 3 January was the day off, with no events.
    assert sorted(path.name for path in directory.iterdir()) == [
        "events-2022-01-04.jsonl",
        "events-2022-01-05.jsonl",
    ]
    (manifest,) = extract_to_landing(maglumat_home, SYSTEM, EVENTS).manifests
    assert manifest.row_count == added["events"]
    assert manifest.cursor_to.startswith("events-2022-01-05.jsonl:")


def _raw_events(paths: MaglumatPaths) -> list[tuple]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return connection.execute(
            "select event_id, log_file, log_line from raw.edocument_workflow__events"
        ).fetchall()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def february(
    tmp_path_factory: pytest.TempPathFactory, log: edocument.EventLog
) -> tuple[MaglumatPaths, edocument.EventLog]:
    """February 2023's log files landed and gated (the month of the log server's crash)."""
    paths = MaglumatPaths(home=tmp_path_factory.mktemp("edocument") / "maglumat")
    paths.ensure()
    february = _files_between(log, "2023-02-01", "2023-02-28")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAGLUMAT_HOME", str(paths.home))
        edocument.write_log(edocument.log_directory(paths), february, FEBRUARY_END)
        extract_to_landing(paths, SYSTEM, EVENTS)
        gate_and_load(paths, SYSTEM, EVENTS)
    return paths, february


def _event_positions(log: edocument.EventLog) -> tuple[set[tuple], list[tuple[str, int]]]:
    """(event_id, file, line) of every event line, and (file, line) of every other line."""
    events: set[tuple] = set()
    broken: list[tuple[str, int]] = []
    numbers: Counter[str] = Counter()
    for line in log.lines:
        numbers[line.file_name] += 1
        if line.event is None:
            broken.append((line.file_name, numbers[line.file_name]))
        else:
            events.add((line.event.event_id, line.file_name, numbers[line.file_name]))
    return events, broken


def test_landed_and_gated_events_are_the_logs_lines(
    february: tuple[MaglumatPaths, edocument.EventLog],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths, lines = february
    expected, broken = _event_positions(lines)
    assert sorted(_raw_events(paths)) == sorted(expected)
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        batches = connection.execute(
            "select extracted_rows, loaded_rows, quarantined_rows, held_rows, status"
            " from audit.batches where system = 'edocument_workflow'"
        ).fetchall()
        quarantined = connection.execute(
            "select distinct value from audit.quarantine where field = 'parse_error'"
        ).fetchall()
    finally:
        connection.close()
    assert batches == [(len(lines.lines), len(expected), len(broken), 0, "loaded_with_quarantine")]
    ((file_name, line_number),) = broken
    ((value,),) = quarantined
    assert value.startswith(f"{file_name} line {line_number}: not JSON")
    # The steward's listing names the log's own file and line, not the batch's landed file.
    monkeypatch.setenv("MAGLUMAT_HOME", str(paths.home))
    assert main(["quarantine", "--system", "edocument_workflow"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if "parse_error" in line]
    assert len(listed) == 1, listed
    assert f" {file_name} line {line_number}: parse_error = " in listed[0]


def test_new_lines_are_read_incrementally(
    tmp_path: Path, log: edocument.EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = MaglumatPaths(home=tmp_path / "maglumat")
    paths.ensure()
    monkeypatch.setenv("MAGLUMAT_HOME", str(paths.home))
    directory = edocument.log_directory(paths)
    edocument.write_log(directory, _files_between(log, "2023-02-20", "2023-02-28"), FEBRUARY_END)
    (first,) = extract_to_landing(paths, SYSTEM, EVENTS).manifests

    march = _files_between(log, "2023-02-20", "2023-03-03")
    added = edocument.write_log(directory, march, MARCH_THIRD_END)
    (second,) = extract_to_landing(paths, SYSTEM, EVENTS).manifests

    assert second.cursor_from == first.cursor_to
    new_lines = [line for line in march.lines if line.file_name >= "events-2023-03-01.jsonl"]
    assert second.row_count == added["events"] == len(new_lines)
    landed = read_batch(paths.landing, second)
    assert landed["event_id"].to_list() == [line.event.event_id for line in new_lines]
    assert extract_to_landing(paths, SYSTEM, EVENTS).manifests == []


@pytest.mark.postgres
def test_the_same_events_from_postgresql_with_the_sql_kind(
    postgres_dsn: str, maglumat_home: MaglumatPaths, log: edocument.EventLog
) -> None:
    february = _files_between(log, "2023-02-01", "2023-02-28")
    table = SourceTable(
        name="document_events", business_key=("event_id",), mode="incremental", cursor="event_seq"
    )
    assert edocument.write_table(postgres_dsn, february, FEBRUARY_END) == {
        "document_events": len({e.event_id for e in february.events})
    }
    first = extract_table(postgres_dsn, table, None)
    assert str(first.frame.schema["event_time"]).startswith("Datetime")
    assert str(first.frame.schema["deadline"]) == "Date"

    # The database holds each event once; the log's lines hold the same events.
    directory = maglumat_home.systems / "log"
    edocument.write_log(directory, february, FEBRUARY_END)
    from_log = [
        extract.frame
        for extract in read_log(directory, edocument.EVENT_FIELDS, None, "events-*.jsonl")
    ]
    log_events = {
        event_id for frame in from_log for event_id in frame["event_id"].to_list() if event_id
    }
    assert set(first.frame["event_id"].to_list()) == log_events
    assert first.frame.height == len(log_events)
    times = dict(zip(first.frame["event_id"], first.frame["event_time"], strict=True))
    for event in february.events[:50]:
        assert times[event.event_id].replace(tzinfo=dt.UTC) == _local(event.event_time)

    march = _files_between(log, "2023-02-01", "2023-03-03")
    edocument.write_table(postgres_dsn, march, MARCH_THIRD_END)
    second = extract_table(postgres_dsn, table, first.cursor_to)
    new = {
        e.event_id for e in march.events if e.logged_at >= "2023-03-01" and e.event_id not in times
    }
    assert set(second.frame["event_id"].to_list()) == new
    assert min(second.frame["event_seq"].to_list()) > int(first.cursor_to)


def _expected_documents(log: edocument.EventLog) -> dict[str, tuple]:
    """Per document, from the log's lines: executed, on time, overdue now, deadline, cycle hours."""
    unique: dict[str, edocument.Event] = {}
    for event in log.events:
        unique.setdefault(event.event_id, event)
    now = max(_local(e.logged_at) for e in unique.values()).astimezone(ASHGABAT).date()
    by_document: dict[str, list[edocument.Event]] = defaultdict(list)
    for event in unique.values():
        by_document[event.document_id].append(event)
    expected = {}
    for document_id, events in by_document.items():
        executed = min(
            (_local(e.event_time) for e in events if e.event_type == "executed"), default=None
        )
        registered = min(
            (_local(e.event_time) for e in events if e.event_type == "registered"), default=None
        )
        latest = max(events, key=lambda e: (_local(e.event_time), _local(e.logged_at)))
        deadline = dt.date.fromisoformat(latest.deadline) if latest.deadline else None
        on_time = None
        if executed is not None and deadline is not None:
            on_time = executed.astimezone(ASHGABAT).date() <= deadline
        overdue = executed is None and deadline is not None and deadline < now
        hours = None
        if executed is not None and registered is not None:
            hours = pytest.approx((executed - registered).total_seconds() / 3600, abs=0.001)
        expected[document_id] = (executed is not None, on_time, overdue, deadline, hours)
    return expected


@pytest.mark.slow
def test_document_fact_matches_the_log(
    february: tuple[MaglumatPaths, edocument.EventLog], tmp_path: Path
) -> None:
    paths, lines = february
    dbt_build(paths, ["+fct_edocument_documents"], tmp_path)
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select document_id, is_executed, is_executed_on_time, is_overdue_now,"
            " deadline_date, cycle_time_hours from marts.fct_edocument_documents"
        ).fetchall()
    finally:
        connection.close()
    actual = {
        row[0]: (row[1], row[2], row[3], row[4], None if row[5] is None else float(row[5]))
        for row in rows
    }
    expected = _expected_documents(lines)
    assert actual.keys() == expected.keys()
    assert actual == expected
    outcomes = Counter(
        (executed, on_time, overdue) for executed, on_time, overdue, *_ in actual.values()
    )
    assert outcomes[(True, True, False)] > outcomes[(True, False, False)] > 0
    assert outcomes[(False, None, True)] > 0


def _days_off_by_law() -> set[dt.date]:
    """The public holidays and transferred days off, as the reference seed declares them."""
    seed = DBT_PROJECT_DIR / "seeds" / "reference" / "ref_public_holidays.csv"
    with seed.open(encoding="utf-8") as rows:
        return {dt.date.fromisoformat(row["holiday_date"]) for row in csv.DictReader(rows)}


def _working_days_between(start: dt.date, end: dt.date, days_off: set[dt.date]) -> int:
    """Working days after ``start`` up to and including ``end``."""
    days = (start + dt.timedelta(days=offset) for offset in range(1, (end - start).days + 1))
    return sum(1 for day in days if day.isoweekday() <= 5 and day not in days_off)


def test_cycle_time_in_working_days_skips_weekends_and_public_holidays(
    all_sectors: MaglumatPaths,
) -> None:
    days_off = _days_off_by_law()
    connection = duckdb.connect(str(all_sectors.snapshots / "current" / "warehouse.duckdb"), True)
    try:
        calendar = dict(
            connection.execute(
                "select calendar_date, is_working_day from marts.dim_dates"
                " where calendar_date in ('2023-01-02', '2023-03-08', '2023-03-09',"
                " '2023-09-27', '2023-10-06')"
            ).fetchall()
        )
        documents = connection.execute(
            "select document_type, registered_date, executed_date, cycle_time_working_days"
            " from marts.fct_edocument_documents where is_executed"
        ).fetchall()
        medians = dict(
            connection.execute(
                "select breakdown, value from indicators.fct_indicator_values"
                " where indicator_id = 'edoc_cycle_time_median_working_days'"
                " and period_type = 'year' and period_start = '2023-01-01'"
                " and region_level = 'country'"
            ).fetchall()
        )
    finally:
        connection.close()
    # New Year 2023 fell on a Sunday, so Monday 2 January was the day off.
    assert calendar == {
        dt.date(2023, 1, 2): False,
        dt.date(2023, 3, 8): False,
        dt.date(2023, 3, 9): True,
        dt.date(2023, 9, 27): False,
        dt.date(2023, 10, 6): False,
    }
    assert len(documents) > 1000
    by_type: defaultdict[str, list[int]] = defaultdict(list)
    for document_type, registered, executed, working_days in documents:
        assert working_days == _working_days_between(registered, executed, days_off)
        if executed.year == 2023:
            by_type[document_type].append(working_days)
    spanning_a_holiday = [
        row for row in documents if any(row[1] < day <= row[2] for day in days_off)
    ]
    assert spanning_a_holiday, "the simulated year must cross public holidays"
    assert medians.keys() == by_type.keys()
    for document_type, values in by_type.items():
        assert medians[document_type] == pytest.approx(statistics.median(values))
