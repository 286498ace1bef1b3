"""The http_api extractor against the real simulated API on 127.0.0.1: paging, the bearer token,
retries on 429, 5xx, timeouts and dropped connections, resuming at the failed page, clear errors,
and incremental reads by ``updated_since``.

A small collection of meter readings makes the pages easy to count: 25 readings entered in
uploads of four (records of one upload share their ``updated_at``), read 10 to a page.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from maglumat.catalogue import Delivery, SourceSystem, SourceTable
from maglumat.settings import MaglumatPaths
from pipelines.extract import ExtractRequest
from pipelines.extract.http_api import PagingLoopError, extract, read_collection
from pipelines.extract.http_client import HttpApiError, public_url
from pipelines.ingest import extract_to_landing
from pipelines.landing import high_water_mark, list_batches, read_batch, record_rejection
from simulator.http_api import ApiServer, Collection, Fault

TOKEN = "s3cret-test-token"
TOKEN_ENV = "MAGLUMAT_TEST_API_TOKEN"
URL_ENV = "MAGLUMAT_TEST_API_URL"
READINGS = SourceTable(
    name="readings", business_key=("reading_id",), mode="incremental", cursor="updated_at"
)
STATIONS = SourceTable(name="stations", business_key=("station_code",), mode="full")
START = dt.datetime(2023, 9, 1, 6, tzinfo=dt.UTC)


def _reading(reading_id: int, updated_at: dt.datetime, value: float) -> dict[str, Any]:
    return {
        "reading_id": reading_id,
        "station_code": f"ST-{reading_id % 3 + 1}",
        "value_mwh": value,
        "updated_at": updated_at.isoformat(),
    }


def _data() -> dict[str, list[dict[str, Any]]]:
    readings = [
        _reading(number, START + dt.timedelta(hours=(number - 1) // 4), 100.0 + number)
        for number in range(1, 26)
    ]
    stations = [{"station_code": f"ST-{n}", "name": f"Station {n}"} for n in (1, 2, 3)]
    return {"readings": readings, "stations": stations}


def _system(**options: Any) -> SourceSystem:
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


@pytest.fixture
def data() -> dict[str, list[dict[str, Any]]]:
    return _data()


@pytest.fixture
def server(
    data: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> Iterator[ApiServer]:
    collections = (
        Collection("readings", id_field="reading_id"),
        Collection("stations", id_field="station_code", cursor_field=None),
    )
    with ApiServer(collections, lambda: data, TOKEN) as api:
        monkeypatch.setenv(URL_ENV, api.url)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        yield api


def _read(
    server: ApiServer,
    system: SourceSystem | None = None,
    table: SourceTable = READINGS,
    high_water_mark: str | None = None,
    paths: MaglumatPaths | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    system = system or _system()
    request = ExtractRequest(
        system, table, server.url, high_water_mark, paths or MaglumatPaths.from_env()
    )
    (batch,) = list(extract(request))
    return batch.frame.to_dicts(), batch.cursor_to


def _ids(records: list[dict[str, Any]]) -> list[int]:
    return [record["reading_id"] for record in records]


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


def test_requests_without_the_token_are_refused(server: ApiServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.url}/readings", timeout=5)
    assert refused.value.code == 401
    assert refused.value.headers["WWW-Authenticate"].startswith("Bearer")
    refused.value.close()


def test_a_wrong_token_is_a_clear_error_without_retries(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    with pytest.raises(HttpApiError) as error:
        _read(server)
    message = str(error.value)
    assert "meter_statistics_api" in message
    assert "HTTP 401" in message
    assert TOKEN_ENV in message
    assert "not-the-token" not in message
    assert f"{server.url}/readings" in message
    assert [r.status for r in server.served()] == [401]  # a refusal is not retried


def test_a_missing_token_variable_is_named(
    server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(HttpApiError, match=TOKEN_ENV):
        _read(server)
    assert server.served() == []


def test_429_waits_for_retry_after_then_succeeds(server: ApiServer) -> None:
    server.inject(Fault("status", collection="readings", page=2, status=429, retry_after="1"))
    started = time.monotonic()
    records, _ = _read(server)
    elapsed = time.monotonic() - started
    assert _ids(records) == list(range(1, 26))
    assert [(r.page, r.status) for r in server.served("readings")] == [
        (1, 200),
        (2, 429),
        (2, 200),
        (3, 200),
    ]
    assert elapsed >= 1.0  # the server's Retry-After, not the 0.01 s backoff


def test_server_errors_are_retried_with_backoff(server: ApiServer) -> None:
    server.inject(
        Fault("status", collection="readings", page=1, status=500),
        Fault("status", collection="readings", page=1, status=502),
        Fault("status", collection="readings", page=1, status=503),
    )
    records, _ = _read(server)
    assert _ids(records) == list(range(1, 26))
    assert [r.status for r in server.served("readings", page=1)] == [500, 502, 503, 200]


def test_a_slow_answer_times_out_and_is_asked_again(server: ApiServer) -> None:
    server.inject(Fault("slow", collection="readings", page=2, delay_seconds=1.5))
    records, _ = _read(server, _system(timeout_seconds=0.4))
    assert _ids(records) == list(range(1, 26))  # nothing twice, nothing missing
    assert server.pages_served("readings") == [1, 2, 2, 3]


def test_a_dropped_connection_is_retried(server: ApiServer) -> None:
    server.inject(Fault("drop", collection="readings", page=3))
    records, _ = _read(server)
    assert _ids(records) == list(range(1, 26))
    assert [(r.page, r.fault) for r in server.served("readings", page=3)] == [
        (3, "drop"),
        (3, None),
    ]


def test_paging_resumes_at_the_failed_page(server: ApiServer) -> None:
    server.inject(Fault("status", collection="readings", page=3, status=503))
    records, _ = _read(server)
    assert _ids(records) == list(range(1, 26))
    assert server.pages_served("readings") == [1, 2, 3, 3]  # never page 1 again


def test_exhausted_retries_land_the_pages_read_and_the_next_run_resumes(
    server: ApiServer, maglumat_home: MaglumatPaths
) -> None:
    system = _system(max_attempts=3)
    server.inject(Fault("status", collection="readings", page=3, status=503, times=3))
    with pytest.raises(HttpApiError) as error:
        extract_to_landing(maglumat_home, system, READINGS)
    message = str(error.value)
    assert "meter_statistics_api" in message
    assert "page 3" in message
    assert "gave up after 3 attempts" in message
    assert "HTTP 503" in message
    assert f"{server.url}/readings" in message
    assert TOKEN not in message
    # Pages 1 and 2 hold readings 1-20; the upload of 17-20 may go on on page 3, so it waits.
    (partial,) = list_batches(maglumat_home.landing, "meter_statistics_api", "readings")
    assert _ids(read_batch(maglumat_home.landing, partial).to_dicts()) == list(range(1, 17))
    assert partial.cursor_to == (START + dt.timedelta(hours=3)).isoformat()

    outcome = extract_to_landing(maglumat_home, system, READINGS)
    (rest,) = outcome.manifests
    assert _ids(read_batch(maglumat_home.landing, rest).to_dicts()) == list(range(17, 26))
    assert server.served("readings")[-1].since == partial.cursor_to


def test_invalid_json_is_a_clear_error(server: ApiServer) -> None:
    server.inject(Fault("invalid_json", collection="readings", page=2))
    with pytest.raises(HttpApiError) as error:
        _read(server)
    message = str(error.value)
    assert "meter_statistics_api: the answer is not valid JSON" in message
    assert "page 2" in message
    assert f"{server.url}/readings?" in message
    assert TOKEN not in message


def test_connection_refused_is_a_clear_error(server: ApiServer) -> None:
    url = server.url
    server.stop()
    with pytest.raises(HttpApiError) as error:
        _read(server)
    assert "meter_statistics_api: connection refused" in str(error.value)
    assert f"{url}/readings" in str(error.value)
    assert "page 1" in str(error.value)


def test_other_client_errors_are_not_retried(server: ApiServer) -> None:
    with pytest.raises(HttpApiError, match=r"HTTP 400: .*page_size must be 1 to 1000"):
        _read(server, _system(page_size=5000))
    assert [r.status for r in server.served()] == [400]


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


def test_unknown_options_are_refused() -> None:
    system = replace(_system(), options={"token_env": TOKEN_ENV, "pagesize": 10})
    with pytest.raises(ValueError, match="unknown options \\['pagesize'\\]"):
        list(read_collection(system, READINGS, "http://127.0.0.1:9/api", None))


def test_secrets_never_reach_messages() -> None:
    shown = public_url("https://reader:pa55@stat.example.gov.tm/api/v1/x?token=abc&page=2")
    assert "pa55" not in shown
    assert "abc" not in shown
    assert "page=2" in shown


def test_the_server_answers_json_with_paging_links(server: ApiServer) -> None:
    request = urllib.request.Request(
        f"{server.url}/readings?page_size=10", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        document = json.loads(answer.read())
    assert len(document["data"]) == 10
    assert document["meta"] == {"page": 1, "page_size": 10, "remaining": 15}
    assert document["links"]["next"].startswith("/api/v1/readings?page_size=10&cursor=")


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


def test_a_retry_after_date_is_counted_from_the_answers_own_date_not_this_machines() -> None:
    from pipelines.extract.http_client import _retry_after_seconds

    # A server whose clock is years off still means "in 30 seconds".
    answered = "Mon, 03 Sep 2001 10:00:00 GMT"
    assert _retry_after_seconds("Mon, 03 Sep 2001 10:00:30 GMT", answered) == 30.0
    assert _retry_after_seconds("7", answered) == 7.0
    assert _retry_after_seconds("Mon, 03 Sep 2001 10:00:30 GMT", None) is None  # backoff then
