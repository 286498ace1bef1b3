"""``maglumat search``: indicators, tables and columns by their names and descriptions in
Turkmen, Russian or English, diacritics optional, with each indicator's latest value."""

from __future__ import annotations

import time

import duckdb
import pytest

from maglumat.settings import MaglumatPaths
from pipelines.cli import main
from warehouse.client import Warehouse
from warehouse.raw import ensure_audit_schema
from warehouse.search import fold, render, search, words
from warehouse.snapshot import publish


def test_folding_forgives_missing_marks_and_case() -> None:
    assert fold("Bugdaý") == "bugday"
    assert fold("ŞÄHER ÖŇÜNDÄKI ÇÄKLER Žurnal") == "saher onundaki cakler zurnal"
    assert fold("Учёт ПШЕНИЦЫ") == "учет пшеницы"
    assert fold("Café") == "cafe"
    assert fold("Выполнений") == "выполнений", "й is a letter of its own, not и"
    assert words("fct_indicator_values.value, Ýerine-ýetiriliş") == [
        "fct",
        "indicator",
        "values",
        "value",
        "yerine",
        "yetirilis",
    ]


def _wheat_catalogue(paths: MaglumatPaths) -> None:
    """A warehouse whose catalogue names wheat in three languages (the demo's catalogue has no
    wheat indicator: wheat is a campaign, a breakdown of campaign progress)."""
    connection = duckdb.connect(str(paths.warehouse))
    try:
        ensure_audit_schema(connection)
        connection.execute("create schema indicators")
        connection.execute("create schema marts")
        connection.execute(
            """
            create table indicators.dim_indicators as
            select * from (values
                ('agr_wheat_harvest_pct', 'Bugdaý oragynyň ýerine ýetirilişi',
                 'Уборка пшеницы', 'Wheat harvest progress',
                 'Ýygnalan bugdaýyň döwlet sargydyna gatnaşygy.',
                 'Убранная пшеница к госзаказу.', 'Wheat harvested against the state order.',
                 '%', 'agriculture', 'day,month'),
                ('agr_sowing_pct', 'Ekiş', 'Сев', 'Sowing progress',
                 'Ekilen meýdan, şol sanda bugdaý.', 'Засеянная площадь.',
                 'Area sown, wheat included.', '%', 'agriculture', 'day')
            ) as t(indicator_id, name_tk, name_ru, name_en, description_tk, description_ru,
                   description_en, unit, sector, periodicity)
            """
        )
        connection.execute(
            """
            create table indicators.fct_indicator_values as
            select * from (values
                ('agr_wheat_harvest_pct', 'day', date '2023-07-04', 'country', 'TM',
                 null, 'wheat_harvest_2023', 97.5, 'amber'),
                ('agr_wheat_harvest_pct', 'day', date '2023-07-05', 'country', 'TM',
                 null, 'wheat_harvest_2023', 101.25, 'green'),
                ('agr_wheat_harvest_pct', 'day', date '2023-07-05', 'province', 'TM-A',
                 null, 'wheat_harvest_2023', 80.0, 'red'),
                ('agr_wheat_harvest_pct', 'month', date '2023-08-01', 'country', 'TM',
                 null, 'wheat_harvest_2023', 55.0, 'red')
            ) as t(indicator_id, period_type, period_start, region_level, region_id,
                   enterprise_id, breakdown, value, status)
            """
        )
        connection.execute(
            "create table marts.fct_grain_deliveries (delivered_tonnes double, crop varchar)"
        )
        connection.execute(
            "comment on table marts.fct_grain_deliveries is 'Grain delivered to the elevators.'"
        )
        connection.execute(
            "comment on column marts.fct_grain_deliveries.crop is 'Wheat, barley or rice.'"
        )
    finally:
        connection.close()


