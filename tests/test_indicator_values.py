"""Indicator values on a built warehouse, each recomputed independently from the marts or the
raw rows: totals, ratios of sums, medians, plan fulfilment against each plan version,
year-to-date sums, traffic-light status, and the documentation of the indicator marts."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from maglumat.settings import MaglumatPaths
from pipelines.indicators import catalogue as indicator_catalogue
from tests.support import built_indicators
from tests.support import duckdb_rows as _query


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, Any]]:
    return indicator_catalogue.load_catalogue()


@pytest.fixture(scope="module")
def built(
    request: pytest.FixtureRequest,
    all_sectors: MaglumatPaths,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    """The warehouse of the all-sector run with the indicator layer built again, and the dbt
    target folder of its docs."""
    return built_indicators(request.config, all_sectors, tmp_path_factory)


def test_every_indicator_has_values_at_every_period_type(
    built: tuple[Path, Path], catalogue: list[dict[str, Any]]
) -> None:
    warehouse, _ = built
    produced = set(
        _query(
            warehouse,
            "select distinct indicator_id, period_type from indicators.fct_indicator_values "
            "where value is not null",
        )
    )
    expected = {(ind["id"], period) for ind in catalogue for period in ind["periodicity"]}
    assert expected - produced == set()


def test_gas_output_matches_the_mart(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    (independent,) = _query(
        warehouse,
        "select sum(natural_gas_actual_thousand_m3) / 1e6, sum(natural_gas_plan_thousand_m3) / 1e6"
        " from marts.fct_fuel_energy_monthly_production where year(report_month) = 2022",
    )
    (row,) = _query(
        warehouse,
        "select value, target, variance from indicators.fct_indicator_values "
        "where indicator_id = 'fe_gas_output_bcm' and period_type = 'year' "
        "and period_start = date '2022-01-01' and region_id = 'TM' and enterprise_id is null",
    )
    assert row[0] == pytest.approx(float(independent[0]), abs=1e-6)  # published to 6 decimals
    assert 60 < row[0] < 100  # Turkmenistan produces about 80 bcm a year
    assert row[1] == pytest.approx(float(independent[1]), rel=1e-9)
    assert row[2] == pytest.approx(row[0] - row[1], abs=1e-9)


def test_processing_fulfilment_by_province_is_ratio_of_sums(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    independent = dict(
        _query(
            warehouse,
            "select province_code, 100 * sum(output_tonnes) / sum(plan_tonnes) "
            "from marts.fct_processing_output_monthly "
            "where month_date >= date '2023-01-01' and month_date < date '2023-04-01' "
            "and coalesce(output_tonnes, plan_tonnes) is not null group by province_code",
        )
    )
    published = dict(
        _query(
            warehouse,
            "select region_id, value from indicators.fct_indicator_values "
            "where indicator_id = 'proc_plan_fulfilment_pct' and period_type = 'quarter' "
            "and period_start = date '2023-01-01' and region_level = 'province' "
            "and enterprise_id is null",
        )
    )
    assert published.keys() == independent.keys()
    for province, value in independent.items():
        assert published[province] == pytest.approx(float(value), abs=1e-5)


def test_cycle_time_median_matches_the_documents(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    days = [
        float(value)
        for (value,) in _query(
            warehouse,
            "select cycle_time_days from marts.fct_edocument_documents "
            "where is_executed and document_type = 'letter' and year(executed_date) = 2022",
        )
    ]
    (row,) = _query(
        warehouse,
        "select value, denominator from indicators.fct_indicator_values "
        "where indicator_id = 'edoc_cycle_time_median_days' and period_type = 'year' "
        "and period_start = date '2022-01-01' and breakdown = 'letter'",
    )
    assert row[0] == pytest.approx(statistics.median(days), abs=1e-5)
    assert row[1] == len(days)


def test_campaign_progress_agrees_with_ind_campaign_progress(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    rows = _query(
        warehouse,
        "select values.value, progress.progress_pct "
        "from indicators.fct_indicator_values as values "
        "inner join indicators.ind_campaign_progress as progress "
        "on values.breakdown = progress.campaign_id and values.region_id = progress.region_id "
        "and values.period_start = progress.report_date "
        "where values.indicator_id = 'agr_campaign_progress_pct' and values.period_type = 'day'",
    )
    assert len(rows) > 1000
    for value, progress_pct in rows:
        assert value == pytest.approx(progress_pct, abs=0.006)


def test_status_follows_the_thresholds(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    rows = _query(
        warehouse,
        "select values.value, values.target, values.status, indicators.direction, "
        "indicators.threshold_basis, indicators.green_threshold, indicators.amber_threshold "
        "from indicators.fct_indicator_values as values "
        "inner join indicators.dim_indicators as indicators "
        "on values.indicator_id = indicators.indicator_id "
        "where indicators.green_threshold is not null and values.value is not null "
        "and values.target <> 0",
    )
    assert {row[2] for row in rows} == {"green", "amber", "red"}
    for value, target, status, direction, basis, green, amber in rows:
        measured = value if basis == "value" else 100 * value / target
        sign = 1 if direction == "higher_is_better" else -1
        if sign * measured >= sign * green:
            expected = "green"
        elif sign * measured >= sign * amber:
            expected = "amber"
        else:
            expected = "red"
        assert status == expected


def test_docs_document_every_indicator_mart_column(
    built: tuple[Path, Path], catalogue: list[dict[str, Any]]
) -> None:
    _, target = built
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    models = ["fct_indicator_values", "dim_indicators"] + [
        f"ind_{sector}_monthly"
        for sector in indicator_catalogue.sectors(catalogue)
        if indicator_catalogue.wide_indicators(catalogue, sector)
    ]
    for model in models:
        unique_id = f"model.maglumat.{model}"
        built_columns = set(catalog["nodes"][unique_id]["columns"])
        documented = {
            name
            for name, column in manifest["nodes"][unique_id]["columns"].items()
            if column["description"].strip()
        }
        assert built_columns, model
        assert built_columns <= documented, (model, built_columns - documented)


def _plan_by_version(
    rows: list[tuple], month_end: dict[tuple, Any]
) -> dict[str, dict[tuple, float]]:
    """Original, in-force (approved by the month's end) and latest plan per key, computed in
    Python from the source's plan rows (key, version, approved date, plan, updated at)."""
    newest: dict[tuple, tuple] = {}
    for key, version, approved, plan, updated in rows:
        if (key, version) not in newest or updated > newest[(key, version)][2]:
            newest[(key, version)] = (approved, plan, updated)
    plans: dict[str, dict[tuple, float]] = {"original": {}, "in_force": {}, "latest": {}}
    versions: dict[tuple, list[tuple]] = {}
    for (key, version), (approved, plan, _) in newest.items():
        versions.setdefault(key, []).append((version, approved, float(plan)))
    for key, listed in versions.items():
        listed.sort()
        plans["original"][key] = listed[0][2]
        plans["latest"][key] = listed[-1][2]
        in_force = [plan for _, approved, plan in listed if approved <= month_end[key]]
        if in_force:
            plans["in_force"][key] = in_force[-1]
    return plans


def test_processing_fulfilment_by_plan_version_matches_the_source(
    built: tuple[Path, Path],
) -> None:
    """Each month of 2022 against its original plan, the version approved by the month's end
    and the latest revision, recomputed from the raw plan rows; a plan revised in July 2022
    makes the original differ from the others."""
    warehouse, _ = built
    raw = _query(
        warehouse,
        "select plant_code, product_code, make_date(plan_year, plan_month, 1), version, "
        "approved_on, plan_tonnes, updated_at, last_day(make_date(plan_year, plan_month, 1)) "
        "from raw.processing_output__monthly_plans where plan_year = 2022",
    )
    month_end = {(r[0], r[1], r[2]): r[7] for r in raw}
    plans = _plan_by_version([((r[0], r[1], r[2]), r[3], r[4], r[5], r[6]) for r in raw], month_end)
    outputs = {
        (plant, product, month): float(tonnes)
        for plant, product, month, tonnes in _query(
            warehouse,
            "select plant_code, product_code, month_date, output_tonnes "
            "from marts.fct_processing_output_monthly where year(month_date) = 2022",
        )
    }
    published = dict(
        _query(
            warehouse,
            "select indicator_id, value from indicators.fct_indicator_values "
            "where indicator_id like 'proc_plan_%_fulfilment_pct' and period_type = 'year' "
            "and period_start = date '2022-01-01' and region_level = 'country' "
            "and enterprise_id is null",
        )
    )
    expected = {}
    for variant, plan in plans.items():
        keys = [key for key in plan if key in outputs]
        expected[variant] = 100 * sum(outputs[k] for k in keys) / sum(plan[k] for k in keys)
        assert published[f"proc_plan_{variant}_fulfilment_pct"] == pytest.approx(
            expected[variant], abs=1e-5
        )
    assert expected["original"] != pytest.approx(expected["latest"], abs=1e-3)


def test_state_order_revision_changes_the_district_fulfilment(built: tuple[Path, Path]) -> None:
    """A district whose cotton order was revised: the original and the latest fulfilment on the
    last campaign day are the cumulative harvest over each version's tonnes in the source."""
    warehouse, _ = built
    revised = _query(
        warehouse,
        "select district_code, min(plan_tonnes) filter (where version = 1), "
        "max(plan_tonnes) filter (where version = (select max(version) "
        "from raw.agriculture_campaign__state_orders as later where later.order_year = 2023 "
        "and later.crop = 'cotton' and later.district_code = orders.district_code)) "
        "from raw.agriculture_campaign__state_orders as orders "
        "where order_year = 2023 and crop = 'cotton' group by district_code "
        "having count(distinct version) > 1",
    )
    assert revised, "the simulated state orders contain a revision"
    for district, original, latest in revised:
        (cumulative,) = _query(
            warehouse,
            "select cumulative_amount from marts.fct_campaign_daily_progress "
            "where campaign_id = 'cotton_harvest_2023' and district_code = ? "
            "order by report_date desc limit 1",
            [district],
        )[0]
        values = dict(
            _query(
                warehouse,
                "select indicator_id, value from indicators.fct_indicator_values "
                "where indicator_id like 'agr_state_order_%_fulfilment_pct' "
                "and period_type = 'campaign' and breakdown = 'cotton_harvest_2023' "
                "and region_id = ?",
                [district],
            )
        )
        assert values["agr_state_order_original_fulfilment_pct"] == pytest.approx(
            100 * float(cumulative) / float(original), abs=1e-5
        )
        assert values["agr_state_order_latest_fulfilment_pct"] == pytest.approx(
            100 * float(cumulative) / float(latest), abs=1e-5
        )
        assert original != latest


def test_year_to_date_adds_up_the_months_of_the_year(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    monthly = _query(
        warehouse,
        "select report_month, sum(natural_gas_actual_thousand_m3) / 1e6"
        " from marts.fct_fuel_energy_monthly_production where year(report_month) = 2023"
        " and natural_gas_actual_thousand_m3 is not null group by report_month order by 1",
    )
    published = dict(
        _query(
            warehouse,
            "select period_start, value from indicators.fct_indicator_values"
            " where indicator_id = 'fe_gas_output_bcm' and period_type = 'ytd'"
            " and region_level = 'country' and enterprise_id is null"
            " and year(period_start) = 2023",
        )
    )
    running = 0.0
    for month, bcm in monthly:
        running += float(bcm)
        assert published[month] == pytest.approx(running, abs=1e-6), month
    assert published.keys() == {month for month, _ in monthly}
    wide = dict(
        _query(
            warehouse,
            "select period_start, fe_gas_output_bcm_ytd from indicators.ind_fuel_energy_monthly"
            " where region_id = 'TM' and enterprise_id is null and year(period_start) = 2023",
        )
    )
    assert wide == pytest.approx(published)


def test_textile_exports_against_the_export_plan(built: tuple[Path, Path]) -> None:
    warehouse, _ = built
    (independent,) = _query(
        warehouse,
        "select 100 * sum(export_value_tmt) / sum(export_value_plan_tmt)"
        " from marts.fct_textile_mill_monthly_exports"
        " where year(report_month) = 2022 and is_reported and export_value_plan_tmt is not null",
    )
    (row,) = _query(
        warehouse,
        "select value, target, status from indicators.fct_indicator_values"
        " where indicator_id = 'tex_export_plan_fulfilment_pct' and period_type = 'year'"
        " and period_start = date '2022-01-01' and region_level = 'country'"
        " and enterprise_id is null",
    )
    assert row[0] == pytest.approx(float(independent[0]), abs=1e-6)
    assert 85 < row[0] < 110
    assert row[1] == 100
