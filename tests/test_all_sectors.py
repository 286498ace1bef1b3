"""All ten sector systems end to end: one real Dagster run of the daily job over the simulated
systems (SQLite databases, file inboxes, a JSON lines log, HTTP APIs on 127.0.0.1), then totals
in the published warehouse compared with totals computed from the simulators' records."""

from collections import defaultdict

import duckdb
import pytest

from maglumat.catalogue import load_catalogue
from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator import agriculture, processing, transport
from tests.support import expected_campaign_progress, expected_processing_months
from warehouse.snapshot import current_snapshot

pytestmark = pytest.mark.slow
AS_OF = DEFAULT_AS_OF
SEED = DEFAULT_SEED


@pytest.fixture
def everything(all_sectors: MaglumatPaths) -> MaglumatPaths:
    return all_sectors


def _query(paths: MaglumatPaths, sql: str) -> list[tuple]:
    snapshot = current_snapshot(paths)
    assert snapshot is not None
    connection = duckdb.connect(str(snapshot.path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_every_system_delivered_and_every_batch_reconciles(everything: MaglumatPaths) -> None:
    loaded = {
        (system, table): rows
        for system, table, rows in _query(
            everything,
            "select system, table_name, sum(loaded_rows) from audit.batches group by all",
        )
    }
    for system in load_catalogue():
        for table in system.tables:
            assert loaded.get((system.name, table.name), 0) > 0, f"{system.name}.{table.name}"
    for extracted, in_warehouse, quarantined, held in _query(
        everything,
        "select extracted_rows, loaded_rows, quarantined_rows, held_rows from audit.batches",
    ):
        assert extracted == in_warehouse + quarantined + held
    snapshot = current_snapshot(everything)
    assert snapshot is not None
    assert snapshot.metadata["late_systems"] == []
    assert snapshot.metadata["held_batches"] == []


def test_sector_totals_equal_the_simulators(everything: MaglumatPaths) -> None:
    # Agriculture: cotton harvested by the country on the last reported day.
    day, expected = expected_campaign_progress(
        agriculture.generate(SEED), AS_OF, "cotton", "harvest", 2023
    )
    ((cotton,),) = _query(
        everything,
        "select cumulative_amount from indicators.ind_campaign_progress where region_id = 'TM'"
        f" and campaign_id = 'cotton_harvest_2023' and report_date = '{day}'",
    )
    assert cotton == pytest.approx(expected["TM"].cumulative, abs=0.01)

    # Processing industry: output by plant, product and month.
    months = expected_processing_months(processing.generate(SEED), AS_OF)
    ((output,),) = _query(
        everything, "select sum(output_tonnes) from marts.fct_processing_output_monthly"
    )
    assert float(output) == pytest.approx(sum(v[1] for v in months.values()), abs=0.5)

    # Transport: freight by operator over the months the API had published by then.
    visible = transport.visible_at(transport.generate(SEED), AS_OF)
    freight: dict[str, float] = defaultdict(float)
    for record in visible.traffic:
        freight[record.operator_code] += record.freight_tonnes
    rows = _query(
        everything,
        "select operator_code, sum(actual_freight_tonnes) from"
        " marts.fct_transport_operator_monthly group by 1",
    )
    assert {operator: float(total or 0) for operator, total in rows} == pytest.approx(
        dict(freight), abs=0.01
    )


def test_enterprises_of_every_sector_have_their_ministry(everything: MaglumatPaths) -> None:
    rows = dict(
        _query(
            everything,
            "select sector, count(distinct ministry_id) from marts.dim_enterprises group by 1",
        )
    )
    assert set(rows) >= {
        "agriculture",
        "fuel_energy",
        "chemical",
        "processing",
        "construction",
        "transport",
        "telecom",
        "medicine",
        "textile",
    }
    assert set(rows.values()) == {1}
