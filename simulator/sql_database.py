"""Bringing a simulated SQL database to its state at a moment (SQLite in the demo, MariaDB or
PostgreSQL in the tests), shared by the simulators of the register systems.

A table holds every version of every row it will ever have; ``write_tables`` inserts the rows
entered since the last call and updates those changed since, so the system's own cursor columns
never go backwards.
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from typing import Any, Union, get_args, get_origin, get_type_hints

from maglumat.catalogue import load_catalogue
from maglumat.clock import LOCAL_TIMEZONE
from maglumat.settings import MaglumatPaths
from pipelines.extract.dbapi import connect

UTC = dt.UTC


@dataclass(frozen=True)
class SqlTable:
    """One table of a simulated database and every version of every row it will ever hold.

    A row exists once its ``version_column`` (when it was entered) is at or before the moment;
    several records with the same primary key are successive versions of a row that the system
    updates in place (the latest entered by then is what the database holds).
    """

    name: str
    record_type: type
    primary_key: str
    version_column: str
    records: Sequence[Any]
    # Typed by name otherwise: ``*_at`` timestamps; ``*_date``, ``*_on``, ``*_month`` dates.
    timestamp_columns: tuple[str, ...] = ()
    date_columns: tuple[str, ...] = ()

    def column_type(self, dialect: str, name: str, python_type: type) -> str:
        if dialect == "sqlite":
            return {int: "INTEGER", float: "REAL", str: "TEXT"}[python_type]
        if name.endswith("_at") or name in self.timestamp_columns:
            return "datetime" if dialect == "mysql" else "timestamp"
        if python_type is str and (
            name.endswith(("_date", "_on", "_month")) or name in self.date_columns
        ):
            return "date"
        if python_type is float:
            return "double" if dialect == "mysql" else "double precision"
        return {int: "bigint", str: "varchar(300)"}[python_type]


def timestamp(value: dt.datetime) -> str:
    """A moment as the simulated systems store it: UTC, to the second."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def local_moment(day: dt.date, hour: float) -> dt.datetime:
    """``hour`` hours after midnight of ``day`` in Aşgabat."""
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TIMEZONE)
    return midnight + dt.timedelta(seconds=round(hour * 3600))


def python_type(hint: Any) -> type:
    """The type a column's annotation names, without its ``| None``."""
    if get_origin(hint) in (Union, types.UnionType):
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
    return hint


def _stored_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def write_tables(dsn: str, tables: Sequence[SqlTable], as_of: dt.datetime) -> dict[str, int]:
    """Bring the database at ``dsn`` to its state at ``as_of``; rows inserted or updated per table.

    Rows entered since the last call are inserted, rows updated since are updated in place, so
    calling this again with a later ``as_of`` changes only what was entered in between, and the
    system's own cursor columns never go backwards.
    """
    cutoff = timestamp(as_of)
    connection, dialect = connect(dsn)
    changed: dict[str, int] = {}
    try:
        cursor = connection.cursor()
        for table in tables:
            names = [column.name for column in fields(table.record_type)]
            hints = get_type_hints(table.record_type)
            definition = ", ".join(
                f"{name} {table.column_type(dialect.name, name, python_type(hints[name]))}"
                + (" primary key" if name == table.primary_key else "")
                for name in names
            )
            # Names come from the simulator's own dataclasses, never from input.
            cursor.execute(f"create table if not exists {table.name} ({definition})")
            cursor.execute(f"select {table.primary_key}, {table.version_column} from {table.name}")  # noqa: S608
            present = {key: _stored_text(version) for key, version in cursor.fetchall()}
            visible: dict[Any, Any] = {}
            for record in table.records:
                if getattr(record, table.version_column) <= cutoff:
                    visible[getattr(record, table.primary_key)] = record  # later versions win
            inserts = [astuple(r) for key, r in visible.items() if key not in present]
            updates = [
                r
                for key, r in visible.items()
                if key in present and present[key] < getattr(r, table.version_column)
            ]
            if inserts:
                placeholders = ", ".join([dialect.placeholder] * len(names))
                cursor.executemany(
                    f"insert into {table.name} ({', '.join(names)}) values ({placeholders})",  # noqa: S608
                    inserts,
                )
            if updates:
                others = [name for name in names if name != table.primary_key]
                assignments = ", ".join(f"{name} = {dialect.placeholder}" for name in others)
                cursor.executemany(
                    f"update {table.name} set {assignments}"  # noqa: S608
                    f" where {table.primary_key} = {dialect.placeholder}",
                    [
                        [getattr(r, name) for name in others] + [getattr(r, table.primary_key)]
                        for r in updates
                    ],
                )
            changed[table.name] = len(inserts) + len(updates)
        connection.commit()
    finally:
        connection.close()
    return changed


def demo_connection(system_name: str, paths: MaglumatPaths) -> str:
    """Where the demo's simulated system lives (the catalogue's ``demo_default``)."""
    system = next(s for s in load_catalogue() if s.name == system_name)
    if system.demo_connection is None:
        raise ValueError(f"{system_name} has no demo_default connection in the catalogue")
    return system.demo_connection.format(systems=paths.systems)
