"""Reporting completeness and timeliness: the delivery schedule each system is measured against
(from the source catalogue), and the data-quality indicators on a built warehouse, recomputed
from the transmissions and the reporting units."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import pytest

from maglumat.catalogue import load_catalogue as load_source_catalogue
from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from pipelines.indicators import catalogue as indicator_catalogue
from tests.support import built_indicators
from tests.support import duckdb_rows as _query

DBT_PROJECT_DIR = indicator_catalogue.PROJECT_DIR


@pytest.fixture(scope="module")
def built(
    request: pytest.FixtureRequest,
    all_sectors: MaglumatPaths,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    """The warehouse of the all-sector run with the indicator layer built again, and the dbt
    target folder of its docs."""
    return built_indicators(request.config, all_sectors, tmp_path_factory)


def test_delivery_schedules_seed_matches_the_source_catalogue() -> None:
    """The schedule dbt sees is the one pipelines/<sector>/sources.yml declares."""
    path = DBT_PROJECT_DIR / "seeds" / "reference" / "generated" / "ref_delivery_schedules.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        seeded = {row["system_name"]: row for row in csv.DictReader(handle)}
    systems = load_source_catalogue()
    assert seeded.keys() == {system.name for system in systems}
    for system in systems:
        row = seeded[system.name]
        assert row["every"] == system.delivery.every
        assert int(row["day_of_month"]) == system.delivery.day_of_month
        assert row["expected_by"] == system.delivery.expected_by
        assert row["timezone"] == system.delivery.timezone
        assert int(row["grace_hours"]) == system.delivery.grace_hours


def test_every_system_needs_a_delivery_entry() -> None:
    deliveries = indicator_catalogue.load_deliveries()
    systems = load_source_catalogue()
    with pytest.raises(indicator_catalogue.CatalogueError, match="without a delivery entry"):
        indicator_catalogue.validate_deliveries(deliveries[1:], systems)
    unknown = [*deliveries, {**deliveries[0], "system": "no_such_system"}]
    with pytest.raises(indicator_catalogue.CatalogueError, match="not a system"):
        indicator_catalogue.validate_deliveries(unknown, systems)


def test_every_system_has_completeness_and_timeliness(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    rows = _query(
        warehouse,
        "select indicator_id, breakdown, min(value), max(value) "
        "from indicators.fct_indicator_values "
        "where indicator_id in ('dq_reporting_completeness_pct', 'dq_reporting_timeliness_pct') "
        "and period_type = 'month' group by indicator_id, breakdown",
    )
    systems = {system.name for system in load_source_catalogue()}
    for indicator in ("dq_reporting_completeness_pct", "dq_reporting_timeliness_pct"):
        assert {row[1] for row in rows if row[0] == indicator} == systems
    assert all(0 <= low <= high <= 100 for _, _, low, high in rows)


def test_fuel_energy_reporting_matches_the_transmissions(built: tuple[Path, Path]) -> None:
    """Each year recomputed from the daily transmissions: a day is due the next day at 10:00
    Ashgabat (UTC+5) plus two grace hours, and counts on time when its first transmission came
    by then; days not yet due at the demo's "now" are not counted. Timeliness judges only what
    the dispatch sent day by day after it was connected (1 September 2023): the archive of the
    days before came in one hand-over, and counts for completeness only."""
    warehouse, _ = built
    first = {
        day: moment
        for day, moment in _query(
            warehouse,
            "select report_date, min(transmitted_at) from staging.stg_fuel_energy__daily_reports "
            "group by report_date",
        )
    }
    ashgabat = datetime.timezone(datetime.timedelta(hours=5))
    CONNECTED = datetime.date(2023, 9, 1)  # noqa: N806 - the catalogue's connected_on

    def deadline(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(
            day + datetime.timedelta(days=1), datetime.time(12, 0), ashgabat
        )

    late_days = 0
    for year in (2022, 2023):
        days = [
            datetime.date(year, 1, 1) + datetime.timedelta(days=n)
            for n in range(366)
            if (datetime.date(year, 1, 1) + datetime.timedelta(days=n)).year == year
        ]
        days = [day for day in days if deadline(day) <= DEFAULT_AS_OF]
        delivered = [day for day in days if day in first]
        day_by_day = [day for day in delivered if day >= CONNECTED]
        on_time = [day for day in day_by_day if first[day] <= deadline(day)]
        late_days += len(day_by_day) - len(on_time)
        published = dict(
            _query(
                warehouse,
                "select indicator_id, value from indicators.fct_indicator_values "
                "where breakdown = 'fuel_energy_production' and period_type = 'year' "
                "and period_start = ? and region_id = 'TM'",
                [datetime.date(year, 1, 1)],
            )
        )
        assert published["dq_reporting_completeness_pct"] == pytest.approx(
            100 * len(delivered) / len(days), abs=1e-5
        )
        if not day_by_day:
            assert "dq_reporting_timeliness_pct" not in published  # all archive
            continue
        assert published["dq_reporting_timeliness_pct"] == pytest.approx(
            100 * len(on_time) / len(day_by_day), abs=1e-5
        )
    assert late_days > 0  # the simulated system is late at least once (17 September 2023)


def test_reporting_unit_completeness_counts_each_missing_report(built: tuple[Path, Path]) -> None:
    """Every textile mill reports every month of 2022 but Kaka spinning mill's June: the
    year's completeness per reporting unit is (mills x 12 - 1) / (mills x 12)."""
    from simulator import textile

    warehouse, _ = built
    due = len(textile.MILLS) * 12
    (row,) = _query(
        warehouse,
        "select numerator, denominator, value from indicators.fct_indicator_values"
        " where indicator_id = 'dq_unit_reporting_completeness_pct' and period_type = 'year'"
        " and period_start = date '2022-01-01' and region_level = 'country'"
        " and enterprise_id is null and breakdown = 'textile_mill_output'",
    )
    assert (row[0], row[1]) == (due - 1, due)
    assert row[2] == pytest.approx(100 * (due - 1) / due, abs=1e-6)
    missing = _query(
        warehouse,
        "select unit_id, period_start from intermediate.int_reporting_unit_periods"
        " where system_name = 'textile_mill_output' and is_reported = 0"
        " and year(period_start) = 2022",
    )
    assert missing == [("textile_mill_output:TX-KKA", datetime.date(2022, 6, 1))]
    systems = {
        system
        for (system,) in _query(
            warehouse, "select distinct system_name from intermediate.int_reporting_unit_periods"
        )
    }
    assert len(systems) == 10, "every system but the e-document log has reporting units"
