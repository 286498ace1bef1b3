"""The file inbox sensors: one per inbox system, loadable with the job; each requests a run
once per new file, not again for files still waiting, and not for a file still being written,
with its cursor forgetting the files a run moved out."""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg

from maglumat.catalogue import SourceSystem, load_catalogue
from maglumat.settings import MaglumatPaths
from pipelines.ingest import extract_to_landing
from pipelines.resources import MaglumatResource
from pipelines.sensors import build_inbox_sensors
from tests.sectors.inbox_support import (
    CHEMICAL,
    FUEL,
    LONG_AGO,
    NEW_EXPORT_WITH_BOM,
    drop_file,
    inbox_of,
)
from tests.support import age_file


def _fuel_sensor() -> dg.SensorDefinition:
    sensors = build_inbox_sensors(load_catalogue(), "maglumat_daily")
    return next(sensor for sensor in sensors if sensor.name == f"{FUEL}__inbox_sensor")


def _tick(sensor: dg.SensorDefinition, paths: MaglumatPaths, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(
        cursor=cursor, resources={"maglumat": MaglumatResource(home=str(paths.home))}
    )
    result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_one_sensor_per_inbox_system_and_it_loads_with_the_job() -> None:
    systems = load_catalogue()
    sensors = build_inbox_sensors(systems, "maglumat_daily")
    inbox_systems = {s.name for s in systems if s.kind == "file_inbox"}
    assert {FUEL, CHEMICAL, "medicine_facility_reports", "textile_mill_output"} <= inbox_systems
    assert {sensor.name for sensor in sensors} == {
        f"{name}__inbox_sensor" for name in inbox_systems
    }
    definitions = dg.Definitions(
        jobs=[dg.define_asset_job("maglumat_daily")],
        sensors=sensors,
        resources={"maglumat": MaglumatResource()},
    )
    dg.Definitions.validate_loadable(definitions)


def test_the_sensor_requests_a_run_once_per_new_file(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    sensor = _fuel_sensor()
    inbox = inbox_of(maglumat_home, FUEL)

    missing = _tick(sensor, maglumat_home, None)
    assert missing.run_requests == []
    assert missing.skip_reason is not None
    assert "MAGLUMAT_FUEL_ENERGY_PRODUCTION_INBOX" in missing.skip_reason.skip_message

    drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM)
    drop_file(inbox, "fek_onumler.csv", b"product_code\nGAZ\n")
    drop_file(inbox, "readme.txt", b"not a file of any table")
    first = _tick(sensor, maglumat_home, missing.cursor)
    (request,) = first.run_requests
    assert request.tags["maglumat/system"] == FUEL
    assert request.tags["maglumat/new_files"] == "2"
    assert sorted(json.loads(first.cursor or "{}")) == [
        "fek_2023-09-12.csv",
        "fek_onumler.csv",
    ]

    # The same files, not yet picked up: no second run.
    again = _tick(sensor, maglumat_home, first.cursor)
    assert again.run_requests == []
    assert again.cursor == first.cursor

    # A new file: one run, for it alone.
    drop_file(inbox, "fek_2023-09-13.csv", NEW_EXPORT_WITH_BOM.replace(b"09-12", b"09-13"))
    third = _tick(sensor, maglumat_home, again.cursor)
    (request,) = third.run_requests
    assert request.tags["maglumat/new_files"] == "1"
    assert request.run_key != first.run_requests[0].run_key

    # The run moves the files out: nothing new, and the cursor forgets them.
    for table in fuel.tables:
        extract_to_landing(maglumat_home, fuel, table)
    emptied = _tick(sensor, maglumat_home, third.cursor)
    assert emptied.run_requests == []
    assert emptied.cursor == "{}"

    # The same name again (a day sent again) is new again.
    drop_file(inbox, "fek_2023-09-12.csv", NEW_EXPORT_WITH_BOM, LONG_AGO + dt.timedelta(days=2))
    resent = _tick(sensor, maglumat_home, emptied.cursor)
    assert len(resent.run_requests) == 1


def test_the_sensor_waits_for_a_file_still_being_written(
    maglumat_home: MaglumatPaths, fuel: SourceSystem
) -> None:
    sensor = _fuel_sensor()
    path = drop_file(
        inbox_of(maglumat_home, FUEL),
        "fek_2023-09-12.csv",
        NEW_EXPORT_WITH_BOM,
        arrived=None,
    )
    writing = _tick(sensor, maglumat_home, None)
    assert writing.run_requests == []

    age_file(path, 60)
    assert len(_tick(sensor, maglumat_home, writing.cursor).run_requests) == 1
