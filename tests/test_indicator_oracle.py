"""The published indicators against an independent recomputation (``tests/oracle``) from the
simulated sector systems' own records, for the all-sector run as of the demo's day: every row
of each indicator covered (every period type and region level it is published at, enterprise
rows and breakdowns), numerator, denominator and value; all differences of an indicator are
reported together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from tests.oracle import (
    agriculture,
    chemical,
    construction,
    data_quality,
    edocument,
    fuel_energy,
    livestock,
    medicine,
    partial,
    processing,
    telecom,
    textile,
    transport,
)
from tests.oracle.compare import check, check_flag

pytestmark = pytest.mark.slow

Expected = Callable[[int, dt.datetime], dict[str, pl.DataFrame]]


@pytest.fixture
def snapshot(all_sectors: MaglumatPaths) -> Path:
    current = all_sectors.current_snapshot
    assert current.exists(), "the all-sector run published no snapshot"
    return current


def _check_all(snapshot: Path, compute: Expected, breakdowns: list[str] | None = None) -> None:
    reports = [
        report
        for frame in compute(DEFAULT_SEED, DEFAULT_AS_OF).values()
        if (report := check(snapshot, frame, breakdowns))
    ]
    assert not reports, "\n".join(reports)


def test_agriculture_campaign_indicators(snapshot: Path) -> None:
    _check_all(snapshot, agriculture.expected)


def test_livestock_indicators(snapshot: Path) -> None:
    _check_all(snapshot, livestock.expected)


def test_chemical_indicators(snapshot: Path) -> None:
    _check_all(snapshot, chemical.expected)


def test_construction_indicators(snapshot: Path) -> None:
    _check_all(snapshot, construction.expected)


def test_edocument_indicators(snapshot: Path) -> None:
    _check_all(snapshot, edocument.expected)


def test_fuel_energy_indicators(snapshot: Path) -> None:
    _check_all(snapshot, fuel_energy.expected)


def test_processing_indicators(snapshot: Path) -> None:
    _check_all(snapshot, processing.expected)


def test_transport_indicators(snapshot: Path) -> None:
    _check_all(snapshot, transport.expected)


def test_telecom_indicators(snapshot: Path) -> None:
    _check_all(snapshot, telecom.expected)


def test_medicine_indicators(snapshot: Path) -> None:
    _check_all(snapshot, medicine.expected)


def test_textile_indicators(snapshot: Path) -> None:
    _check_all(snapshot, textile.expected)


def test_data_quality_indicators(snapshot: Path) -> None:
    _check_all(snapshot, data_quality.expected, data_quality.SYSTEMS)


def test_agriculture_reporting_completeness(snapshot: Path) -> None:
    """District-days owed a report, counted from the campaign database's own reports."""
    report = check(snapshot, agriculture.reporting_completeness(DEFAULT_SEED, DEFAULT_AS_OF))
    assert not report, report


@pytest.mark.parametrize("system", sorted(data_quality.DAILY_SYSTEMS))
def test_daily_systems_reporting_timeliness(snapshot: Path, system: str) -> None:
    """Each plant's or district's first record of a day against the day's deadline."""
    expected = data_quality.daily_timeliness(DEFAULT_SEED, DEFAULT_AS_OF, system)
    report = check(snapshot, expected, [system])
    assert not report, report


def test_partial_periods(snapshot: Path) -> None:
    """Periods reaching past the day the indicator and its system were complete through."""
    reports = [
        report
        for frame in partial.expected(DEFAULT_SEED, DEFAULT_AS_OF).values()
        if (report := check_flag(snapshot, frame, "is_partial_period"))
    ]
    assert not reports, "\n".join(reports)


def test_construction_restated_rows(snapshot: Path) -> None:
    """Months judged against a project version entered after they ended."""
    reports = [
        report
        for frame in construction.restated(DEFAULT_SEED, DEFAULT_AS_OF).values()
        if (report := check_flag(snapshot, frame, "is_restated"))
    ]
    assert not reports, "\n".join(reports)


def test_campaign_progress_is_judged_against_the_planned_path(snapshot: Path) -> None:
    """Every day's campaign progress at every level has the planned path as its target and the
    status that the thresholds give against it (cotton at 24.5 % on 30 September is on a path of
    25.1 %: green, like its expected finish 23 days ahead of plan)."""
    expected = agriculture.planned_path(DEFAULT_SEED, DEFAULT_AS_OF)
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        published = connection.execute(
            """
            select breakdown, period_start, region_level, region_id, target, status
            from indicators.fct_indicator_values
            where indicator_id = 'agr_campaign_progress_pct' and period_type = 'day'
            """
        ).pl()
    joined = expected.join(
        published, on=["breakdown", "period_start", "region_level", "region_id"], how="full"
    )
    assert joined.height == expected.height == published.height
    wrong = joined.filter(
        ((pl.col("target") - pl.col("expected_target")).abs() > 1e-4)  # path amounts kept to 1 kg
        | (pl.col("target").is_null() != pl.col("expected_target").is_null())
        | (pl.col("status").fill_null("none") != pl.col("expected_status").fill_null("none"))
    )
    assert wrong.is_empty(), wrong.head(20)
    cotton = joined.filter(
        (pl.col("breakdown") == "cotton_harvest_2023")
        & (pl.col("region_id") == "TM")
        & (pl.col("period_start") == dt.date(2023, 9, 30))
    ).row(0, named=True)
    assert round(cotton["target"], 1) == 25.1
    assert cotton["status"] == "green"
