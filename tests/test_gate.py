"""The quality gate on landed batches: row failures are quarantined, batch failures hold."""

import datetime as dt

import polars as pl
import pytest

from quality.gate import validate_batch
from quality.suites import SuiteError, load_suite

SUITE = load_suite("agriculture_campaign", "daily_reports")


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


def test_every_source_table_has_a_suite() -> None:
    from pipelines.catalogue import load_catalogue

    for system in load_catalogue():
        for table in system.tables:
            suite = load_suite(system.name, table.name)
            assert suite.columns, f"{system.name}.{table.name} has no schema contract"
    with pytest.raises(SuiteError, match="no expectation suite"):
        load_suite("no_such_system", "x")


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
    assert [(f.row_number, f.rule, f.field) for f in verdict.row_failures] == [
        (6, "outlier_modified_zscore", "harvested_tonnes")
    ]
    sample = next(r for r in verdict.results if r["rule"] == "outlier_modified_zscore")
    assert "20000 against a median of 1002.5" in sample["unexpected_sample"][0]


def _typed(frame: pl.DataFrame) -> pl.DataFrame:
    from quality.contract import cast_to_contract

    typed, _ = cast_to_contract(frame, SUITE.columns)
    return typed


def test_a_month_far_from_the_same_month_last_year_is_a_seasonal_outlier() -> None:
    suite = load_suite("livestock_census", "production_reports")
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
