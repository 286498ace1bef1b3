"""Labels, numbers and dates of the management reports in Turkmen, Russian and English."""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest

from warehouse.reports.formatting import LANGUAGES, Formatter, all_labels, turkmen_ordinal

NBSP = "\u00a0"


def test_every_label_has_all_three_languages() -> None:
    labels = all_labels()
    assert len(labels) > 50
    for key, texts in labels.items():
        assert set(texts) == set(LANGUAGES), key
        for language, text in texts.items():
            assert isinstance(text, str), (key, language)
            assert text.strip(), (key, language)
        placeholders = {
            language: {field for _, field, _, _ in string.Formatter().parse(text) if field}
            for language, text in texts.items()
        }
        # A translation that drops or renames a placeholder would fail only at render time.
        assert placeholders["tk"] == placeholders["ru"] == placeholders["en"], key


def test_labels_are_translated_not_copied() -> None:
    labels = all_labels()
    # Cyrillic in every Russian title, and no Cyrillic in Turkmen (Latin script since 1993).
    for key, texts in labels.items():
        if key.startswith("title."):
            assert re.search("[а-яё]", texts["ru"], re.IGNORECASE), key
            assert texts["tk"] != texts["en"], key
        assert not re.search("[а-яё]", texts["tk"], re.IGNORECASE), key


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1, "1-nji"),
        (2, "2-nji"),
        (3, "3-nji"),
        (6, "6-njy"),
        (9, "9-njy"),
        (10, "10-njy"),
        (16, "16-njy"),
        (20, "20-nji"),
        (30, "30-njy"),
        (31, "31-nji"),
        (40, "40-njy"),
        (50, "50-nji"),
        (60, "60-njy"),
        (100, "100-nji"),
        (2000, "2000-nji"),
        (2023, "2023-nji"),
        (2026, "2026-njy"),
    ],
)
def test_turkmen_ordinals_follow_vowel_harmony(number: int, expected: str) -> None:
    assert turkmen_ordinal(number) == expected


def test_dates_per_language() -> None:
    day = dt.date(2023, 10, 1)
    assert Formatter("tk").date(day) == "2023-nji ýylyň 1-nji oktýabry"
    assert Formatter("ru").date(day) == "1 октября 2023 г."
    assert Formatter("en").date(day) == "1 October 2023"
    assert Formatter("tk").date(dt.date(2023, 9, 30)) == "2023-nji ýylyň 30-njy sentýabry"
    assert Formatter("ru").month(dt.date(2023, 9, 1)) == "сентябрь 2023 г."
    assert Formatter("en").month(dt.date(2023, 9, 1)) == "September 2023"
    assert Formatter("tk").month(dt.date(2023, 9, 1)) == "2023-nji ýylyň sentýabry"
    assert Formatter("ru").short_date(day) == "01.10.2023"
    assert Formatter("en").short_date(day) == "1 Oct 2023"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_month_of_a_chart_axis_has_its_own_label(language: str) -> None:
    """Two months drawn under one label would be drawn as one point (June and July)."""
    formatter = Formatter(language)
    labels = [formatter.month_short(dt.date(2023, month, 1)) for month in range(1, 13)]
    assert len(set(labels)) == 12, labels
    assert labels[9] == {"tk": "okt 2023", "ru": "окт 2023", "en": "Oct 2023"}[language]


def test_numbers_per_language() -> None:
    assert Formatter("en").number(1234567.891, 1) == "1,234,567.9"
    assert Formatter("ru").number(1234567.891, 1) == f"1{NBSP}234{NBSP}567,9"
    assert Formatter("tk").number(1234567.891, 2) == f"1{NBSP}234{NBSP}567,89"
    assert Formatter("tk").number(-0.04, 1) == "0,0"
    assert Formatter("en").percent(45.26, 1) == f"45.3{NBSP}%"
    assert Formatter("ru").signed(1.26, 1) == "+1,3"
    assert Formatter("en").signed(-0.5, 1) == "\u22120.5"
    assert Formatter("en").number(None) == "–"


def test_week_label_names_the_iso_week() -> None:
    monday = dt.date(2023, 9, 25)
    assert Formatter("en").week(monday) == "week 39 (25 Sep 2023 – 1 Oct 2023)"
    assert Formatter("ru").week(monday) == "39-я неделя (25.09.2023 – 01.10.2023)"
    assert Formatter("tk").week(monday) == "39-njy hepde (25.09.2023 – 01.10.2023)"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown language"):
        Formatter("de")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("tk", "01.10.2023 00:30 (Aşgabat wagty)"),
        ("ru", "01.10.2023 00:30 (ашхабадское время)"),
        ("en", "1 Oct 2023 00:30 (Ashgabat time)"),
    ],
)
def test_times_are_shown_in_ashgabat_with_the_zone_named(language: str, expected: str) -> None:
    # 19:30 UTC on 30 September is half past midnight on 1 October in Aşgabat (UTC+5).
    assert Formatter(language).timestamp("2023-09-30T19:30:00+00:00") == expected
    assert (
        Formatter(language).timestamp(dt.datetime(2023, 9, 30, 19, 30, tzinfo=dt.UTC)) == expected
    )


