"""The http_api extractor paging through the real simulated API on 127.0.0.1: every page read
once in cursor order (keyset or page numbers), a record corrected while paging neither skipped
nor lost, paging that never ends refused instead of hanging; and incremental reads by
``updated_since``: only newer and corrected records, full tables read whole, the records of a
batch the steward rejects asked for again.

The meter readings and their catalogue entry are in tests/sectors/http_api_support.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from maglumat.settings import MaglumatPaths
from pipelines.extract.http_api import PagingLoopError, read_collection
from pipelines.ingest import extract_to_landing
from pipelines.landing import high_water_mark, list_batches, read_batch, record_rejection
from simulator.http_api import ApiServer
from tests.sectors.http_api_support import (
    READINGS,
    START,
    STATIONS,
    TOKEN,
    TOKEN_ENV,
    URL_ENV,
    meter_api_server,
)
from tests.sectors.http_api_support import meter_api_system as _system
from tests.sectors.http_api_support import meter_data as _data
from tests.sectors.http_api_support import meter_reading as _reading
from tests.sectors.http_api_support import read_table as _read
from tests.sectors.http_api_support import reading_ids as _ids


@pytest.fixture
def data() -> dict[str, list[dict[str, Any]]]:
    return _data()


@pytest.fixture
def server(
    data: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ApiServer]:
    with meter_api_server(data, monkeypatch) as api:
        yield api


def test_every_page_is_read_once_in_cursor_order(server: ApiServer) -> None:
    records, cursor_to = _read(server)
    assert _ids(records) == list(range(1, 26))
    assert server.pages_served("readings") == [1, 2, 3]
    assert [r.status for r in server.served("readings")] == [200, 200, 200]
    assert cursor_to == (START + dt.timedelta(hours=6)).isoformat()
    assert records[0] == _data()["readings"][0]  # values exactly as the API sent them


def test_page_number_paging_reads_the_same_records(server: ApiServer) -> None:
    records, _ = _read(server, _system(paging="page_number"))
    assert _ids(records) == list(range(1, 26))
    assert server.pages_served("readings") == [1, 2, 3]  # the short third page ends it


def test_a_record_corrected_while_paging_is_neither_skipped_nor_lost(
    server: ApiServer, data: dict[str, list[dict[str, Any]]]
) -> None:
    """Keyset paging: a correction moves a record to the end while pages are being read; offset
    paging would then skip the record that slides into the page already read."""
    pages = read_collection(_system(), READINGS, server.url, None)
    first = next(pages)
    data["readings"][14] = _reading(15, START + dt.timedelta(days=1), 999.0)
    rest = [record for page in pages for record in page]
    ids = _ids(first + rest)
    assert sorted(ids) == list(range(1, 26))
    assert len(ids) == 25
    assert rest[-1]["reading_id"] == 15
    assert rest[-1]["value_mwh"] == 999.0


def test_the_server_answers_json_with_paging_links(server: ApiServer) -> None:
    request = urllib.request.Request(
        f"{server.url}/readings?page_size=10", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        document = json.loads(answer.read())
    assert len(document["data"]) == 10
    assert document["meta"] == {"page": 1, "page_size": 10, "remaining": 15}
    assert document["links"]["next"].startswith("/api/v1/readings?page_size=10&cursor=")


class _EndlessApi:
    """A real HTTP server on 127.0.0.1 whose paging never ends, in one of three ways."""

    def __init__(self, kind: str) -> None:
        import http.server
        import threading
        from urllib.parse import parse_qs, urlsplit

        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(handler) -> None:  # noqa: N805 - the standard library's name
                self.requests += 1
                query = parse_qs(urlsplit(handler.path).query)
                step = int(query.get("step", ["0"])[0])
                if kind == "same_link":  # new records, but the link comes back to page 2
                    records = [_reading(self.requests, START, 1.0)]
                    following = "/v1/readings?step=0"
                elif kind == "same_page":
                    records, following = [_reading(1, START, 1.0)], f"/v1/readings?step={step + 1}"
                else:  # every page new, forever
                    records = [_reading(step + 1, START + dt.timedelta(minutes=step), 1.0)]
                    following = f"/v1/readings?step={step + 1}"
                body = json.dumps({"data": records, "links": {"next": following}}).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args: object) -> None:  # noqa: N805
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _EndlessApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("kind", "message", "pages"),
    [
        ("same_link", "the next link of page 2 was followed before", 2),
        ("same_page", "page 2 repeats the records of page 1", 2),
        ("endless", "more than 50 pages (max_pages)", 50),
    ],
)
def test_paging_that_never_ends_is_a_clear_error_not_a_hang(
    kind: str,
    message: str,
    pages: int,
    maglumat_home: MaglumatPaths,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    system = _system(max_pages=50)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    with _EndlessApi(kind) as api:
        monkeypatch.setenv(URL_ENV, api.url)
        with pytest.raises(PagingLoopError, match=re.escape(message)) as raised:
            extract_to_landing(maglumat_home, system, READINGS)
        assert api.requests == pages
    assert "meter_statistics_api" in str(raised.value)
    assert TOKEN not in str(raised.value)
    # Nothing of a runaway extraction is landed: its records are repeated or suspect.
    assert list_batches(maglumat_home.landing, system.name, READINGS.name) == []


def test_since_returns_only_newer_and_corrected_records(
    server: ApiServer, data: dict[str, list[dict[str, Any]]]
) -> None:
    first, mark = _read(server)
    assert len(first) == 25
    later = START + dt.timedelta(days=2)
    data["readings"][2] = _reading(3, later, 42.0)  # reading 3 corrected
    data["readings"].append(_reading(26, later + dt.timedelta(minutes=5), 7.0))
    second, second_mark = _read(server, high_water_mark=mark)
    assert [(r["reading_id"], r["value_mwh"]) for r in second] == [(3, 42.0), (26, 7.0)]
    assert server.served("readings")[-1].since == mark
    assert second_mark == (later + dt.timedelta(minutes=5)).isoformat()
    nothing, _ = _read(server, high_water_mark=second_mark)
    assert nothing == []


def test_full_tables_are_read_whole_without_since(server: ApiServer) -> None:
    records, cursor_to = _read(server, table=STATIONS, high_water_mark="2030-01-01T00:00:00")
    assert [r["station_code"] for r in records] == ["ST-1", "ST-2", "ST-3"]
    assert cursor_to is None
    assert server.served("stations")[0].since is None


def test_a_rejected_batchs_records_are_asked_for_again(
    server: ApiServer, data: dict[str, list[dict[str, Any]]], maglumat_home: MaglumatPaths
) -> None:
    """The steward rejects the batch of 28 September (say the API served it wrongly); the next
    extraction asks the API for those records again, from where that batch began."""
    system = _system()
    (first,) = extract_to_landing(maglumat_home, system, READINGS).manifests
    later = START + dt.timedelta(days=27)
    data["readings"] += [_reading(n, later + dt.timedelta(minutes=n), 1.0) for n in (26, 27, 28)]
    (bad,) = extract_to_landing(maglumat_home, system, READINGS).manifests
    assert bad.cursor_from == first.cursor_to
    assert high_water_mark(maglumat_home.landing, system.name, READINGS.name) == bad.cursor_to

    record_rejection(maglumat_home.landing, bad, "served with wrong values")
    assert high_water_mark(maglumat_home.landing, system.name, READINGS.name) == first.cursor_to
    (again,) = extract_to_landing(maglumat_home, system, READINGS).manifests
    assert server.served("readings")[-1].since == first.cursor_to
    assert _ids(read_batch(maglumat_home.landing, again).to_dicts()) == [26, 27, 28]
    assert high_water_mark(maglumat_home.landing, system.name, READINGS.name) == again.cursor_to
    outcome = extract_to_landing(maglumat_home, system, READINGS)
    assert outcome.manifests == []  # then the mark moves on: nothing read twice more


def test_a_batch_rejected_with_its_rows_skipped_is_not_asked_for_again(
    server: ApiServer, data: dict[str, list[dict[str, Any]]], maglumat_home: MaglumatPaths
) -> None:
    system = _system()
    extract_to_landing(maglumat_home, system, READINGS)
    data["readings"].append(_reading(26, START + dt.timedelta(days=27), 1.0))
    (bad,) = extract_to_landing(maglumat_home, system, READINGS).manifests
    record_rejection(maglumat_home.landing, bad, "known duplicate feed", extract_again=False)
    assert high_water_mark(maglumat_home.landing, system.name, READINGS.name) == bad.cursor_to
    assert extract_to_landing(maglumat_home, system, READINGS).manifests == []
