"""A simulated ministry statistics API: JSON over HTTP on 127.0.0.1, shared by the transport and
telecommunications systems.

It behaves like the web services the state operators expose: every collection is read page by
page behind a bearer token, ``updated_since`` returns only records entered or corrected after a
moment (a correction keeps its id and gets a later ``updated_at``), and records come in a stable
order (``updated_at``, then id) so that keyset paging never skips or repeats a record while the
data changes. Two paging styles are served, as real APIs differ (``simulator.api_paging``):

* ``links.next`` (keyset): an opaque ``cursor`` naming the last record served; the default.
* ``page`` / ``page_size`` (offset): for clients that count pages.

For tests the server fails on purpose (``inject``): 429 with ``Retry-After``, any 5xx, answers
slower than the client's timeout, invalid JSON, a dropped connection. It records every request
(collection, page, status) so a test can see what a client asked for and how often.

The records come from a JSON state file written by the sector simulators
(``simulator.api_state``) and re-read when it changes, so bringing a system forward in time while
the server runs is visible to the next request, as with a real system.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from maglumat.settings import MaglumatPaths
from simulator.api_paging import API_PREFIX, ApiError, Records, page_of, requested_page
from simulator.api_state import Collection, StateFile, state_path

FaultKind = Literal["status", "slow", "invalid_json", "drop"]


@dataclass
class Fault:
    """A failure the server answers with, ``times`` times, to matching requests.

    ``collection`` and ``page`` narrow the requests it applies to (None: any). Kinds:
    ``status`` answers ``status`` (with ``Retry-After: retry_after`` if given); ``slow`` waits
    ``delay_seconds`` and then answers normally; ``invalid_json`` answers 200 with a truncated
    body; ``drop`` closes the connection without an answer.
    """

    kind: FaultKind
    collection: str | None = None
    page: int | None = None
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    delay_seconds: float = 0.0

    def matches(self, collection: str, page: int) -> bool:
        return (
            self.times > 0 and self.collection in (None, collection) and self.page in (None, page)
        )


@dataclass(frozen=True)
class ServedRequest:
    """What the server saw and answered, for tests to count retries and pages."""

    collection: str
    page: int | None
    status: int
    since: str | None
    fault: FaultKind | None
    authorised: bool


class ApiServer:
    """The HTTP server, in a background thread, for the duration of a ``with`` block.

    Args:
        collections: The endpoints served.
        records: Returns the current records by collection name (e.g. a ``StateFile``).
        token: The bearer token every request must carry.
        port: 0 picks a free port.
    """

    def __init__(
        self,
        collections: Sequence[Collection],
        records: Records,
        token: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.collections = {collection.name: collection for collection in collections}
        self.records = records
        self.token = token
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._served: list[ServedRequest] = []
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the API (what the catalogue's connection variable holds)."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{API_PREFIX}"

    def start(self) -> ApiServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"simulated-api-{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; from now on connections to the port are refused."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def served(
        self, collection: str | None = None, page: int | None = None, status: int | None = None
    ) -> list[ServedRequest]:
        """Requests answered so far, oldest first, optionally only those matching."""
        with self._lock:
            return [
                request
                for request in self._served
                if collection in (None, request.collection)
                and page in (None, request.page)
                and status in (None, request.status)
            ]

    def pages_served(self, collection: str) -> list[int | None]:
        """Page numbers of the requests for ``collection``, in order, failures included."""
        return [request.page for request in self.served(collection)]

    def _take_fault(self, collection: str, page: int) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(collection, page):
                    fault.times -= 1
                    return fault
        return None

    def _record(self, request: ServedRequest) -> None:
        with self._lock:
            self._served.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "MaglumatSimulatedApi/1.0"

            def log_message(self, *args: Any) -> None:
                pass  # the request log is server.served(); stderr stays quiet in tests

            def _send(
                self, status: int, body: bytes, headers: Mapping[str, str] | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a slow answer); nothing to do

            def _error(
                self, status: int, message: str, headers: Mapping[str, str] | None = None
            ) -> None:
                body = json.dumps({"error": {"status": status, "message": message}}).encode()
                self._send(status, body, headers)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                name = parts.path.removeprefix(f"{API_PREFIX}/").strip("/")
                if parts.path == f"{API_PREFIX}/health":
                    self._send(HTTPStatus.OK, b'{"status": "ok"}')
                    return
                collection = server.collections.get(name)
                if not parts.path.startswith(f"{API_PREFIX}/") or collection is None:
                    self._error(HTTPStatus.NOT_FOUND, f"no collection at {parts.path}")
                    return
                page_hint = requested_page(query)
                since = query.get("updated_since")
                header = self.headers.get("Authorization", "")
                scheme, _, presented = header.partition(" ")
                authorised = scheme.lower() == "bearer" and secrets.compare_digest(
                    presented.strip().encode(), server.token.encode()
                )
                if not authorised:
                    server._record(
                        ServedRequest(name, page_hint, 401, since, None, authorised=False)
                    )
                    self._error(
                        HTTPStatus.UNAUTHORIZED,
                        "a valid bearer token is required",
                        {"WWW-Authenticate": 'Bearer realm="statistics"'},
                    )
                    return
                fault = server._take_fault(name, page_hint or 1)
                if fault is not None and fault.kind == "slow":
                    # Logged on arrival: the client has given up long before the answer goes.
                    server._record(ServedRequest(name, page_hint, 200, since, "slow", True))
                    time.sleep(fault.delay_seconds)
                if fault is not None and fault.kind == "drop":
                    server._record(ServedRequest(name, page_hint, 0, since, "drop", True))
                    self.close_connection = True
                    return
                if fault is not None and fault.kind == "status":
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    server._record(
                        ServedRequest(name, page_hint, fault.status, since, "status", True)
                    )
                    self._error(fault.status, f"simulated failure {fault.status}", headers)
                    return
                try:
                    page, document = page_of(collection, server.records, query)
                except ApiError as error:
                    server._record(ServedRequest(name, page_hint, error.status, since, None, True))
                    self._error(error.status, error.message)
                    return
                body = json.dumps(document, ensure_ascii=False).encode("utf-8")
                if fault is not None and fault.kind == "invalid_json":
                    body = body[: max(1, len(body) // 2)]  # cut off mid-document
                if fault is None or fault.kind != "slow":
                    kind = fault.kind if fault is not None else None
                    server._record(ServedRequest(name, page, 200, since, kind, True))
                self._send(HTTPStatus.OK, body)

        return Handler


@contextmanager
def serve_state_file(
    state_file: Path,
    collections: Sequence[Collection],
    *,
    url_env: str,
    token_env: str,
) -> Iterator[ApiServer]:
    """Serve ``state_file`` on a free port of 127.0.0.1 with a fresh token, and name both in
    ``os.environ`` (``url_env``, ``token_env``) for the duration; the previous values (or their
    absence) are restored afterwards."""
    token = secrets.token_urlsafe(24)
    saved = {name: os.environ.get(name) for name in (url_env, token_env)}
    with ApiServer(collections, StateFile(state_file), token) as server:
        os.environ[url_env] = server.url
        os.environ[token_env] = token
        try:
            yield server
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextmanager
def serve_system(
    paths: MaglumatPaths, system_name: str, collections: Sequence[Collection]
) -> Iterator[ApiServer]:
    """Serve a simulated system's API on a free port of 127.0.0.1 for the duration, with the
    catalogue's URL and token variables set in ``os.environ`` (and restored afterwards)."""
    from maglumat.catalogue import load_catalogue

    system = next(s for s in load_catalogue() if s.name == system_name)
    with serve_state_file(
        state_path(paths, system_name),
        collections,
        url_env=system.connection_env,
        token_env=str(system.options["token_env"]),
    ) as server:
        yield server
