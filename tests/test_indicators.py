"""The management indicator catalogue: YAML, compilation, and values on a built warehouse."""

from __future__ import annotations

import copy
import csv
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from maglumat.catalogue import load_catalogue as load_source_catalogue
from maglumat.demo import DEFAULT_AS_OF
from maglumat.settings import MaglumatPaths
from pipelines.assets.transform import dbt_executable
from pipelines.indicators import catalogue as indicator_catalogue
from pipelines.indicators import generate

DBT_PROJECT_DIR = indicator_catalogue.PROJECT_DIR
CYRILLIC = re.compile("[А-Яа-яЁё]")


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, Any]]:
    return indicator_catalogue.load_catalogue()


def test_generated_files_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert generate.main(["--check"]) == 0, "run: python -m pipelines.indicators.generate"
    # A file left in a generated/ folder by a removed system is out of date as well.
    leftover = DBT_PROJECT_DIR / "macros" / "generated" / "left_by_a_removed_system.txt"
    leftover.write_text("stale", encoding="utf-8")
    try:
        assert generate.main(["--check"]) == 1
    finally:
        leftover.unlink()
    assert "out of date: macros/generated/left_by_a_removed_system.txt" in capsys.readouterr().out


def test_catalogue_has_the_issue_indicators(catalogue: list[dict[str, Any]]) -> None:
    ids = {ind["id"] for ind in catalogue}
    assert len(ids) >= 25
    sectors = {ind["sector"] for ind in catalogue}
    assert sectors >= {
        "agriculture",
        "fuel_energy",
        "chemical",
        "processing",
        "textile",
        "transport",
        "telecom",
        "construction",
        "medicine",
        "edocument",
        "livestock",
    }
    aggregations = {ind["aggregation"] for ind in catalogue}
    assert aggregations >= {"ratio", "sum", "percentile", "yoy_growth", "share_below_plan"}
    assert {
        "agr_campaign_progress_pct",
        "agr_required_daily_rate",
        "agr_expected_finish_delay_days",
        "agr_yield_t_per_ha",
        "agr_lagging_districts",
        "edoc_cycle_time_median_days",
        "edoc_cycle_time_p90_days",
        "edoc_executed_on_time_pct",
        "edoc_overdue_now",
        "med_stock_days_remaining",
        "med_stock_outs",
        "con_projects_behind_schedule",
        "con_budget_execution_pct",
    } <= ids
    # Plan fulfilment against the original plan, the version in force and the latest revision.
    for template in (
        "agr_state_order_{}_fulfilment_pct",
        "proc_plan_{}_fulfilment_pct",
        "fe_gas_plan_{}_fulfilment_pct",
        "fe_oil_plan_{}_fulfilment_pct",
        "fe_power_plan_{}_fulfilment_pct",
    ):
        assert {template.format(v) for v in ("original", "in_force", "latest")} <= ids


def test_names_and_descriptions_in_three_languages(catalogue: list[dict[str, Any]]) -> None:
    for ind in catalogue:
        for field in ("name", "description"):
            texts = ind[field]
            assert all(texts[lang].strip() for lang in ("tk", "ru", "en")), (ind["id"], field)
            # A copy of the English text is not a translation.
            assert texts["tk"] != texts["en"], (ind["id"], field)
            assert CYRILLIC.search(texts["ru"]), (ind["id"], field)
            assert not CYRILLIC.search(texts["tk"] + texts["en"]), (ind["id"], field)


def test_every_filter_and_threshold_is_published_with_its_indicator(
    catalogue: list[dict[str, Any]],
) -> None:
    lagging_threshold = yaml.safe_load(
        (DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")
    )["vars"]["lagging_threshold_pp"]
    for ind in catalogue:
        if ind.get("filter"):
            assert all(ind["population"][lang].strip() for lang in ("tk", "ru", "en")), ind["id"]
    lagging = next(ind for ind in catalogue if ind["id"] == "agr_lagging_districts")
    for lang in ("tk", "ru", "en"):
        assert str(lagging_threshold) in lagging["description"][lang]
        assert str(lagging_threshold) in lagging["population"][lang]


def test_sources_are_models_of_the_project(catalogue: list[dict[str, Any]]) -> None:
    models = {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
    assert {ind["source"] for ind in catalogue} <= models


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda ind: ind["name"].pop("ru"), "name needs tk, ru and en"),
        (lambda ind: ind.update(ministry_id="nowhere"), "unknown ministry_id"),
        (lambda ind: ind.update(aggregation="average"), "unknown aggregation"),
        (lambda ind: ind.pop("denominator"), "needs a denominator"),
        (lambda ind: ind.update(periodicity=["fortnight"]), "bad periodicity"),
        (lambda ind: ind["thresholds"].update(green=90, amber=95), "beyond amber"),
        # A filter decides who is counted: it must be said in words, in every language.
        (lambda ind: ind.update(filter="enterprise_id is not null"), "filter needs a population"),
        (
            lambda ind: ind.update(filter="true", population={"tk": "a", "en": "b"}),
            "population needs tk, ru and en",
        ),
    ],
)
def test_validation_rejects_broken_entries(
    catalogue: list[dict[str, Any]], change: Any, message: str
) -> None:
    broken = copy.deepcopy(catalogue)
    entry = next(ind for ind in broken if ind["id"] == "fe_gas_plan_fulfilment_pct")
    change(entry)
    with pytest.raises(indicator_catalogue.CatalogueError, match=message):
        indicator_catalogue.validate(broken, indicator_catalogue.ministry_ids(DBT_PROJECT_DIR))


def _dbt(args: list[str], home: Path, scratch: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            dbt_executable(),
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(scratch / "dbt-target"),
            "--log-path",
            str(scratch / "dbt-logs"),
        ],
        env={**os.environ, "MAGLUMAT_HOME": str(home)},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def built(
    all_sectors: MaglumatPaths, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A copy of the warehouse of a real run over all ten sectors, with the indicator layer
    built and tested again and the docs generated; yields the warehouse file and the dbt target
    folder."""
    scratch = tmp_path_factory.mktemp("indicators")
    home = scratch / "home"
    (home / "warehouse").mkdir(parents=True)
    warehouse = home / "warehouse" / "warehouse.duckdb"
    shutil.copyfile(all_sectors.warehouse, warehouse)
    selection = [
        "--select",
        "path:models/intermediate/agriculture",
        "path:models/intermediate/processing",
        "path:models/intermediate/fuel_energy",
        "path:models/intermediate/transport",
        "path:models/indicators",
        "path:tests/assert_indicator_*",
    ]
    result = _dbt(["build", *selection], home, scratch)
    assert result.returncode == 0, result.stdout[-4000:]
    docs = _dbt(["docs", "generate"], home, scratch)
    assert docs.returncode == 0, docs.stdout[-4000:]
    return warehouse, scratch / "dbt-target"


def _query(warehouse: Path, sql: str, parameters: list[Any] | None = None) -> list[tuple]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql, parameters or []).fetchall()
    finally:
        connection.close()


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
