"""The schema contract of a source table: column names and the types they must convert to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

CONTRACT_TYPES: dict[str, pl.DataType] = {
    "integer": pl.Int64(),
    "double": pl.Float64(),
    "string": pl.String(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us", "UTC"),
}
_NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_OFFSET_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z")


@dataclass(frozen=True)
class TypeFailure:
    row_number: int  # 1-based position in the landed file
    column: str
    value: str


def _to_timestamp(column: pl.Expr) -> pl.Expr:
    # ISO 8601 "Z" (UTC), as JSON APIs write it, reads as an explicit +00:00 offset.
    text = column.cast(pl.String).str.strip_chars().str.replace(r"Z$", "+00:00")
    attempts = [text.str.to_datetime(f, strict=False, time_zone="UTC") for f in _NAIVE_FORMATS]
    attempts += [
        text.str.to_datetime(f, strict=False).dt.convert_time_zone("UTC") for f in _OFFSET_FORMATS
    ]
    return pl.coalesce(attempts)


def _parsed_from_text(source: pl.DataType, target: str) -> bool:
    """Whether ``_convert`` would parse the column's text as a date or a timestamp."""
    return (
        target in ("timestamp", "date")
        and source != CONTRACT_TYPES[target]
        and not isinstance(source, pl.Datetime)
    )


def _parse_text(column: pl.Series, target: str) -> pl.Series:
    """The column parsed as ``_convert`` parses it, with the same result: row by row the first
    format that reads the value. Instead of trying every format on every row (``coalesce``),
    each format is tried only on the rows still unread, and the formats without a UTC offset
    not on values that end in one (they cannot read them): a big batch's date and time columns
    cost one or two parses instead of six or seven."""
    raw = column.cast(pl.String)
    present = raw.is_not_null()
    prepared: dict[str, pl.Series] = {}  # computed on first need: a clean date column never is

    def timestamp_text() -> pl.Series:
        if "text" not in prepared:
            prepared["text"] = _timestamp_text(raw)
        return prepared["text"]

    def ends_in_offset() -> pl.Series:
        if "offset" not in prepared:
            pattern = r"[+-]\d{2}:?\d{2}$"
            prepared["offset"] = timestamp_text().str.contains(pattern).fill_null(False)
        return prepared["offset"]

    # (parse, the text it reads, whether it can read a value that ends in a UTC offset)
    attempts: list[tuple[Callable[[pl.Series], pl.Series], Callable[[], pl.Series], bool]] = []
    if target == "date":
        attempts.append(
            (lambda t: _stripped(t).str.to_date("%Y-%m-%d", strict=False), lambda: raw, True)
        )
        attempts += [
            (lambda t, f=f: f(t).dt.date(), timestamp_text, o) for f, o in _TIMESTAMP_ATTEMPTS
        ]
    else:
        attempts += [(f, timestamp_text, o) for f, o in _TIMESTAMP_ATTEMPTS]
    result: pl.Series | None = None  # None: nothing read yet
    for parse, source, reads_offsets in attempts:
        tried = present if result is None else result.is_null() & present
        if not reads_offsets:
            tried = tried & ~ends_in_offset()
        if result is None and tried.all():
            result = parse(source())
            continue
        rows = tried.arg_true()
        if rows.len():
            if result is None:
                result = pl.repeat(None, column.len(), dtype=CONTRACT_TYPES[target], eager=True)
            result = result.scatter(rows, parse(source().gather(rows)))
    if result is None:
        return pl.repeat(None, column.len(), dtype=CONTRACT_TYPES[target], eager=True)
    return result


def _rewritten(
    text: pl.Series, pattern: str, rewrite: Callable[[pl.Series], pl.Series]
) -> pl.Series:
    """``rewrite(text)``, computed only on the values that match ``pattern`` (for the others
    it changes nothing); a copy, so the batch's own column is never touched."""
    rows = text.str.contains(pattern).arg_true()
    if rows.len() == 0:
        return text
    return text.clone().scatter(rows, rewrite(text.gather(rows)))


def _stripped(text: pl.Series) -> pl.Series:
    return _rewritten(text, r"^\s|\s$", lambda t: t.str.strip_chars())


def _timestamp_text(text: pl.Series) -> pl.Series:
    return _rewritten(
        text, r"^\s|\s$|Z$", lambda t: t.str.strip_chars().str.replace(r"Z$", "+00:00")
    )


# Each reads text already through _timestamp_text (which changes nothing when applied again).
_TIMESTAMP_ATTEMPTS: list[tuple[Callable[[pl.Series], pl.Series], bool]] = [
    *(
        (lambda t, f=f: t.str.to_datetime(f, strict=False, time_zone="UTC"), False)
        for f in _NAIVE_FORMATS
    ),
    *(
        (lambda t, f=f: t.str.to_datetime(f, strict=False).dt.convert_time_zone("UTC"), True)
        for f in _OFFSET_FORMATS
    ),
]


def _convert(name: str, source: pl.DataType, target: str) -> pl.Expr:
    column = pl.col(name)
    wanted = CONTRACT_TYPES[target]
    if source == wanted:
        return column
    if target == "timestamp":
        if isinstance(source, pl.Datetime):
            if source.time_zone is None:
                return column.dt.replace_time_zone("UTC").cast(wanted)
            return column.dt.convert_time_zone("UTC").cast(wanted)
        return _to_timestamp(column)
    if target == "date":
        if isinstance(source, pl.Datetime):
            return column.dt.date()
        return pl.coalesce(
            column.cast(pl.String).str.strip_chars().str.to_date("%Y-%m-%d", strict=False),
            _to_timestamp(column).dt.date(),
        )
    if target in ("integer", "double") and source == pl.String:
        return column.str.strip_chars().cast(wanted, strict=False)
    if target == "boolean" and source == pl.String:
        lowered = column.str.strip_chars().str.to_lowercase()
        return (
            pl.when(lowered.is_in(["true", "t", "1", "yes"]))
            .then(True)
            .when(lowered.is_in(["false", "f", "0", "no"]))
            .then(False)
        )
    return column.cast(wanted, strict=False)


def cast_to_contract(
    frame: pl.DataFrame, columns: dict[str, str]
) -> tuple[pl.DataFrame, list[TypeFailure]]:
    """Convert the contract's columns; values that do not convert become type failures.

    Columns outside the contract are left out (schema drift is judged separately); columns the
    batch lacks are left out too.
    """
    present = [name for name in columns if name in frame.columns]
    parsed = {
        name: _parse_text(frame.get_column(name), columns[name]).alias(name)
        for name in present
        if _parsed_from_text(frame.schema[name], columns[name])
    }
    converted = frame.with_columns(*parsed.values()).select(
        pl.col(name) if name in parsed else _convert(name, frame.schema[name], columns[name])
        for name in present
    )
    failures: list[TypeFailure] = []
    for name in present:
        lost = frame.get_column(name).is_not_null() & converted.get_column(name).is_null()
        for index in lost.arg_true().to_list():
            failures.append(TypeFailure(index + 1, name, str(frame.get_column(name)[index])))
    return converted, failures
