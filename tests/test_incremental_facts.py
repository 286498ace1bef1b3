"""Incremental facts: a daily build rebuilds only the days its new batches bring (a day sent
again included), the rest of the table stays as it was, and after several days every table
equals what a full rebuild makes of the same sources, row for row. The indicator values make
again only the periods whose days changed. A steward's readmit of a loaded batch makes the next
build refresh in full."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest

from maglumat.settings import MaglumatPaths
from pipelines.assets.transform import manifest_path
from pipelines.dbt_increments import incremental_models
from pipelines.ingest import readmit
from simulator import fuel_energy
from tests.support import (
    age_file,
    failed_checks,
    run_daily_job,
    run_dbt,
    table_fingerprint,
)

pytestmark = pytest.mark.slow
FUEL = [fuel_energy.SYSTEM]
DAILY_FACT = "marts.fct_fuel_energy_daily_production"
VALUES = "intermediate.int_indicator_values_fuel_energy"
TABLES = [
    DAILY_FACT,
    "marts.fct_fuel_energy_monthly_production",
    VALUES,
    "indicators.fct_indicator_values",
    "indicators.ind_fuel_energy_monthly",
]
DAILY_POWER = "fe_power_daily_output_gwh"
# A day no later batch touches, and a day sent again corrected (fek_2023-09-12_duzedis.csv,
# which arrives on the 15th).
UNTOUCHED_DAY = dt.date(2023, 9, 5)
CORRECTED_DAY = dt.date(2023, 9, 12)
MARKER = "|marked"  # on the row id, which nothing downstream reads


def _morning(day: int) -> dt.datetime:
    return dt.datetime(2023, 9, day, 6, tzinfo=dt.UTC)


def _run(paths: MaglumatPaths, *, full: bool = False) -> str:
    """One real daily run of the fuel-energy system; returns what the build said of its
    incremental models (audit.dbt_builds.increment)."""
    result = run_daily_job(paths, FUEL, dbt_full_build=full)
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    assert failed_checks(result) == []
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        (increment,) = connection.execute(  # type: ignore[misc]
            "select increment from audit.dbt_builds order by build_number desc limit 1"
        ).fetchone()
    finally:
        connection.close()
    return str(increment)


def _mark(paths: MaglumatPaths, day: dt.date) -> None:
    """Write a marker into the fact's rows of one day: a rebuilt day loses it."""
    connection = duckdb.connect(str(paths.warehouse))
    try:
        connection.execute(
            f"update {DAILY_FACT} set daily_production_id = daily_production_id || ?"
            " where report_date = ?",
            [MARKER, day],
        )
    finally:
        connection.close()


def _marked_days(paths: MaglumatPaths) -> list[dt.date]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = connection.execute(
            f"select distinct report_date from {DAILY_FACT}"
            " where ends_with(daily_production_id, ?) order by 1",
            [MARKER],
        ).fetchall()
    finally:
        connection.close()
    return [day for (day,) in rows]


def _mark_period(paths: MaglumatPaths, day: dt.date) -> None:
    """Copy the country row of the daily power output on ``day`` into the sector's values
    under a breakdown of its own: a build that makes the day again removes it."""
    connection = duckdb.connect(str(paths.warehouse))
    try:
        connection.execute(
            f"insert into {VALUES} select * replace (? as breakdown) from {VALUES}"
            " where indicator_id = ? and period_type = 'day' and period_start = ?"
            " and region_level = 'country'",
            [MARKER, DAILY_POWER, day],
        )
    finally:
        connection.close()


def _marked_periods(paths: MaglumatPaths) -> list[dt.date]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = connection.execute(
            f"select period_start from {VALUES} where breakdown = ? order by 1", [MARKER]
        ).fetchall()
    finally:
        connection.close()
    return [day for (day,) in rows]


def _unmark_periods(paths: MaglumatPaths) -> None:
    connection = duckdb.connect(str(paths.warehouse))
    try:
        for table in (VALUES, "indicators.fct_indicator_values"):
            connection.execute(f"delete from {table} where breakdown = ?", [MARKER])
    finally:
        connection.close()


def _refreshed(paths: MaglumatPaths, indicator_id: str) -> dict[str, list[dt.date]]:
    """The periods of one indicator that the last build made again, by period type."""
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select period_type, period_start from audit.dbt_indicator_refresh__fuel_energy"
            " where indicator_id = ? and not is_whole order by all",
            [indicator_id],
        ).fetchall()
    finally:
        connection.close()
    found: dict[str, list[dt.date]] = {}
    for period_type, period_start in rows:
        found.setdefault(period_type, []).append(period_start)
    return found


