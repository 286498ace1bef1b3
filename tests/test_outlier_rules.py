"""Every measure of every system is guarded against a slip of the pen, and the simulated seasons
raise no alarm: the rules replayed on the whole warehouse of one real run, period by period as the
daily runs judge new data, then slips planted in the latest period (x4, x10, x0.1, x1000 for
kilograms sent as tonnes)."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from bench.outlier_calibration import SLIPS, planted_slips
from maglumat.catalogue import load_catalogue, system_named
from maglumat.settings import MaglumatPaths
from quality.gate.rules import balance_failures
from quality.outliers import replay
from quality.suites import TableSuite, load_suite
from warehouse.raw import raw_table

# Numeric columns that are not measures of a series, and why.
NOT_MEASURES = {
    "identifiers, versions and positions": {
        "report_id",
        "order_id",
        "farm_id",
        "project_id",
        "contractor_id",
        "milestone_id",
        "plan_id",
        "record_id",
        "corrects_record_id",
        "revision",
        "version",
        "line_number",
        "sequence_no",
        "log_line",
    },
    "periods": {"order_year", "plan_year", "plan_month"},
    # Attributes of a register, not a series over time: bounded by `between` rules instead.
    "register attributes": {"budget_tmt", "capacity_tonnes_per_day", "length_km", "is_active"},
}
EXCLUDED = set().union(*NOT_MEASURES.values())
# Periods judged when the rules are replayed (the latest ones: days or months).
REPLAYED_PERIODS = 40
SLIPS_PER_RULE = 12


def _suites() -> list[tuple[str, str, TableSuite]]:
    return [
        (system.name, table.name, load_suite(system, table.name))
        for system in load_catalogue()
        for table in system.tables
    ]


def _guarded(suite: TableSuite) -> set[str]:
    columns = {rule.column for rule in suite.outliers}
    columns |= {rule.per for rule in suite.outliers if rule.per}
    for balance in suite.balances:
        columns |= {balance.total, *balance.plus, *balance.minus}
    return columns


def test_every_numeric_measure_of_every_system_has_a_rule() -> None:
    unguarded = [
        f"{system}.{table}.{column}"
        for system, table, suite in _suites()
        for column, kind in suite.columns.items()
        if kind in ("double", "integer") and column not in EXCLUDED
        if column not in _guarded(suite)
    ]
    assert unguarded == []


@pytest.fixture(scope="module")
def loaded_tables(all_sectors: MaglumatPaths) -> dict[tuple[str, str], pl.DataFrame]:
    connection = duckdb.connect(str(all_sectors.warehouse), read_only=True)
    try:
        return {
            (system, table): connection.execute(f"select * from {raw_table(system, table)}").pl()
            for system, table, suite in _suites()
            if suite.outliers or suite.balances
        }
    finally:
        connection.close()


def _typed(rows: pl.DataFrame, column: str) -> pl.DataFrame:
    return rows.with_columns(pl.col(column).cast(pl.Float64))


def test_the_simulated_seasons_raise_no_alarm(
    loaded_tables: dict[tuple[str, str], pl.DataFrame],
) -> None:
    alarms = []
    for system, table, suite in _suites():
        if (system, table) not in loaded_tables:
            continue
        rows = loaded_tables[(system, table)]
        assert rows.height, f"{system}.{table} has no rows to judge"
        for rule in suite.outliers:
            found = replay(_typed(rows, rule.column), rule, last_periods=REPLAYED_PERIODS)
            alarms += [f"{system}.{table}.{rule.column} row {o.row_number}: {o}" for o in found]
        alarms += [f"{system}.{table}: {f}" for f in balance_failures(rows, suite)]
    assert alarms == []


def test_slips_of_the_pen_are_caught_in_every_system(
    loaded_tables: dict[tuple[str, str], pl.DataFrame],
) -> None:
    caught_by_system: dict[str, dict[str, tuple[int, int]]] = {}
    weak_rules = []
    for system, table, suite in _suites():
        if (system, table) not in loaded_tables or not suite.outliers:
            continue
        rows = loaded_tables[(system, table)]
        for rule in suite.outliers:
            typed = _typed(rows, rule.column)
            for slip, factor in SLIPS.items():
                caught, planted = planted_slips(typed, rule, factor, limit=SLIPS_PER_RULE)
                best = caught_by_system.setdefault(system, {}).get(slip, (0, 0))
                if planted and caught / planted > (best[0] / best[1] if best[1] else -1):
                    caught_by_system[system][slip] = (caught, planted)
                # Every rule catches the gross slips wherever it can judge (a z-score rule
                # of a campaign's daily flow cannot see a tenth: its days start near zero).
                gross = slip in ("x10", "unit x1000") or (slip == "x0.1" and rule.kind != "zscore")
                # New connections swing by half from month to month: a tenfold slip on a
                # weak month looks like a strong one, so nine in ten is what a rule can do.
                if gross and planted and caught < 0.9 * planted:
                    weak_rules.append(f"{system}.{table}.{rule.column} {slip}: {caught}/{planted}")
    assert weak_rules == []
    # Each system with measures catches each slip, x4 included, with at least one of its rules.
    missed = {
        system: {slip: figures for slip, figures in slips.items() if figures[0] < figures[1]}
        for system, slips in caught_by_system.items()
    }
    assert {system: slips for system, slips in missed.items() if slips} == {}
    assert set(caught_by_system) >= {
        "agriculture_campaign",
        "chemical_monthly_form",
        "construction_projects",
        "fuel_energy_production",
        "livestock_census",
        "medicine_facility_reports",
        "processing_output",
        "telecom_statistics_api",
        "textile_mill_output",
        "transport_statistics_api",
    }
    assert all(set(slips) == set(SLIPS) for slips in caught_by_system.values())


@pytest.mark.parametrize("column", ["opening_stock", "received", "consumed", "closing_stock"])
@pytest.mark.parametrize("factor", list(SLIPS.values()), ids=list(SLIPS))
def test_a_slip_in_any_figure_of_a_stock_breaks_its_balance(
    loaded_tables: dict[tuple[str, str], pl.DataFrame], column: str, factor: float
) -> None:
    suite = load_suite(system_named("medicine_facility_reports"), "medicine_stock")
    rows = loaded_tables[("medicine_facility_reports", "medicine_stock")]
    row = rows.with_row_index("_index").filter(pl.col(column) > 0).row(0, named=True)["_index"]
    values = rows.get_column(column).to_list()
    values[row] = round(values[row] * factor)
    slipped = rows.with_columns(pl.Series(column, values))

    failures = balance_failures(slipped, suite)

    assert [(f.row_number, f.rule, f.field) for f in failures] == [
        (row + 1, "stock_balance", "closing_stock")
    ]
