"""The quality gate on landed batches: row failures are quarantined, batch failures hold."""

import datetime as dt

import polars as pl
import pytest

from maglumat.catalogue import load_catalogue, system_named
from quality.gate import validate_batch
from quality.suites import SuiteError, load_suite

SUITE = load_suite(system_named("agriculture_campaign"), "daily_reports")


def _reports(**overrides: list) -> pl.DataFrame:
    """Ten clean reports (the same district on ten days); overrides replace whole columns."""
    rows = {
        "report_id": list(range(1, 11)),
        "district_code": ["TM-A-01"] * 10,
        "crop": ["wheat"] * 10,
        "operation": ["harvest"] * 10,
        "report_date": [f"2023-06-{day:02d}" for day in range(1, 11)],
        "sown_ha": [0.0] * 10,
        "harvested_ha": [500.0] * 10,
        "harvested_tonnes": [1000.0] * 10,
        "reported_by": ["office"] * 10,
        "submitted_at": [f"2023-06-{day:02d} 04:00:00" for day in range(2, 12)],
    }
    rows.update(overrides)
    return pl.DataFrame(rows)


def _with(column: str, changes: dict[int, object]) -> list:
    """The clean column with the values at some 1-based rows changed."""
    values = _reports()[column].to_list()
    for row_number, value in changes.items():
        values[row_number - 1] = value
    return values


def test_a_clean_batch_passes_whole() -> None:
    verdict, typed = validate_batch("b1", _reports(), SUITE)
    assert verdict.status == "loaded"
    assert verdict.row_failures == []
    assert typed.schema["report_date"] == pl.Date
    assert str(typed.schema["submitted_at"]) == "Datetime(time_unit='us', time_zone='UTC')"


def test_bad_rows_are_quarantined_with_rule_field_and_value() -> None:
    frame = _reports(
        district_code=_with("district_code", {2: "TM-X-99"}),
        harvested_tonnes=_with("harvested_tonnes", {3: -5.0}),
    )
    verdict, _ = validate_batch("b2", frame, SUITE)
    assert verdict.status == "loaded_with_quarantine"
    failures = {(f.row_number, f.rule, f.field, f.value) for f in verdict.row_failures}
    assert (2, "expect_column_values_to_be_in_set", "district_code", "TM-X-99") in failures
    assert (3, "expect_column_values_to_be_between", "harvested_tonnes", "-5.0") in failures
    assert verdict.quarantined_rows == {2, 3}


def test_values_that_do_not_convert_are_type_failures() -> None:
    frame = _reports(report_date=_with("report_date", {2: "02/06/2023"}))
    verdict, _ = validate_batch("b3", frame, SUITE)
    assert [(f.row_number, f.rule, f.field, f.value) for f in verdict.row_failures] == [
        (2, "type_contract", "report_date", "02/06/2023")
    ]


def test_schema_drift_holds_the_whole_batch() -> None:
    frame = _reports().rename({"harvested_tonnes": "harvest_t"})
    verdict, _ = validate_batch("b4", frame, SUITE)
    assert verdict.is_held
    (failure,) = verdict.batch_failures
    assert failure.rule == "expect_table_columns_to_match_set"
    assert "missing columns ['harvested_tonnes']" in failure.detail
    assert "unexpected columns ['harvest_t']" in failure.detail


def test_too_many_bad_rows_hold_the_batch() -> None:
    frame = _reports(district_code=_with("district_code", {1: "TM-X-01", 2: "X", 3: "Y"}))
    verdict, _ = validate_batch("b5", frame, SUITE)
    assert verdict.is_held
    assert verdict.batch_failures[-1].rule == "max_bad_row_share"
    assert "30% of rows failed, at most 20% allowed" in verdict.batch_failures[-1].detail


