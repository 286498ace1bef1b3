"""The column-wise readings land exactly what the row-by-row readings land: SQL sources through
ADBC, event logs parsed in bulk, large CSV files read by polars."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import polars as pl
import pytest

from maglumat.catalogue import SourceTable
from pipelines.extract import event_log, file_inbox
from pipelines.extract.file_inbox import columnar as inbox_columnar
from pipelines.extract.file_inbox import reading as inbox_reading
from pipelines.extract.sql import extract_table
from pipelines.extract.sql_rows import _rows_frame

PROBE = SourceTable(name="probe", business_key=("id",), mode="incremental", cursor="id")


def _sqlite_reference(path: Path, query: str) -> pl.DataFrame:
    connection = sqlite3.connect(path)
    cursor = connection.execute(query)
    columns = [item[0] for item in cursor.description]
    return _rows_frame(columns, cursor.fetchall())


def test_sqlite_columns_mixing_storage_classes_land_as_the_rows_give_them(tmp_path: Path) -> None:
    path = tmp_path / "probe.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "create table probe (id integer primary key, amount real, code integer,"
            " note text, empty integer)"
        )
        rows = [(number, number * 1.5, number, f"n{number}", None) for number in range(1, 3000)]
        rows.append((3000, 2.0, "not a number", "last", None))  # an INTEGER column holding text
        connection.executemany("insert into probe values (?, ?, ?, ?, ?)", rows)
    frame = extract_table(f"sqlite:///{path}", PROBE, "10").frame
    expected = _sqlite_reference(path, "select * from probe where id > 10 order by id")
    assert frame.schema == expected.schema
    assert frame.equals(expected)
    assert frame.schema["code"] == pl.String  # texts and numbers mixed: text, as before
    assert frame.schema["empty"] == pl.Null


def test_sqlite_uniform_columns_are_read_column_wise_with_the_same_types(tmp_path: Path) -> None:
    path = tmp_path / "probe.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("create table probe (id integer primary key, amount real, day text)")
        connection.executemany(
            "insert into probe values (?, ?, ?)",
            [(number, number / 3, f"2023-09-{number % 28 + 1:02d}") for number in range(1, 5000)],
        )
    extracted = extract_table(f"sqlite:///{path}", PROBE, None)
    expected = _sqlite_reference(path, "select * from probe order by id")
    assert extracted.frame.equals(expected)
    assert dict(extracted.frame.schema) == {"id": pl.Int64, "amount": pl.Float64, "day": pl.String}
    assert extracted.cursor_to == "4999"


@pytest.mark.postgres
def test_postgresql_types_match_the_dbapi_rows(postgres_dsn: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn) as connection:
        connection.execute("drop table if exists probe")
        connection.execute(
            "create table probe (id smallint, ratio real, amount numeric(12, 3), tiny numeric,"
            " at timestamptz, day date, flag boolean, payload jsonb)"
        )
        connection.execute(
            "insert into probe values (1, 1.1, 1234567.123, 1e-30, '2023-09-01 10:00+05',"
            " '2023-09-01', true, null), (2, null, null, 0.1, null, null, null, null)"
        )
    frame = extract_table(postgres_dsn, PROBE, "0").frame
    assert frame["ratio"].to_list() == [1.1, None]  # float4 widened as its text, as psycopg does
    assert frame["amount"].to_list() == [1234567.123, None]
    assert frame["tiny"].to_list() == [1e-30, 0.1]
    assert frame.schema["id"] == pl.Int64
    assert frame.schema["payload"] == pl.Null
    assert str(frame.schema["at"]).startswith("Datetime")
    assert frame["day"].to_list()[0].isoformat() == "2023-09-01"


def test_bulk_parsed_event_log_equals_line_by_line(tmp_path: Path) -> None:
    fields = ["event_id", "event_type", "amount"]
    lines = []
    for number in range(1000):
        event = {"event_id": f"e{number}", "event_type": "sent", "amount": f"{number}.5"}
        lines.append(json.dumps(event).encode() + b"\n")
        if number % 97 == 0:
            lines.append(b'{"event_id": 7, "event_type": true, "amount": 1e16}\n')
        if number % 301 == 0:
            lines.append(b'\xff broken\n\n  \n["array"]\n{"event_id": "a"} {"event_id": "b"}\n')
    (tmp_path / "events-1.jsonl").write_bytes(b"".join(lines))
    (batch,) = event_log.read_log(tmp_path, fields, None)
    expected = [
        event_log.parse_line(raw, fields, "events-1.jsonl", number)
        for number, raw in enumerate(b"".join(lines).splitlines(keepends=True), start=1)
        if raw.strip()
    ]
    assert batch.frame.to_dicts() == expected
    numbers = batch.frame.filter(pl.col("amount") == "1e+16")  # a number as json.dumps writes it
    assert numbers["event_id"].to_list() == ["7"] * 11
    assert numbers["event_type"].to_list() == ["true"] * 11


def _large_csv(tmp_path: Path, extra: bytes = b"") -> Path:
    header = "Дата;Код предприятия;Количество\r\n".encode("cp1251")
    lines = [
        f"{day % 28 + 1:02d}.01.2022;ENR-{day % 7};{day} {day % 1000:03d},5\r\n".encode("cp1251")
        for day in range(1, 3000)
    ]
    path = tmp_path / "fek_arhiw_2022-01.csv"
    path.write_bytes(header + b"".join(lines[:1000]) + extra + b"".join(lines[1000:]))
    return path


def _options() -> file_inbox.InboxOptions:
    return file_inbox.InboxOptions._parse(
        {
            "pattern": "fek_*.csv",
            "date_formats": ["%d.%m.%Y"],
            "keep_as_text": ["enterprise_code"],
            "columns": {"Дата": "report_date", "Код предприятия": "enterprise_code"},
        }
    )


def test_large_csv_read_column_wise_equals_row_by_row(tmp_path: Path) -> None:
    path = _large_csv(tmp_path, extra=b"  ;  ;  \r\n")
    data = path.read_bytes()
    options = _options()
    columnar = inbox_columnar._csv_columnar(data, path.name, options)
    assert columnar is not None
    sheet = inbox_reading._read_csv(data, path.name, options)
    reference = inbox_reading._frame(sheet, path.name, options)
    assert columnar.schema == reference.schema
    assert columnar.equals(reference)
    assert columnar["Количество"][0] == "1001.5"  # decimal comma and digit group normalised


def test_large_csv_ragged_line_is_named_as_before(tmp_path: Path) -> None:
    path = _large_csv(tmp_path, extra=b"01.01.2022;ENR-1\r\n")
    with pytest.raises(file_inbox.UnreadableFileError, match=r"line \d+ has 2 fields") as error:
        file_inbox.read_table_file(path, _options())
    sheet = inbox_reading._read_csv(path.read_bytes(), path.name, _options())
    with pytest.raises(file_inbox.UnreadableFileError) as reference:
        inbox_reading._frame(sheet, path.name, _options())
    assert str(error.value) == str(reference.value)