def test_a_plan_version_is_shown_only_where_it_changes_the_figure() -> None:
    from warehouse.reports.weekly_ministry import without_repeated_plan_versions

    september = dt.date(2023, 9, 1)

    def row(indicator_id: str, value: float) -> dict:
        return {"indicator_id": indicator_id, "breakdown": None, "period_start": september,
                "value": value}  # fmt: skip

    rows = [
        row("fe_gas_plan_fulfilment_pct", 98.2),
        row("fe_gas_plan_original_fulfilment_pct", 98.2),
        row("fe_gas_plan_in_force_fulfilment_pct", 98.2),
        row("fe_gas_plan_latest_fulfilment_pct", 98.2),
        row("fe_oil_plan_original_fulfilment_pct", 96.3),
        row("fe_oil_plan_in_force_fulfilment_pct", 98.2),
        row("fe_oil_plan_latest_fulfilment_pct", 98.2),
        row("fe_gas_output_bcm", 6.08),
    ]
    kept = without_repeated_plan_versions(rows)
    assert [(r["indicator_id"], r.get("differs_by")) for r in kept] == [
        ("fe_gas_plan_fulfilment_pct", None),
        ("fe_oil_plan_original_fulfilment_pct", pytest.approx(-1.9)),
        ("fe_oil_plan_in_force_fulfilment_pct", None),
        ("fe_gas_output_bcm", None),
    ]


def test_english_writes_every_turkmen_name_as_the_reference_writes_places() -> None:
    """The reference data's English names of provinces and districts are the oracle: the
    transliteration applied to enterprise names gives each of them from its Turkmen name."""
    import csv

    from maglumat.settings import DBT_PROJECT_DIR
    from warehouse.reports.formatting import english_name

    pairs = []
    for seed in ("ref_provinces.csv", "ref_districts.csv"):
        with (DBT_PROJECT_DIR / "seeds" / "reference" / seed).open(encoding="utf-8") as handle:
            pairs += [(row["name_tk"], row["name_en"]) for row in csv.DictReader(handle)]
    assert len(pairs) > 50
    # A name with an established English form keeps it (the reference data gives those).
    established = {"S. Nyýazow": "S. Niyazov"}
    differ = [(tk, en) for tk, en in pairs if english_name(tk) != en]
    assert differ == list(established.items())
    assert Formatter("en").proper_name("Galkynyş gaz käni") == "Galkynysh gaz kani"
    assert Formatter("tk").proper_name("Galkynyş gaz käni") == "Galkynyş gaz käni"


def test_russian_writes_a_turkmen_name_by_the_letter_unless_it_has_an_established_form() -> None:
    """The reference data's Russian names of provinces and districts are the oracle: the rule
    gives each of them, except the names Russian has its own established form for, which the
    reference supplies and Formatter.proper_name takes from it."""
    import csv

    from maglumat.settings import DBT_PROJECT_DIR
    from warehouse.reports.formatting import russian_name

    pairs = []
    for seed in ("ref_provinces.csv", "ref_districts.csv"):
        with (DBT_PROJECT_DIR / "seeds" / "reference" / seed).open(encoding="utf-8") as handle:
            pairs += [(row["name_tk"], row["name_ru"]) for row in csv.DictReader(handle)]
    by_the_letter = [(tk, ru) for tk, ru in pairs if russian_name(tk) == ru]
    assert len(by_the_letter) >= 40
    assert ("Tejen", "Теджен") in by_the_letter
    assert ("Saýat", "Саят") in by_the_letter
    assert ("Esenguly", "Эсенгулы") in by_the_letter
    # Established forms follow no letter rule (Ашхабад, Каракум, Туркменбаши).
    assert russian_name("Aşgabat") == "Ашгабат"

    places = dict(pairs)
    russian = Formatter("ru", place_names=places)
    assert russian.proper_name("Aşgabat") == "Ашхабад"
    assert russian.proper_name("Garagum Binagär hususy kärhanasy") == (
        "Каракум Бинагар хусусы карханасы"
    )
    assert russian.proper_name("Tejen pagta arassalaýjy kärhanasy") == (
        "Теджен пагта арассалайджы карханасы"
    )
    assert russian.proper_name("Ak Ýol Gurluşyk") == "Ак Ёл Гурлушык"
    english = Formatter("en", place_names={tk: tk for tk in places} | {"Aşgabat": "Ashgabat"})
    assert english.proper_name("Aşgabat gurluşyk tresti") == "Ashgabat gurlushyk tresti"