def test_a_duplicated_submission_is_quarantined() -> None:
    frame = pl.concat(
        [_reports(), _reports().head(1).with_columns(pl.lit(99, dtype=pl.Int64).alias("report_id"))]
    )
    verdict, _ = validate_batch("b6", frame, SUITE)
    rules = {(f.row_number, f.rule) for f in verdict.row_failures}
    assert (1, "expect_compound_columns_to_be_unique") in rules
    assert (11, "expect_compound_columns_to_be_unique") in rules


def test_every_source_table_reads_its_suite_over_its_declared_columns() -> None:
    for system in load_catalogue():
        for table in system.tables:
            suite = load_suite(system, table.name)
            assert suite.columns == table.columns, f"{system.name}.{table.name}"


def test_a_table_without_a_suite_is_gated_by_its_contract_and_key(tmp_path) -> None:
    """No rules of its own: the declared types still quarantine what does not convert, and a
    row without a part of its business key is quarantined."""
    system = system_named("agriculture_campaign")
    suite = load_suite(system, "daily_reports", suites_dir=tmp_path)
    assert suite.columns == system.table("daily_reports").columns
    assert {e.kwargs["column"] for e in suite.expectations} == {
        "district_code",
        "crop",
        "operation",
        "report_date",
    }
    frame = _reports(
        report_date=_with("report_date", {2: "02/06/2023"}), crop=_with("crop", {5: None})
    )
    verdict, _ = validate_batch("b1", frame, suite)
    assert {(f.row_number, f.rule, f.field) for f in verdict.row_failures} == {
        (2, "type_contract", "report_date"),
        (5, "expect_column_values_to_not_be_null", "crop"),
    }


def test_a_suite_may_name_only_declared_columns(tmp_path) -> None:
    system = system_named("agriculture_campaign")
    (tmp_path / "agriculture_campaign.yml").write_text(
        "tables:\n  daily_reports:\n    expectations:\n"
        "      - expect_column_values_to_not_be_null: {column: sown_hectares}\n"
    )
    with pytest.raises(SuiteError) as raised:
        load_suite(system, "daily_reports", suites_dir=tmp_path)
    assert str(raised.value) == (
        f"{tmp_path / 'agriculture_campaign.yml'}, table daily_reports:"
        " expect_column_values_to_not_be_null names 'sown_hectares', which is not among the"
        f" columns {system.catalogue_file} declares for it"
    )


def test_dates_in_the_future_are_quarantined() -> None:
    frame = _reports(
        report_date=_with("report_date", {4: "2099-06-04"}),
        submitted_at=_with("submitted_at", {5: "2099-06-05 04:00:00"}),
    )
    verdict, _ = validate_batch("b7", frame, SUITE)
    failures = {(f.row_number, f.field, f.value) for f in verdict.row_failures}
    assert (4, "report_date", "2099-06-04") in failures
    assert (5, "submitted_at", "2099-06-05 04:00:00") in failures
    assert verdict.status == "loaded_with_quarantine"


def test_a_volume_collapse_against_recent_batches_holds_the_batch() -> None:
    typical = [100, 96, 104, 99]
    held, _ = validate_batch("b8", _reports().head(5), SUITE, history=typical)
    assert held.is_held
    (failure,) = held.batch_failures
    assert failure.rule == "volume_against_recent_batches"
    assert "5 rows against a median of 99.5 in the last 4 batches" in failure.detail
    # Without enough history (the first batches after the backfill) there is nothing to compare.
    fine, _ = validate_batch("b9", _reports().head(5), SUITE, history=[4000, 100])
    assert not fine.is_held


def test_utc_timestamps_written_with_z_convert() -> None:
    frame = _reports(submitted_at=_with("submitted_at", {1: "2023-06-02T04:00:00Z"}))
    verdict, typed = validate_batch("b10", frame, SUITE)
    assert verdict.row_failures == []
    assert str(typed["submitted_at"][0]) == "2023-06-02 04:00:00+00:00"


