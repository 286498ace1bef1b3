"""Read the declarative expectation suites kept in ``quality/suites/`` (one file per source).

A suite adds rules over the columns the catalogue declares for a table (the schema contract
lives there, once); a table without a suite is gated by its contract and its business key.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from maglumat import clock
from maglumat.catalogue import SourceSystem
from maglumat.settings import DBT_PROJECT_DIR, SUITES_DIR

REFERENCE_SEEDS = DBT_PROJECT_DIR / "seeds" / "reference"
CLOCK_SKEW = dt.timedelta(minutes=15)


class SuiteError(ValueError):
    """A suite file is malformed; the message names the file and the table."""


@dataclass(frozen=True)
class Expectation:
    name: str  # snake_case Great Expectations name, e.g. expect_column_values_to_be_in_set
    kwargs: dict[str, Any]

    @property
    def field(self) -> str:
        if "column" in self.kwargs:
            return str(self.kwargs["column"])
        return ",".join(self.kwargs.get("column_list", []))


@dataclass(frozen=True)
class VolumeRule:
    """A batch's row count against the median of the table's recent batches."""

    history_batches: int = 10
    min_history: int = 3
    min_ratio: float = 0.0
    max_ratio: float = float("inf")


@dataclass(frozen=True)
class DailyVolumeRule:
    """Each day a batch brings for the first time against the same weekday's usual count.

    A daily series (one file a day, or an archive month of days) delivered in part, such as a
    file cut off at a line end, has fewer rows on its day than that weekday usually has. Rows are
    counted by the table's business key; a day already loaded (a correction) is not judged."""

    date_column: str
    min_ratio: float = 0.8
    history_weeks: int = 8
    min_history: int = 4


@dataclass(frozen=True)
class OutlierRule:
    """A value far from its group's history (modified z-score above ``threshold``)."""

    column: str
    group_by: tuple[str, ...]
    threshold: float = 3.5
    min_history: int = 8
    # Rolling: only the group's last `window` values by `order_by` (None: all its history).
    order_by: str | None = None
    window: int | None = None
    # Seasonal: compare with the same period a year before (`period` names the date column);
    # a value more than `max_ratio` times that period's (or less than 1/`max_ratio`) fails.
    period: str | None = None
    max_ratio: float = 5.0
    # "zscore" (default) or "ratio": the value against the median of the group's last `window`
    # values by `order_by`, more than `max_ratio` times it or less than 1/`max_ratio` of it
    # fails (a slip of the pen: x4, x10, x0.1, kilograms for tonnes). Zero is never a slip.
    method: str = "zscore"
    # Judge the column divided by another (``harvested_tonnes`` per ``harvested_ha``: the
    # yield), when the measure itself swings but its ratio to a companion does not.
    per: str | None = None
    # A lower bound of its own for ratio rules (default 1/`max_ratio`): a plant stopping for
    # weeks is a real fall, a value four times too high is not a real rise.
    min_ratio: float | None = None

    @property
    def lowest_ratio(self) -> float:
        return self.min_ratio if self.min_ratio is not None else 1 / self.max_ratio

    @property
    def kind(self) -> str:
        """How the value is judged: ``seasonal``, ``ratio`` or ``zscore``."""
        if self.period:
            return "seasonal"
        return self.method


@dataclass(frozen=True)
class BalanceRule:
    """A stock identity each row must keep: ``total = sum(plus) - sum(minus)`` (closing stock =
    opening + received - consumed). A slip in any one of its columns breaks it."""

    total: str
    plus: tuple[str, ...]
    minus: tuple[str, ...] = ()
    tolerance: float = 0.0


@dataclass(frozen=True)
class TableSuite:
    source: str
    table: str
    columns: dict[str, str]
    min_rows: int = 1
    max_bad_row_share: float = 0.2
    volume: VolumeRule = field(default_factory=VolumeRule)
    daily_volume: DailyVolumeRule | None = None
    expectations: tuple[Expectation, ...] = field(default_factory=tuple)
    outliers: tuple[OutlierRule, ...] = field(default_factory=tuple)
    balances: tuple[BalanceRule, ...] = field(default_factory=tuple)
    suite_file: Path = field(default=Path(), compare=False)

    @property
    def name(self) -> str:
        return f"{self.source}.{self.table}"

    @property
    def registers(self) -> tuple[tuple[str, str], ...]:
        """The (table, column) of this source's registers whose codes a column must be among
        (``value_set: {register: <table>.<column>}``), still to be read from the warehouse."""
        found = []
        for expectation in self.expectations:
            value_set = expectation.kwargs.get("value_set")
            if isinstance(value_set, dict) and "register" in value_set:
                table, column = str(value_set["register"]).split(".", 1)
                found.append((table, column))
        return tuple(dict.fromkeys(found))

    def with_registers(self, codes: Mapping[tuple[str, str], Sequence[str]]) -> TableSuite:
        """The suite with each register rule's value set read (``codes`` by (table, column)).

        A register that has never been delivered cannot judge anything: its rules are left out
        until its first batch is loaded (the table's dbt relationship test still guards)."""
        expectations = []
        for expectation in self.expectations:
            value_set = expectation.kwargs.get("value_set")
            if isinstance(value_set, dict) and "register" in value_set:
                table, column = str(value_set["register"]).split(".", 1)
                if not codes.get((table, column)):
                    continue
                kwargs = {**expectation.kwargs, "value_set": list(codes[(table, column)])}
                expectation = Expectation(expectation.name, kwargs)
            expectations.append(expectation)
        return replace(self, expectations=tuple(expectations))


