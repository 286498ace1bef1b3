"""The http_api extractor when the real simulated API on 127.0.0.1 fails: the bearer token
refused, missing or wrong (never retried); 429 waited out by its Retry-After, 5xx, timeouts and
dropped connections retried with backoff, resuming at the failed page; retries exhausted (the
pages read are landed and the next run resumes); and clear errors that name the system, the page
and the URL but never a secret.

The meter readings and their catalogue entry are in tests/sectors/http_api_support.py.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from maglumat.settings import MaglumatPaths
from pipelines.extract.http_api import read_collection
from pipelines.extract.http_client import HttpApiError, public_url
from pipelines.ingest import extract_to_landing
from pipelines.landing import list_batches, read_batch
from simulator.http_api import ApiServer, Fault
from tests.sectors.http_api_support import (
    READINGS,
    START,
    TOKEN,
    TOKEN_ENV,
    meter_api_server,
)
from tests.sectors.http_api_support import meter_api_system as _system
from tests.sectors.http_api_support import meter_data as _data
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


def test_a_retry_after_date_is_counted_from_the_answers_own_date_not_this_machines() -> None:
    from pipelines.extract.http_client import _retry_after_seconds

    # A server whose clock is years off still means "in 30 seconds".
    answered = "Mon, 03 Sep 2001 10:00:00 GMT"
    assert _retry_after_seconds("Mon, 03 Sep 2001 10:00:30 GMT", answered) == 30.0
    assert _retry_after_seconds("7", answered) == 7.0
    assert _retry_after_seconds("Mon, 03 Sep 2001 10:00:30 GMT", None) is None  # backoff then


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


def test_unknown_options_are_refused() -> None:
    system = replace(_system(), options={"token_env": TOKEN_ENV, "pagesize": 10})
    with pytest.raises(ValueError, match="unknown options \\['pagesize'\\]"):
        list(read_collection(system, READINGS, "http://127.0.0.1:9/api", None))


def test_secrets_never_reach_messages() -> None:
    shown = public_url("https://reader:pa55@stat.example.gov.tm/api/v1/x?token=abc&page=2")
    assert "pa55" not in shown
    assert "abc" not in shown
    assert "page=2" in shown