def test_a_value_far_beyond_the_districts_history_is_an_outlier() -> None:
    # 20,000 t is within the range rule (a big district's peak day) but twenty times this one's.
    history = _reports().with_columns(
        pl.Series("harvested_tonnes", [900.0, 950, 1000, 1050, 1100, 980, 1020, 1010, 990, 1005])
    )
    frame = _reports(harvested_tonnes=_with("harvested_tonnes", {6: 20_000.0}))
    frame = frame.with_columns(pl.col("report_id") + 100)
    verdict, _ = validate_batch("b11", frame, SUITE, loaded=_typed(history))
    # Far from the district's days, and a yield (tonnes per hectare) twenty times its own.
    assert {(f.row_number, f.rule, f.field) for f in verdict.row_failures} == {
        (6, "outlier_modified_zscore", "harvested_tonnes"),
        (6, "outlier_against_recent_median", "harvested_tonnes"),
    }
    sample = next(r for r in verdict.results if r["rule"] == "outlier_modified_zscore")
    assert "20000 against a median of 1002.5" in sample["unexpected_sample"][0]


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    from quality.contract import cast_to_contract

    typed, _ = cast_to_contract(frame, SUITE.columns)
    return typed


def test_a_month_far_from_the_same_month_last_year_is_a_seasonal_outlier() -> None:
    suite = load_suite(system_named("livestock_census"), "production_reports")
    history = pl.DataFrame(
        {
            "district_code": ["TM-A-01"] * 3,
            "product_code": ["MILK"] * 3,
            "report_month": [dt.date(2022, 5, 1), dt.date(2022, 6, 1), dt.date(2022, 7, 1)],
            "quantity": [900.0, 1400.0, 1000.0],
        }
    )
    batch = pl.DataFrame(
        {
            "report_id": [1, 2, 3],
            "district_code": ["TM-A-01"] * 3,
            "report_month": ["2023-05-01", "2023-06-01", "2023-07-01"],
            "product_code": ["MILK"] * 3,
            # May as last year, June a tenth (a unit slip: tonnes for kilotonnes), July double.
            "quantity": [950.0, 140.0, 2000.0],
            "revision": [1, 1, 1],
            "submitted_by": ["office"] * 3,
            "submitted_at": ["2023-08-02 04:00:00"] * 3,
        }
    )
    verdict, _ = validate_batch("b12", batch, suite, loaded=history)
    assert [(f.row_number, f.rule, f.value) for f in verdict.row_failures] == [
        (2, "outlier_against_last_year", "140")
    ]


def _batch(first_id: int, day: int, **overrides: list) -> pl.DataFrame:
    """Ten clean reports with their own ids and day of submission (distinct keys per batch)."""
    frame = _reports(
        report_id=list(range(first_id, first_id + 10)),
        submitted_at=[f"2023-07-{day:02d} 04:00:{second:02d}" for second in range(10)],
    )
    return frame.with_columns(pl.Series(name, values) for name, values in overrides.items())


def test_batches_validated_together_get_the_verdicts_they_would_get_alone() -> None:
    from quality.gate import PendingBatches

    frames = {
        "b1": _batch(1, 1),
        "b2": _batch(11, 2, district_code=_with("district_code", {2: "TM-X-99"})),
        "b3": _batch(21, 3, report_id=[5, *range(22, 31)]),  # id 5 repeats b1's: not a failure
        "b4": _batch(31, 4, report_id=[31, 31, *range(33, 41)]),  # a repeat within the batch
        "b5": _batch(41, 5, report_date=_with("report_date", {4: "4 June"})),
        "b6": _batch(51, 6),
        "b7": _batch(61, 7, crop=["barley"] * 10),  # most rows bad: held
    }
    pending = PendingBatches(SUITE, frames)
    for batch_id, frame in frames.items():
        together, typed_together = validate_batch(batch_id, frame, SUITE, pending=pending)
        alone, typed_alone = validate_batch(batch_id, frame, SUITE)
        assert typed_together.equals(typed_alone)
        assert (together.status, together.row_failures, together.batch_failures) == (
            alone.status,
            alone.row_failures,
            alone.batch_failures,
        ), batch_id
        assert together.results == alone.results, batch_id
    # The clean batches, b3 among them, were not validated a second time.
    assert {b for b in frames if pending.outcomes(b) is not None} == {"b1", "b3", "b6"}


