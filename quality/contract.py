"""The schema contract of a source table: column names and the types they must convert to."""

from __future__ import annotations

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
    converted = frame.select(
        _convert(name, frame.schema[name], columns[name]).alias(name) for name in present
    )
    failures: list[TypeFailure] = []
    for name in present:
        lost = frame.get_column(name).is_not_null() & converted.get_column(name).is_null()
        for index in lost.arg_true().to_list():
            failures.append(TypeFailure(index + 1, name, str(frame.get_column(name)[index])))
    return converted, failures
