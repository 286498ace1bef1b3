"""A register's long list of codes is looked up in polars rather than by Great Expectations
(GX's cost grows with the list), and must fail exactly the rows GX fails, with the same rule,
field and value: a code missing from the register, but never an empty value, whether the batch
is validated whole, with other batches of its run or slice by slice."""

from __future__ import annotations

import random
from collections.abc import Iterator

import polars as pl

from quality.gate import validate_batch
from quality.gate.expectations import (
    CODE_LIST_MIN_VALUES,
    IN_SET_RULE,
    _gx_context,
    _run_expectations,
)
from quality.gate.rules import PendingBatches
from quality.gate.slices import validate_batch_in_slices
from quality.suites import Expectation, TableSuite

REGISTER = [f"TGZ-{number:04d}" for number in range(CODE_LIST_MIN_VALUES + 100)]
SUITE = TableSuite(
    source="dispatch",
    table="daily_production",
    columns={"enterprise_code": "string", "product_code": "string", "quantity": "double"},
    expectations=(
        Expectation(IN_SET_RULE, {"column": "enterprise_code", "value_set": REGISTER}),
        # A short list stays with GX, and GX still gates the batch.
        Expectation(IN_SET_RULE, {"column": "product_code", "value_set": ["GAZ", "NBT"]}),
        Expectation("expect_column_values_to_be_between", {"column": "quantity", "min_value": 0}),
    ),
    max_bad_row_share=1.0,
)


def _batch(rows: int, seed: int, *, clean_otherwise: bool = False) -> pl.DataFrame:
    """Rows with unknown, respelled, padded and empty codes; unless ``clean_otherwise``, also
    failing GX's own rules (an unlisted product, a negative quantity)."""
    generator = random.Random(seed)
    products = ["GAZ", "NBT"] if clean_otherwise else ["GAZ", "NBT", "ELK"]
    quantities = [12.5, 40.0] if clean_otherwise else [12.5, 40.0, -1.0]
    codes: list[str | None] = []
    for _ in range(rows):
        roll = generator.random()
        if roll < 0.03:
            codes.append(None)
        elif roll < 0.06:
            codes.append("TGZ-9999")  # not (yet) in the register
        elif roll < 0.08:
            codes.append(generator.choice(REGISTER).lower())  # another spelling is another code
        elif roll < 0.09:
            codes.append(" " + generator.choice(REGISTER))
        else:
            codes.append(generator.choice(REGISTER))
    return pl.DataFrame(
        {
            "enterprise_code": codes,
            "product_code": [generator.choice(products) for _ in range(rows)],
            "quantity": [generator.choice(quantities) for _ in range(rows)],
        }
    )


def _gx_failures(batch: pl.DataFrame) -> set[tuple[int, str, str, str | None]]:
    """What GX itself fails for the register rule: the oracle."""
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    _gx_context()  # a suite is made inside a context
    gx_suite = gx.ExpectationSuite(name="oracle")
    gx_suite.add_expectation(
        get_expectation_impl(IN_SET_RULE)(column="enterprise_code", value_set=REGISTER)
    )
    (outcome,) = _run_expectations(SUITE, batch, gx_suite)
    return {
        (index + 1, IN_SET_RULE, "enterprise_code", batch["enterprise_code"][index])
        for index in outcome.detail["unexpected_index_list"]
    }


def _register_failures(failures: list) -> set[tuple[int, str, str, str | None]]:
    return {
        (f.row_number, f.rule, f.field, f.value)
        for f in failures
        if f.rule == IN_SET_RULE and f.field == "enterprise_code"
    }


def test_the_rows_failed_are_those_gx_fails() -> None:
    batch = _batch(3_000, seed=1)
    expected = _gx_failures(batch)
    assert len(expected) > 150  # unknown codes, other spellings, padded codes

    verdict, _ = validate_batch("b1", batch, SUITE)

    assert _register_failures(verdict.row_failures) == expected
    assert all(value is not None for _, _, _, value in expected)
    (result,) = [r for r in verdict.results if r["field"] == "enterprise_code"]
    assert result["success"] is False
    assert result["unexpected_count"] == len(expected)
    # GX still judged the other rules of the same batch.
    fields = {f.field for f in verdict.row_failures}
    assert {"product_code", "quantity"} <= fields


def test_a_batch_whose_codes_are_all_listed_passes_that_rule() -> None:
    batch = _batch(500, seed=2).filter(
        pl.col("enterprise_code").is_null() | pl.col("enterprise_code").is_in(REGISTER)
    )
    verdict, _ = validate_batch("b2", batch, SUITE)
    assert _register_failures(verdict.row_failures) == set()
    (result,) = [r for r in verdict.results if r["field"] == "enterprise_code"]
    assert result["success"] is True


def test_batches_of_a_run_and_slices_of_a_big_batch_get_the_same_failures() -> None:
    # Batches clean for GX's rules take their results from the run's joint validation; the
    # codes are looked up for each all the same. The others are validated alone.
    batches = {f"b{seed}": _batch(400, seed, clean_otherwise=seed < 6) for seed in range(3, 8)}
    pending = PendingBatches(SUITE, batches)
    for batch_id, batch in batches.items():
        verdict, _ = validate_batch(batch_id, batch, SUITE, pending=pending)
        assert _register_failures(verdict.row_failures) == _gx_failures(batch), batch_id
        assert _register_failures(verdict.row_failures), batch_id
    assert pending.outcomes("b3") is not None  # the joint path was taken

    big = _batch(2_500, seed=8)

    def slices() -> Iterator[tuple[int, pl.DataFrame]]:
        for offset in range(0, big.height, 1_000):
            yield offset, big.slice(offset, 1_000)

    verdict = validate_batch_in_slices("big", slices, big.height, SUITE)
    assert _register_failures(verdict.row_failures) == _gx_failures(big)