def test_dates_and_times_convert_row_by_row_in_every_accepted_format() -> None:
    from quality.contract import cast_to_contract

    values = [
        "2023-06-02 04:00:00",
        " 2023-06-02T04:00:00.5 ",
        "2023-06-02 04:00",
        "2023-06-02",
        "2023-06-02 09:00:00+05:00",
        "2023-06-02T04:00:00Z",
        "2 June 2023",
        None,
    ]
    typed, failures = cast_to_contract(
        pl.DataFrame({"at": values, "on": values}), {"at": "timestamp", "on": "date"}
    )
    utc = dt.UTC
    assert typed["at"].to_list() == [
        dt.datetime(2023, 6, 2, 4, tzinfo=utc),
        dt.datetime(2023, 6, 2, 4, 0, 0, 500000, tzinfo=utc),
        dt.datetime(2023, 6, 2, 4, tzinfo=utc),
        dt.datetime(2023, 6, 2, tzinfo=utc),
        dt.datetime(2023, 6, 2, 4, tzinfo=utc),
        dt.datetime(2023, 6, 2, 4, tzinfo=utc),
        None,
        None,
    ]
    assert typed["on"].to_list() == [dt.date(2023, 6, 2)] * 6 + [None, None]
    assert [(f.row_number, f.column) for f in failures] == [(7, "at"), (7, "on")]


def test_each_batch_of_a_run_is_judged_against_the_batches_decided_before_it(tmp_path) -> None:
    """The ledger and the loaded history that the volume and outlier rules read are kept up to
    date within a run: the fourth batch's outlier is found against rows the first three loaded
    in the same run, and the fifth, thirty times their size, is held."""
    import duckdb

    from maglumat.catalogue import load_catalogue
    from maglumat.settings import MaglumatPaths
    from pipelines.ingest import gate_and_load, readmit
    from pipelines.landing import land_batch

    system = next(s for s in load_catalogue() if s.name == "agriculture_campaign")
    paths = MaglumatPaths(tmp_path)
    paths.ensure()
    tonnes = [1000.0 + 20 * (n % 7) for n in range(10)]
    batches = [
        _batch(1, 1, harvested_tonnes=tonnes),
        _batch(11, 2, harvested_tonnes=tonnes),
        _batch(21, 3, harvested_tonnes=tonnes),
        _batch(31, 4, harvested_tonnes=[*tonnes[:5], 20_000.0, *tonnes[6:]]),
        pl.concat([_batch(100 + 10 * n, 5 + n % 20) for n in range(30)]),
    ]
    manifests = [
        land_batch(
            paths.landing,
            system=system.name,
            table="daily_reports",
            mode="incremental",
            frame=frame,
            source="test",
            extracted_at=dt.datetime(2023, 7, 1, tzinfo=dt.UTC) + dt.timedelta(hours=number),
        )
        for number, frame in enumerate(batches)
    ]
    outcome = gate_and_load(paths, system, system.table("daily_reports"))
    assert [load.status for load in outcome.loads] == [
        "loaded",
        "loaded",
        "loaded",
        "loaded_with_quarantine",
        "held",
    ]
    assert outcome.open_holds == [manifests[4].batch_id]
    again = readmit(paths, manifests[3].batch_id)  # replaces its verdict, duplicates nothing
    assert (again.status, again.loaded_rows, again.quarantined_rows) == (
        "loaded_with_quarantine",
        9,
        1,
    )
    with duckdb.connect(str(paths.warehouse), read_only=True) as connection:
        quarantined = connection.execute(
            "select batch_id, row_number, rule, field from audit.quarantine"
        ).fetchall()
        loaded = connection.execute(
            'select count(*) from raw."agriculture_campaign__daily_reports"'
        ).fetchone()
        held = connection.execute(
            "select gate_summary from audit.batches where status = 'held'"
        ).fetchone()
    assert sorted(quarantined) == [
        (manifests[3].batch_id, 6, "outlier_against_recent_median", "harvested_tonnes"),
        (manifests[3].batch_id, 6, "outlier_modified_zscore", "harvested_tonnes"),
    ]
    assert loaded == (39,)
    assert "volume_against_recent_batches" in held[0]