def _tables(paths: MaglumatPaths) -> dict[str, list[tuple]]:
    return {table: table_fingerprint(str(paths.warehouse), table) for table in TABLES}


def _quarantined_batch(paths: MaglumatPaths) -> str:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        (batch_id,) = connection.execute(  # type: ignore[misc]
            "select batch_id from audit.batches where status = 'loaded_with_quarantine'"
        ).fetchone()
    finally:
        connection.close()
    return str(batch_id)


def _fact(paths: MaglumatPaths, sql: str, parameters: list[object]) -> list[tuple]:
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return connection.execute(sql.format(fact=DAILY_FACT), parameters).fetchall()
    finally:
        connection.close()


def _send_register_with(paths: MaglumatPaths, code: str, like: str) -> None:
    """The dispatch centre's register sent again whole, with one more field."""
    register = next(f for f in fuel_energy.generate().files if f.table == "enterprises")
    lines = register.render().decode("utf-8").splitlines()
    lines.append(next(line for line in lines if line.startswith(f"{like},")).replace(like, code))
    inbox = paths.systems / fuel_energy.SYSTEM / "inbox"
    register_file = inbox / "fek_karhanalar_2023-09-15.csv"
    register_file.write_text("\n".join(lines) + "\n", "utf-8")
    age_file(register_file, 3600)


def _new_batches(paths: MaglumatPaths, known: set[str]) -> tuple[set[str], str]:
    """The batches in the ledger beyond ``known``, and what a build bringing them says."""
    connection = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        rows = connection.execute(
            "select batch_id, system || '.' || table_name from audit.batches"
            " where status in ('loaded', 'loaded_with_quarantine')"
        ).fetchall()
    finally:
        connection.close()
    new = {batch: table for batch, table in rows if batch not in known}
    plural = "es" if len(new) != 1 else ""
    said = (
        f"incremental models: {len(new)} new batch{plural} ({', '.join(sorted(set(new.values())))})"
    )
    return {batch for batch, _ in rows}, said


