"""The event log extractor (kind ``event_log``) against real JSON lines files on disk: complete
lines only, a partly written last line, malformed lines kept for the gate, the position kept in
the landing zone, and a log rewritten under it."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import duckdb
import pytest

from maglumat.catalogue import Delivery, SourceSystem, SourceTable, system_named
from maglumat.settings import MaglumatPaths
from pipelines.extract.dbapi import SourceUnreachableError
from pipelines.extract.event_log import EventLogError, LogPosition, log_directory, read_log
from pipelines.ingest import extract_to_landing, gate_and_load
from pipelines.landing import high_water_mark, list_batches, read_batch, record_rejection

FIELDS = ("event_id", "event_type", "document_id", "amount")


def _event(number: int, event_type: str = "registered") -> dict[str, object]:
    return {
        "event_id": f"e{number}",
        "event_type": event_type,
        "document_id": f"MFE-2023-{number:05d}",
        "amount": number * 1.5,
        "ignored": {"nested": True},
    }


def _line(number: int) -> bytes:
    return (json.dumps(_event(number)) + "\n").encode()


def _write(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def _read(directory: Path, position: LogPosition | None = None, **options: int):
    return list(read_log(directory, FIELDS, position, pattern="*.jsonl", **options))


def test_reads_every_complete_line_and_keeps_where_it_stopped(tmp_path: Path) -> None:
    _write(tmp_path / "events-2023-09-28.jsonl", _line(1) + _line(2))
    _write(tmp_path / "events-2023-09-29.jsonl", _line(3))
    (tmp_path / "notes.txt").write_text("not a log file")

    (batch,) = _read(tmp_path)

    assert batch.frame["event_id"].to_list() == ["e1", "e2", "e3"]
    assert batch.frame["amount"].to_list() == ["1.5", "3.0", "4.5"]
    assert batch.frame["log_file"].to_list() == [
        "events-2023-09-28.jsonl",
        "events-2023-09-28.jsonl",
        "events-2023-09-29.jsonl",
    ]
    assert batch.frame["log_line"].to_list() == [1, 2, 1]
    assert batch.frame["parse_error"].null_count() == 3
    assert "ignored" not in batch.frame.columns
    size = (tmp_path / "events-2023-09-29.jsonl").stat().st_size
    assert batch.cursor_from is None
    assert batch.cursor_to == f"events-2023-09-29.jsonl:{size}:1"
    assert batch.source_file == "events-2023-09-28.jsonl .. events-2023-09-29.jsonl (2 files)"
    assert _read(tmp_path, LogPosition.parse(batch.cursor_to)) == []


def test_a_partly_written_last_line_waits_until_it_is_complete(tmp_path: Path) -> None:
    log = tmp_path / "events-2023-09-29.jsonl"
    whole = _line(2)
    _write(log, _line(1) + whole[:25])  # the writer is in the middle of line 2

    (first,) = _read(tmp_path)
    assert first.frame["event_id"].to_list() == ["e1"]
    assert first.cursor_to == f"events-2023-09-29.jsonl:{len(_line(1))}:1"

    assert _read(tmp_path, LogPosition.parse(first.cursor_to)) == []

    _write(log, whole[25:] + _line(3))
    (second,) = _read(tmp_path, LogPosition.parse(first.cursor_to))
    assert second.frame["event_id"].to_list() == ["e2", "e3"]
    assert second.frame["log_line"].to_list() == [2, 3]
    assert second.frame["parse_error"].null_count() == 2
    assert second.cursor_from == first.cursor_to


def test_an_unfinished_line_of_a_closed_file_is_read_once_a_newer_file_exists(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "events-2023-09-28.jsonl", _line(1) + _line(2).rstrip(b"\n"))
    (before,) = _read(tmp_path)
    assert before.frame["event_id"].to_list() == ["e1"]

    _write(tmp_path / "events-2023-09-29.jsonl", _line(3))
    (after,) = _read(tmp_path, LogPosition.parse(before.cursor_to))
    assert after.frame["event_id"].to_list() == ["e2", "e3"]
    assert after.frame["parse_error"].null_count() == 2


def test_malformed_lines_are_kept_with_raw_text_file_and_line(tmp_path: Path) -> None:
    cut_off = _line(2)[:30]
    _write(
        tmp_path / "events-2023-09-29.jsonl",
        _line(1) + cut_off + b"\n" + b'["an", "array"]\n' + b"\xff\xfe broken\n" + b"\n" + _line(3),
    )

    (batch,) = _read(tmp_path)

    rows = batch.frame.to_dicts()
    assert [row["log_line"] for row in rows] == [1, 2, 3, 4, 6]  # line 5 is blank
    bad = [row for row in rows if row["parse_error"] is not None]
    assert [row["log_line"] for row in bad] == [2, 3, 4]
    assert bad[0]["raw_line"] == cut_off.decode()
    assert bad[0]["parse_error"].startswith("events-2023-09-29.jsonl line 2: not JSON")
    assert "not a JSON object" in bad[1]["parse_error"]
    assert "not UTF-8" in bad[2]["parse_error"]
    assert all(row["event_id"] is None for row in bad)
    assert rows[-1]["event_id"] == "e3"


def test_a_byte_order_mark_and_windows_line_ends_are_read(tmp_path: Path) -> None:
    first = json.dumps(_event(1)).encode() + b"\r\n"
    _write(tmp_path / "events-2023-09-29.jsonl", b"\xef\xbb\xbf" + first + _line(2))

    (batch,) = _read(tmp_path)

    assert batch.frame["event_id"].to_list() == ["e1", "e2"]
    assert batch.frame["parse_error"].null_count() == 2


def test_batches_are_bounded_and_continue_where_the_last_ended(tmp_path: Path) -> None:
    _write(tmp_path / "events-2023-09-28.jsonl", b"".join(_line(n) for n in range(1, 6)))
    _write(tmp_path / "events-2023-09-29.jsonl", b"".join(_line(n) for n in range(6, 9)))

    batches = _read(tmp_path, max_lines_per_batch=3)

    assert [b.frame.height for b in batches] == [3, 3, 2]
    assert [e for b in batches for e in b.frame["event_id"].to_list()] == [
        f"e{n}" for n in range(1, 9)
    ]
    for earlier, later in itertools.pairwise(batches):
        assert later.cursor_from == earlier.cursor_to
    assert batches[1].cursor_to == f"events-2023-09-29.jsonl:{len(_line(6))}:1"


def test_a_log_rewritten_under_the_landed_position_is_an_error(tmp_path: Path) -> None:
    log = tmp_path / "events-2023-09-29.jsonl"
    _write(log, _line(1) + _line(2))
    (batch,) = _read(tmp_path)

    log.write_bytes(_line(1))  # truncated
    with pytest.raises(EventLogError, match="truncated or replaced"):
        _read(tmp_path, LogPosition.parse(batch.cursor_to))

    log.write_bytes(_line(10) + _line(11) + _line(12))  # replaced by other content
    with pytest.raises(EventLogError, match="rewritten"):
        _read(tmp_path, LogPosition(log.name, len(_line(1)), 1))


def test_a_missing_log_directory_is_an_unreachable_system(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreachableError, match="does not exist"):
        _read(tmp_path / "nowhere")
    assert log_directory(f"file://{tmp_path}") == tmp_path
    assert log_directory(str(tmp_path)) == tmp_path


def _system(directory: Path) -> SourceSystem:
    return SourceSystem(
        name="edocument_workflow",
        sector="edocument",
        ministry="Cabinet of Ministers",
        kind="event_log",
        connection_env="MAGLUMAT_TEST_EVENT_LOG_UNSET",
        demo_connection=str(directory),
        delivery=Delivery(every="day", expected_by="10:00", timezone="Asia/Ashgabat"),
        tables=(
            SourceTable(
                name="events",
                business_key=("event_id",),
                mode="append",
                options={
                    "pattern": "events-*.jsonl",
                    "fields": [
                        "event_id",
                        "event_type",
                        "event_time",
                        "document_id",
                        "document_type",
                        "sender_ministry",
                        "receiver_ministry",
                        "deadline",
                        "department",
                        "logged_at",
                    ],
                },
                # The real system's contract, which its suite's rules speak of.
                columns=system_named("edocument_workflow").table("events").columns,
            ),
        ),
    )


def _workflow_line(number: int, logged: str) -> bytes:
    event = {
        "event_id": f"00000000-0000-4000-8000-{number:012d}",
        "event_type": "registered",
        "event_time": f"{logged}T09:00:{number % 60:02d}+05:00",
        "document_id": f"MFE-2023-{number:05d}",
        "document_type": "letter",
        "sender_ministry": "MFE",
        "receiver_ministry": "MOE",
        "deadline": "2023-10-30",
        "department": None,
        "logged_at": f"{logged}T09:00:{number % 60:02d}+05:00",
    }
    return (json.dumps(event) + "\n").encode()


def test_landed_position_is_durable_and_the_gate_quarantines_bad_lines(
    maglumat_home: MaglumatPaths,
) -> None:
    directory = maglumat_home.systems / "log"
    directory.mkdir()
    system = _system(directory)
    (table,) = system.tables
    log = directory / "events-2023-09-28.jsonl"
    _write(log, b"".join(_workflow_line(n, "2023-09-28") for n in range(1, 9)))
    _write(log, b'{"event_id": "00000000-0000-4000-8000-000000000009", "event_ty\n')
    _write(log, _workflow_line(10, "2023-09-28") + _workflow_line(11, "2023-09-28")[:40])

    first = extract_to_landing(maglumat_home, system, table)
    (manifest,) = first.manifests
    assert manifest.row_count == 10  # nine events and the cut-off line; the last line waits
    assert high_water_mark(maglumat_home.landing, system.name, table.name) == manifest.cursor_to

    (load,) = gate_and_load(maglumat_home, system, table).loads
    assert (load.extracted_rows, load.loaded_rows, load.quarantined_rows) == (10, 9, 1)
    connection = duckdb.connect(str(maglumat_home.warehouse), read_only=True)
    try:
        quarantined = connection.execute(
            "select distinct row_number, value, row_json from audit.quarantine"
            " where rule = 'expect_column_values_to_be_null' and field = 'parse_error'"
        ).fetchall()
    finally:
        connection.close()
    ((row_number, value, row_json),) = quarantined
    assert row_number == 9
    assert value.startswith("events-2023-09-28.jsonl line 9: not JSON")
    assert json.loads(row_json)["raw_line"].startswith('{"event_id": "00000000-0000-4000-8000-')

    # The writer finishes its line and the next day's file begins: only those lines are new.
    _write(log, _workflow_line(11, "2023-09-28")[40:])
    _write(directory / "events-2023-09-29.jsonl", _workflow_line(12, "2023-09-29"))
    second = extract_to_landing(maglumat_home, system, table)
    (later,) = second.manifests
    assert later.cursor_from == manifest.cursor_to
    landed = read_batch(maglumat_home.landing, later)
    assert landed["log_line"].to_list() == [11, 1]
    assert landed["event_id"].to_list() == [
        "00000000-0000-4000-8000-000000000011",
        "00000000-0000-4000-8000-000000000012",
    ]
    assert extract_to_landing(maglumat_home, system, table).manifests == []
    (load,) = gate_and_load(maglumat_home, system, table).loads
    assert load.status == "loaded"
    assert len(list_batches(maglumat_home.landing, system.name, table.name)) == 2


def test_a_rejected_batchs_lines_are_read_again_from_where_it_began(
    tmp_path: Path, maglumat_home: MaglumatPaths
) -> None:
    """A rejected batch of an event log is read again from its first line; skipping it instead
    (recorded) leaves the position after it."""
    directory = tmp_path / "log"
    directory.mkdir()
    system = _system(directory)
    table = system.tables[0]
    _write(directory / "events-2023-09-27.jsonl", _line(1) + _line(2))
    (first,) = extract_to_landing(maglumat_home, system, table).manifests
    _write(directory / "events-2023-09-28.jsonl", _line(3) + _line(4))
    (bad,) = extract_to_landing(maglumat_home, system, table).manifests
    assert read_batch(maglumat_home.landing, bad)["event_id"].to_list() == ["e3", "e4"]

    record_rejection(maglumat_home.landing, bad, "the log server wrote 28 September twice")
    assert high_water_mark(maglumat_home.landing, system.name, table.name) == first.cursor_to
    (again,) = extract_to_landing(maglumat_home, system, table).manifests
    assert read_batch(maglumat_home.landing, again)["event_id"].to_list() == ["e3", "e4"]
    assert again.cursor_to == bad.cursor_to

    record_rejection(maglumat_home.landing, again, "known, left out", extract_again=False)
    assert high_water_mark(maglumat_home.landing, system.name, table.name) == again.cursor_to
    assert extract_to_landing(maglumat_home, system, table).manifests == []