def test_a_log_line_that_is_not_json_is_quarantined_once_for_that_reason() -> None:
    suite = load_suite(system_named("edocument_workflow"), "events")
    good = {
        "event_id": "0b5e1c9a-3f7d-4a61-9d2e-5c8b7a6f4e31",
        "event_type": "registered",
        "event_time": "2023-09-01T05:00:00Z",
        "document_id": "MOA-2023-00001",
        "document_type": "letter",
        "sender_ministry": "MOA",
        "receiver_ministry": "MOF",
        "deadline": "2023-09-10",
        "department": "planning",
        "logged_at": "2023-09-01T05:00:01Z",
        "log_file": "events-2023-09-01.jsonl",
        "log_line": "1",
        "parse_error": None,
        "raw_line": None,
    }
    rows = [{**good, "log_line": str(line)} for line in range(1, 9)]
    rows.append(
        {
            **dict.fromkeys(good),
            "log_file": "events-2023-09-01.jsonl",
            "log_line": "9",
            "parse_error": "events-2023-09-01.jsonl line 9: not JSON (Expecting value, column 1)",
            "raw_line": "{broken",
        }
    )
    frame = pl.DataFrame(rows, schema=dict.fromkeys(good, pl.String))

    verdict, _ = validate_batch("log", frame, suite)

    assert [(f.row_number, f.rule, f.field) for f in verdict.row_failures] == [
        (9, "expect_column_values_to_be_null", "parse_error")
    ]


def test_text_garbled_by_a_wrong_code_page_is_quarantined_and_clean_names_are_not() -> None:
    names = [
        "AЕџgabat",  # UTF-8 read as cp1251
        "GГ¶kdepe",  # UTF-8 read as cp1251
        "GÃ¶kdepe",  # UTF-8 read as Latin-1
        "Pagta эьplьgi",  # cp1250 read as cp1251
        "Gökdepe etrap häkimligi",
        "Aşgabat şäheriniň Köpetdag etraby",
        "Ашхабадский хлопкоочистительный завод",
        "Türkmenabat «Lebap» ÝGS",
        "office",
        "office",
    ]
    frame = _reports(reported_by=names)

    verdict, _ = validate_batch("names", frame, SUITE)

    assert [(f.row_number, f.rule, f.value) for f in verdict.row_failures] == [
        (1, "text_encoding", "AЕџgabat"),
        (2, "text_encoding", "GГ¶kdepe"),
        (3, "text_encoding", "GÃ¶kdepe"),
        (4, "text_encoding", "Pagta эьplьgi"),
    ]


def test_a_value_the_reader_could_not_read_is_quarantined_with_its_field_not_a_schema_change() -> (
    None
):
    problem = '{"field": "harvested_tonnes", "value": "5.5", "reason": "a decimal point"}'
    frame = _reports(_read_problem=[None, problem, *[None] * 8])

    verdict, typed = validate_batch("read", frame, SUITE)

    assert verdict.status == "loaded_with_quarantine"
    assert [(f.row_number, f.rule, f.field, f.value) for f in verdict.row_failures] == [
        (2, "read_problem: a decimal point", "harvested_tonnes", "5.5")
    ]
    assert "_read_problem" not in typed.columns
