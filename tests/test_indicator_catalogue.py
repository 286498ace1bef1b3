"""The management indicator catalogue: its YAML, validated (three languages, a population for
every filter, known ministries and aggregations), and the dbt files generated from it."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

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
