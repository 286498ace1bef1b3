"""Outlier rules against a season of loaded data: false alarms and planted slips, per rule.

    python -m bench.outlier_calibration --warehouse var/snapshots/current/warehouse.duckdb

Every outlier rule of every suite is replayed on its raw table: each period (the rule's
``order_by`` or ``period`` column) is judged against the periods before it, as the daily runs
judge a new batch, and the alarms are counted (a normal season should raise none). Then, in the
latest period, one value of each group with enough history is multiplied by each planted slip
(x4, x10, x0.1, and x1000 for kilograms sent as tonnes) and the share of slips caught is printed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from maglumat.catalogue import load_catalogue
from quality.outliers import find_outliers, replay
from quality.suites import OutlierRule, load_suite
from warehouse.raw import raw_table

SLIPS = {"x4": 4.0, "x10": 10.0, "x0.1": 0.1, "unit x1000": 1000.0}


@dataclass(frozen=True)
class RuleFigures:
    system: str
    table: str
    rule: OutlierRule
    rows: int
    alarms: int
    caught: dict[str, tuple[int, int]]  # slip -> (caught, planted)


def _slipped(batch: pl.DataFrame, rule: OutlierRule, row: int, factor: float) -> pl.DataFrame:
    values = batch.get_column(rule.column).to_list()
    values[row] = values[row] * factor
    return batch.with_columns(pl.Series(rule.column, values, dtype=pl.Float64))


def judgeable_rows(
    batch: pl.DataFrame, history: pl.DataFrame, rule: OutlierRule, limit: int | None = None
) -> list[int]:
    """One row (0-based) per group of ``batch`` that the rule can judge: a slip of a million
    there is caught (a group with too little history is never judged)."""
    candidates = (
        batch.with_row_index("_row")
        .filter(pl.col(rule.column) > 0)
        .unique(subset=list(rule.group_by), keep="first", maintain_order=True)
        .get_column("_row")
        .to_list()
    )
    found = []
    for row in candidates:
        if limit is not None and len(found) >= limit:
            break
        if any(
            o.row_number == row + 1
            for o in find_outliers(_slipped(batch, rule, row, 1e6), history, rule)
        ):
            found.append(row)
    return found


def planted_slips(
    rows: pl.DataFrame, rule: OutlierRule, factor: float, limit: int | None = None
) -> tuple[int, int]:
    """(caught, planted): a slip of ``factor`` in each judgeable group of the latest period,
    one at a time."""
    time = str(rule.period or rule.order_by)
    latest = rows.get_column(time).drop_nulls().max()
    batch = rows.filter(pl.col(time) == latest)
    history = rows.filter(pl.col(time) < latest)
    planted = judgeable_rows(batch, history, rule, limit)
    caught = sum(
        any(
            o.row_number == row + 1
            for o in find_outliers(_slipped(batch, rule, row, factor), history, rule)
        )
        for row in planted
    )
    return caught, len(planted)


def calibrate(warehouse: Path, only: set[str] | None = None) -> list[RuleFigures]:
    figures = []
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        for system in load_catalogue():
            for table in system.tables:
                suite = load_suite(system, table.name)
                if not suite.outliers or (only and f"{system.name}.{table.name}" not in only):
                    continue
                rows = connection.execute(
                    f"select * from {raw_table(system.name, table.name)}"  # noqa: S608
                ).pl()
                for rule in suite.outliers:
                    typed = rows.with_columns(pl.col(rule.column).cast(pl.Float64))
                    alarms = replay(typed, rule)
                    caught = {name: planted_slips(typed, rule, f) for name, f in SLIPS.items()}
                    figures.append(
                        RuleFigures(system.name, table.name, rule, rows.height, len(alarms), caught)
                    )
    finally:
        connection.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--only", nargs="*", help="system.table, to calibrate some tables only")
    arguments = parser.parse_args()
    print(f"{'system.table':45} {'column':24} {'kind':8} {'rows':>7} {'alarms':>6}  slips caught")
    for figure in calibrate(arguments.warehouse, set(arguments.only or ())):
        slips = "  ".join(
            f"{name} {caught}/{planted}" for name, (caught, planted) in figure.caught.items()
        )
        print(
            f"{figure.system + '.' + figure.table:45} {figure.rule.column:24} "
            f"{figure.rule.kind:8} {figure.rows:>7} {figure.alarms:>6}  {slips}"
        )


if __name__ == "__main__":
    main()