def test_turkmen_without_diacritics_and_russian_find_wheat(maglumat_home: MaglumatPaths) -> None:
    _wheat_catalogue(maglumat_home)
    publish(maglumat_home, dbt_manifest=None)
    with Warehouse(maglumat_home.home) as warehouse:
        for query in ("bugday", "Bugdaý", "пшеница", "ПШЕНИЦЫ", "wheat harvest"):
            results = search(warehouse.connection, query)
            keys = [hit.entry.key for hit in results.of_kind("indicator")]
            assert keys[0] == "agr_wheat_harvest_pct", query
        bugday = search(warehouse.connection, "bugday")
        # a name match ranks before a match in a description only
        assert [hit.entry.key for hit in bugday.of_kind("indicator")] == [
            "agr_wheat_harvest_pct",
            "agr_sowing_pct",
        ]
        assert bugday.hits[0].language == "tk"
        assert bugday.hits[0].name == "Bugdaý oragynyň ýerine ýetirilişi"
        latest = bugday.latest["agr_wheat_harvest_pct"]
        assert [(v.period_type, str(v.period_start), v.value) for v in latest] == [
            ("day", "2023-07-05", 101.25)
        ]
        assert search(warehouse.connection, "bugday", language="ru").hits == []
        assert search(warehouse.connection, "пшеница").hits[0].language == "ru"
        # columns and tables come with their descriptions
        wheat_columns = search(warehouse.connection, "wheat barley").of_kind("column")
        assert [hit.entry.key for hit in wheat_columns] == ["marts.fct_grain_deliveries.crop"]
        assert wheat_columns[0].description == "Wheat, barley or rice."
        elevators = search(warehouse.connection, "elevator grain").of_kind("table")
        assert [hit.entry.key for hit in elevators] == ["marts.fct_grain_deliveries"]
        text = render(bugday)
    assert "latest: 101.25 % (day 2023-07-05, wheat_harvest_2023, green)" in text
    assert "Bugdaý oragynyň ýerine ýetirilişi" in text


def test_search_the_whole_catalogue(all_sectors: MaglumatPaths) -> None:
    with Warehouse(all_sectors.home) as warehouse:
        catalogue = warehouse.indicators()
        started = time.perf_counter()
        progress = search(warehouse.connection, "yerine yetirilisi dowlet sargydy")
        elapsed = time.perf_counter() - started
        russian = search(warehouse.connection, "госзаказа кампании", language="ru")
        gas = search(warehouse.connection, "gas output")
        closing_stock = search(warehouse.connection, "closing stock")
        nothing = search(warehouse.connection, "qwzx")
        wheat_tk = search(warehouse.connection, "bugday")
        wheat_ru = search(warehouse.connection, "пшеница")
        frame = warehouse.search("gas output")
    assert catalogue.height > 50
    assert progress.of_kind("indicator")[0].entry.key == "agr_campaign_progress_pct"
    assert progress.of_kind("indicator")[0].language == "tk"
    assert elapsed < 5.0, f"one search over the whole catalogue took {elapsed:.2f} s"
    assert russian.of_kind("indicator")[0].entry.key == "agr_campaign_progress_pct"
    assert russian.of_kind("indicator")[0].name == "Выполнение госзаказа кампании"
    assert "fe_gas_output_bcm" in [hit.entry.key for hit in gas.of_kind("indicator")]
    gas_latest = gas.latest["fe_gas_output_bcm"]
    assert gas_latest
    assert all(value.value is not None for value in gas_latest)
    assert "marts.fct_medicine_stock_monthly.closing_stock_units" in [
        hit.entry.key for hit in closing_stock.of_kind("column")
    ]
    assert nothing.hits == []
    # The catalogue's own texts: "bugdaý" found without its mark, "пшеница" in another case.
    wheat_tk_indicators = [hit.entry.key for hit in wheat_tk.of_kind("indicator")]
    assert "agr_campaign_progress_pct" in wheat_tk_indicators
    assert "agr_campaign_progress_pct" in [hit.entry.key for hit in wheat_ru.of_kind("indicator")]
    assert frame.filter(frame["key"] == "fe_gas_output_bcm")["latest_value"].item() == (
        gas_latest[0].value
    )


def test_the_search_command(
    all_sectors: MaglumatPaths, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("MAGLUMAT_HOME", str(all_sectors.home))
    assert main(["search", "gaz", "onumciligi", "--language", "tk", "--limit", "3"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("Indicators (")
    assert "fe_gas_output_bcm" in output
    assert "latest: " in output
    assert main(["search", "qwzx"]) == 1
    assert "nothing found for 'qwzx'" in capsys.readouterr().out