def test_daily_builds_rebuild_the_days_they_bring_and_equal_a_full_rebuild(
    maglumat_home: MaglumatPaths, tmp_path: Path
) -> None:
    """One story, five real runs (each a whole Dagster run with dbt): the files to 9 September,
    built in full; those of the 10th to the 12th, the 10th naming a field the register does not
    list yet (its row is quarantined); the 13th to the 15th with the 12th sent again corrected
    and the register with the new field; a full rebuild, equal to what the increments made;
    then the steward readmits the 10th, and the next build refreshes in full and carries its
    row."""
    home = maglumat_home
    fuel_energy.simulate(home, _morning(10))
    assert _run(home).startswith("incremental models in full: no earlier build")
    known, _ = _new_batches(home, set())
    _mark(home, UNTOUCHED_DAY)
    _mark_period(home, UNTOUCHED_DAY)

    fuel_energy.simulate(home, _morning(13))
    day_file = home.systems / fuel_energy.SYSTEM / "inbox" / "fek_2023-09-10.csv"
    day_file.write_text(
        day_file.read_text(encoding="utf-8").replace("TGZ-GLK", "TGZ-TZE", 1), encoding="utf-8"
    )
    age_file(day_file, 3600)  # settled, not half-written
    said_12th = _run(home)
    known, expected_12th = _new_batches(home, known)
    quarantined = _quarantined_batch(home)
    _mark(home, dt.date(2023, 9, 11))
    _mark(home, CORRECTED_DAY)
    _mark_period(home, dt.date(2023, 9, 11))
    _mark_period(home, CORRECTED_DAY)

    fuel_energy.simulate(home, _morning(16))
    _send_register_with(home, "TGZ-TZE", like="TGZ-GLK")
    said_15th = _run(home)
    _, expected_15th = _new_batches(home, known)

    # What the build says is what the ledger holds, and what the dispatch centre sent: the
    # files of the 10th to the 12th; then those of the 13th to the 15th, the 12th again, the
    # revised 2023 plan and the register.
    assert (
        said_12th
        == expected_12th
        == ("incremental models: 3 new batches (fuel_energy_production.daily_production)")
    )
    assert (
        said_15th
        == expected_15th
        == (
            "incremental models: 6 new batches (fuel_energy_production.daily_production,"
            " fuel_energy_production.enterprises, fuel_energy_production.monthly_plans)"
        )
    )
    # Only the days the batches brought were rebuilt: the markers of the 5th and the 11th
    # survive; the 12th was rebuilt from both its transmissions.
    assert _marked_days(home) == [UNTOUCHED_DAY, dt.date(2023, 9, 11)]
    assert _fact(
        home, "select max(correction_count) from {fact} where report_date = ?", [CORRECTED_DAY]
    ) == [(1,)]
    # The indicator values made again the periods of the days that changed, and no other:
    # the daily power output of the 12th (sent again) to the 15th, their weeks and September.
    assert _marked_periods(home) == [UNTOUCHED_DAY, dt.date(2023, 9, 11)]
    assert _refreshed(home, DAILY_POWER) == {
        "day": [CORRECTED_DAY + dt.timedelta(days=n) for n in range(4)],
        "month": [dt.date(2023, 9, 1)],
        "week": [dt.date(2023, 9, 11)],
    }
    _unmark_periods(home)
    incremental = _tables(home)

    said_full = _run(home, full=True)

    assert said_full == "incremental models in full: a full build was asked for"
    assert _marked_days(home) == []
    full = _tables(home)
    unmarked = sorted((row[0].removesuffix(MARKER), *row[1:]) for row in incremental[DAILY_FACT])
    assert unmarked == full[DAILY_FACT]
    for table in TABLES[1:]:
        assert incremental[table] == full[table], table

    # The way back: the row quarantined on the 10th is readmitted once the register has it.
    tze = "select report_date from {fact} where enterprise_id = ?"
    assert _fact(home, tze, [f"{fuel_energy.SYSTEM}:TGZ-TZE"]) == []
    _mark(home, UNTOUCHED_DAY)
    assert readmit(home, quarantined).quarantined_rows == 0

    said_readmit = _run(home)

    assert said_readmit == (
        f"incremental models in full: batch {quarantined} was decided again since the last build"
    )
    assert _marked_days(home) == []
    assert _fact(home, tze, [f"{fuel_energy.SYSTEM}:TGZ-TZE"]) == [(dt.date(2023, 9, 10),)]

    # By hand, outside the pipeline, the fact has no increments of its own: dbt stops and says
    # how to build it, and compiling it (docs, a look at its SQL) still works.
    by_hand = run_dbt(home, ["build", "--select", "fct_fuel_energy_daily_production"], tmp_path)
    assert by_hand.returncode != 0
    assert (
        "is incremental: the batches it adds come from a pipeline build (`maglumat run`);"
        " built by hand, give dbt --full-refresh"
    ) in by_hand.stdout
    compiled = run_dbt(home, ["compile", "--select", "fct_fuel_energy_daily_production"], tmp_path)
    assert compiled.returncode == 0, compiled.stdout[-2000:]

    # The sector's values built by hand for one indicator would leave the kept days out of
    # step with the table: dbt stops and says so.
    narrowed = run_dbt(
        home,
        [
            "build",
            "--select",
            "int_indicator_values_fuel_energy",
            "--vars",
            "{indicator_ids: [fe_gas_output_bcm]}",
        ],
        tmp_path,
    )
    assert narrowed.returncode != 0
    assert (
        "is made by period from the days kept by its last build: a build narrowed by the var"
        " indicator_ids would leave them out of step; give dbt --full-refresh"
    ) in narrowed.stdout


def test_an_incremental_model_reads_only_the_sources_whose_increments_it_applies() -> None:
    """A model over another source (a register, a plan) would keep stale rows on the days no
    batch touched: each incremental model's sources are exactly those it takes increments of."""
    manifest = json.loads(Path(manifest_path()).read_text())
    incremental = incremental_models(manifest)
    assert sorted(incremental) == [
        "model.maglumat.fct_fuel_energy_daily_production",
        "model.maglumat.int_edocument_documents",
    ]
    for unique_id, upstream in incremental.items():
        applied = set(
            re.findall(
                r"increment_batch_ids\(\s*'([^']+)',\s*'([^']+)'\s*\)",
                manifest["nodes"][unique_id]["raw_code"],
            )
        )
        assert applied, f"{unique_id} is incremental but applies no increments"
        assert upstream == applied, unique_id
