"""Helpers of the http_api extractor's tests: a small collection of meter readings that makes the
pages easy to count (25 readings entered in uploads of four, the records of one upload sharing
their ``updated_at``, read 10 to a page), the catalogue entry of kind http_api that reads it, the
real simulated API serving it on 127.0.0.1, and a table read through the extractor."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from maglumat.catalogue import Delivery, SourceSystem, SourceTable
from maglumat.settings import MaglumatPaths
from pipelines.extract import ExtractRequest
from pipelines.extract.http_api import extract
from simulator.http_api import ApiServer, Collection

TOKEN = "s3cret-test-token"
TOKEN_ENV = "MAGLUMAT_TEST_API_TOKEN"
URL_ENV = "MAGLUMAT_TEST_API_URL"
READINGS = SourceTable(
    name="readings", business_key=("reading_id",), mode="incremental", cursor="updated_at"
)
STATIONS = SourceTable(name="stations", business_key=("station_code",), mode="full")
START = dt.datetime(2023, 9, 1, 6, tzinfo=dt.UTC)


def meter_reading(reading_id: int, updated_at: dt.datetime, value: float) -> dict[str, Any]:
    return {
        "reading_id": reading_id,
        "station_code": f"ST-{reading_id % 3 + 1}",
        "value_mwh": value,
        "updated_at": updated_at.isoformat(),
    }


def meter_data() -> dict[str, list[dict[str, Any]]]:
    readings = [
        meter_reading(number, START + dt.timedelta(hours=(number - 1) // 4), 100.0 + number)
        for number in range(1, 26)
    ]
    stations = [{"station_code": f"ST-{n}", "name": f"Station {n}"} for n in (1, 2, 3)]
    return {"readings": readings, "stations": stations}


def meter_api_system(**options: Any) -> SourceSystem:
    """A catalogue entry of kind http_api, as a sector's sources.yml would declare it."""
    return SourceSystem(
        name="meter_statistics_api",
        sector="test",
        ministry="Test ministry",
        kind="http_api",
        connection_env=URL_ENV,
        demo_connection=None,
        delivery=Delivery(every="day", expected_by="10:00", timezone="Asia/Ashgabat"),
        tables=(READINGS, STATIONS),
        options={
            "token_env": TOKEN_ENV,
            "page_size": 10,
            "timeout_seconds": 2,
            "max_attempts": 4,
            "backoff_seconds": 0.01,
            "max_backoff_seconds": 2,
            **options,
        },
    )


@contextlib.contextmanager
def meter_api_server(
    data: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ApiServer]:
    """The simulated API serving ``data`` (as it is at each request), its URL and token in the
    variables the catalogue entry names."""
    collections = (
        Collection("readings", id_field="reading_id"),
        Collection("stations", id_field="station_code", cursor_field=None),
    )
    with ApiServer(collections, lambda: data, TOKEN) as api:
        monkeypatch.setenv(URL_ENV, api.url)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        yield api


def read_table(
    server: ApiServer,
    system: SourceSystem | None = None,
    table: SourceTable = READINGS,
    high_water_mark: str | None = None,
    paths: MaglumatPaths | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    system = system or meter_api_system()
    request = ExtractRequest(
        system, table, server.url, high_water_mark, paths or MaglumatPaths.from_env()
    )
    (batch,) = list(extract(request))
    return batch.frame.to_dicts(), batch.cursor_to


def reading_ids(records: list[dict[str, Any]]) -> list[int]:
    return [record["reading_id"] for record in records]