@cache
def reference_values(seed: str, column: str) -> tuple[str, ...]:
    """Values of a column of a reference seed, e.g. every district code."""
    path = REFERENCE_SEEDS / f"{seed}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return tuple(sorted({row[column] for row in csv.DictReader(handle)}))


def _moment(word: str, column_type: str | None, now: dt.datetime) -> dt.datetime:
    """``today`` or ``now`` as a bound, at the instant ``now``: for a date column, today's date in
    Aşgabat (dates arrive in pandas as naive midnights); for a timestamp, ``today`` is the end of
    that day in Aşgabat and ``now`` the instant itself, with a few minutes for clock skew between
    systems."""
    local = clock.local_date(now)
    if column_type == "date":
        return dt.datetime.combine(local, dt.time(23, 59, 59))
    if word == "today":
        return clock.end_of_local_day(local)
    return now + CLOCK_SKEW


def _resolve(kwargs: dict[str, Any], columns: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    resolved = dict(kwargs)
    value_set = kwargs.get("value_set")
    if isinstance(value_set, dict) and "reference" in value_set:
        seed, column = str(value_set["reference"]).split(".", 1)
        resolved["value_set"] = list(reference_values(seed, column))
    column_type = columns.get(str(kwargs.get("column")))
    for bound in ("min_value", "max_value"):
        value = kwargs.get(bound)
        if value in ("today", "now"):
            resolved[bound] = _moment(value, column_type, now)
        elif column_type in ("date", "timestamp") and isinstance(value, str | dt.date):
            # Compare like with like: the batch's dates arrive in pandas as datetimes.
            moment = dt.datetime.fromisoformat(str(value))
            if column_type == "timestamp" and moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            resolved[bound] = moment
    return resolved


def _outlier_method(rule: Mapping[str, Any], path: Path, table: str) -> str:
    method = str(rule.get("method", "zscore"))
    if method not in ("zscore", "ratio"):
        raise SuiteError(f"{path}, table {table}: outlier method must be zscore or ratio")
    if method == "ratio" and not (rule.get("order_by") and rule.get("window")):
        raise SuiteError(f"{path}, table {table}: a ratio outlier rule needs order_by and window")
    return method


def _named_columns(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(where, column) of every column a suite's table entry names."""
    named: list[tuple[str, str]] = []
    for entry in raw.get("expectations") or []:
        if isinstance(entry, dict) and len(entry) == 1:
            ((name, kwargs),) = entry.items()
            kwargs = kwargs or {}
            for key in ("column", "column_A", "column_B"):
                if key in kwargs:
                    named.append((str(name), str(kwargs[key])))
            named += [(str(name), str(column)) for column in kwargs.get("column_list") or ()]
    for rule in raw.get("outliers") or []:
        for key in ("column", "order_by", "period", "per"):
            if rule.get(key):
                named.append((f"outliers.{key}", str(rule[key])))
        named += [("outliers.group_by", str(column)) for column in rule.get("group_by") or ()]
    for rule in raw.get("balances") or []:
        named.append(("balances.total", str(rule.get("total"))))
        for key in ("plus", "minus"):
            named += [(f"balances.{key}", str(column)) for column in rule.get(key) or ()]
    daily = (raw.get("batch") or {}).get("daily_volume")
    if daily:
        named.append(("batch.daily_volume.date_column", str(daily.get("date_column"))))
    return named


def _check_columns(raw: Mapping[str, Any], system: SourceSystem, table: str, path: Path) -> None:
    """Every column the suite names is one the catalogue declares, and every register a table
    and column of the same system."""
    declared = system.table(table).columns
    for where, column in _named_columns(raw):
        if column not in declared:
            raise SuiteError(
                f"{path}, table {table}: {where} names {column!r}, which is not among the"
                f" columns {system.catalogue_file} declares for it"
            )
    for entry in raw.get("expectations") or []:
        kwargs = next(iter(entry.values())) if isinstance(entry, dict) and entry else None
        value_set = kwargs.get("value_set") if isinstance(kwargs, dict) else None
        if not (isinstance(value_set, dict) and "register" in value_set):
            continue
        other, _, column = str(value_set["register"]).partition(".")
        if other not in {known.name for known in system.tables} or (
            column not in system.table(other).columns
        ):
            raise SuiteError(
                f"{path}, table {table}: register {value_set['register']!r} is not a table and"
                f" column of {system.name}"
            )


def _key_only_suite(system: SourceSystem, table: str) -> TableSuite:
    """The gate of a table without rules of its own: its contract, and a business key with
    every part present."""
    declared = system.table(table)
    return TableSuite(
        source=system.name,
        table=table,
        columns=dict(declared.columns),
        expectations=tuple(
            Expectation("expect_column_values_to_not_be_null", {"column": column})
            for column in declared.business_key
        ),
        suite_file=system.catalogue_file,
    )


def load_suite(
    system: SourceSystem,
    table: str,
    suites_dir: Path = SUITES_DIR,
    now: dt.datetime | None = None,
) -> TableSuite:
    """The suite of one table, its columns from the catalogue; ``today``/``now`` bounds are
    resolved at ``now`` (default: now)."""
    now = now or clock.now()
    path = suites_dir / f"{system.name}.yml"
    document = _suite_document(path)
    raw = (document.get("tables") or {}).get(table)
    if raw is None:
        return _key_only_suite(system, table)
    _check_columns(raw, system, table, path)
    columns = dict(system.table(table).columns)
    expectations = []
    for entry in raw.get("expectations") or []:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise SuiteError(f"{path}, table {table}: each expectation is one `name: {{kwargs}}`")
        ((name, kwargs),) = entry.items()
        expectations.append(Expectation(str(name), _resolve(dict(kwargs or {}), columns, now)))
    batch = raw.get("batch") or {}
    volume = batch.get("volume") or {}
    daily = batch.get("daily_volume")
    daily_volume = None
    if daily:
        if columns.get(str(daily.get("date_column"))) != "date":
            raise SuiteError(f"{path}, table {table}: daily_volume.date_column must be a date")
        daily_volume = DailyVolumeRule(
            date_column=str(daily["date_column"]),
            min_ratio=float(daily.get("min_ratio", 0.8)),
            history_weeks=int(daily.get("history_weeks", 8)),
            min_history=int(daily.get("min_history", 4)),
        )
    return TableSuite(
        source=system.name,
        table=table,
        columns=columns,
        min_rows=int(batch.get("min_rows", 1)),
        max_bad_row_share=float(batch.get("max_bad_row_share", 0.2)),
        volume=VolumeRule(
            history_batches=int(volume.get("history_batches", 10)),
            min_history=int(volume.get("min_history", 3)),
            min_ratio=float(volume.get("min_ratio", 0.0)),
            max_ratio=float(volume.get("max_ratio", float("inf"))),
        ),
        daily_volume=daily_volume,
        expectations=tuple(expectations),
        outliers=tuple(
            OutlierRule(
                column=str(rule["column"]),
                group_by=tuple(rule.get("group_by") or ()),
                threshold=float(rule.get("threshold", 3.5)),
                min_history=int(rule.get("min_history", 8)),
                order_by=rule.get("order_by"),
                window=int(rule["window"]) if rule.get("window") else None,
                period=rule.get("period"),
                max_ratio=float(rule.get("max_ratio", 5.0)),
                method=_outlier_method(rule, path, table),
                per=rule.get("per"),
                min_ratio=float(rule["min_ratio"]) if "min_ratio" in rule else None,
            )
            for rule in raw.get("outliers") or []
        ),
        balances=tuple(
            BalanceRule(
                total=str(rule["total"]),
                plus=tuple(str(column) for column in rule.get("plus") or ()),
                minus=tuple(str(column) for column in rule.get("minus") or ()),
                tolerance=float(rule.get("tolerance", 0)),
            )
            for rule in raw.get("balances") or []
        ),
        suite_file=path,
    )


def _suite_document(path: Path) -> dict[str, Any]:
    """The suite file parsed, once per version of the file: every table of every batch reads
    it, and the definitions check them all when they load. Callers only read it."""
    if not path.exists():
        return {}
    return _parsed_suite(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _parsed_suite(path: Path, modified_ns: int) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        raise SuiteError(f"{path}: a suite is a mapping with `tables:`")
    return document


def check_suites(systems: Sequence[SourceSystem], suites_dir: Path = SUITES_DIR) -> None:
    """Every suite file belongs to a system of the catalogue, speaks of its tables and their
    declared columns, and reads (a misnamed file or table would otherwise gate nothing)."""
    by_name = {system.name: system for system in systems}
    for path in sorted(suites_dir.glob("*.yml")):
        system = by_name.get(path.stem)
        if system is None:
            raise SuiteError(f"{path}: no system {path.stem!r} in the catalogue")
        document = _suite_document(path)
        if document.get("source", system.name) != system.name:
            raise SuiteError(f"{path}: source {document['source']!r} is not {system.name!r}")
        known = {table.name for table in system.tables}
        for table in document.get("tables") or {}:
            if table not in known:
                raise SuiteError(
                    f"{path}: table {table!r} is not a table of {system.name}"
                    f" ({', '.join(sorted(known))})"
                )
            load_suite(system, table, suites_dir)
