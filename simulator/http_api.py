"""A simulated ministry statistics API: JSON over HTTP on 127.0.0.1, shared by the transport and
telecommunications systems.

It behaves like the web services the state operators expose: every collection is read page by
page behind a bearer token, ``updated_since`` returns only records entered or corrected after a
moment (a correction keeps its id and gets a later ``updated_at``), and records come in a stable
order (``updated_at``, then id) so that keyset paging never skips or repeats a record while the
data changes. Two paging styles are served, as real APIs differ:

* ``links.next`` (keyset): an opaque ``cursor`` naming the last record served; the default.
* ``page`` / ``page_size`` (offset): for clients that count pages.

For tests the server fails on purpose (``inject``): 429 with ``Retry-After``, any 5xx, answers
slower than the client's timeout, invalid JSON, a dropped connection. It records every request
(collection, page, status) so a test can see what a client asked for and how often.

The records come from a JSON state file written by the sector simulators (``write_state``) and
re-read when it changes, so bringing a system forward in time while the server runs is visible
to the next request, as with a real system.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

from maglumat.settings import MaglumatPaths

API_PREFIX = "/api/v1"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

Record = Mapping[str, Any]
Records = Callable[[], Mapping[str, Sequence[Record]]]
FaultKind = Literal["status", "slow", "invalid_json", "drop"]


@dataclass(frozen=True)
class Collection:
    """One endpoint, ``<API_PREFIX>/<name>``: its records' id field and cursor field."""

    name: str
    id_field: str
    cursor_field: str | None = "updated_at"


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


def parse_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp; one without a zone is UTC."""
    value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def api_timestamp(value: dt.datetime) -> str:
    """How the API writes instants: ISO 8601 with an explicit UTC offset."""
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def latest_versions(records: Sequence[Any], key: str, as_of: dt.datetime) -> list[Any]:
    """What an API serves at ``as_of`` from every version of its records (objects with
    ``updated_at`` and the id attribute ``key``): each record's latest version entered by then."""
    current: dict[Any, Any] = {}
    for record in records:
        entered = parse_timestamp(record.updated_at)
        if entered <= as_of:
            known = current.get(getattr(record, key))
            if known is None or entered >= parse_timestamp(known.updated_at):
                current[getattr(record, key)] = record
    return sorted(current.values(), key=lambda record: getattr(record, key))


def _encode_cursor(page: int, record: Record, collection: Collection) -> str:
    position = {"page": page, "id": record[collection.id_field]}
    if collection.cursor_field:
        position["after"] = record[collection.cursor_field]
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> dict[str, Any]:
    padded = token + "=" * (-len(token) % 4)
    position = json.loads(base64.urlsafe_b64decode(padded.encode()))
    if not isinstance(position, dict) or "page" not in position or "id" not in position:
        raise ValueError("not a cursor of this API")
    return position


class StateFile:
    """Records of every collection from the JSON state file a simulator writes, re-read when
    the file changes (it is replaced atomically, so a reader never sees half of it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._signature: tuple[int, int] | None = None
        self._tables: dict[str, list[dict[str, Any]]] = {}

    def __call__(self) -> Mapping[str, Sequence[Record]]:
        with self._lock:
            status = self.path.stat()
            signature = (status.st_mtime_ns, status.st_size)
            if signature != self._signature:
                document = json.loads(self.path.read_text(encoding="utf-8"))
                self._tables = document["tables"]
                self._signature = signature
            return self._tables


def read_state(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The records a state file holds, by collection (empty when there is no file yet)."""
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["tables"]


def write_state(
    path: Path,
    tables: Mapping[str, Sequence[Record]],
    id_fields: Mapping[str, str],
    *,
    as_of: dt.datetime,
    cursor_field: str = "updated_at",
) -> dict[str, int]:
    """Merge ``tables`` (each record's state at ``as_of``) into the state file at ``path``.

    A record is new when its id is not there yet and changed when it comes with a later
    ``cursor_field`` (a correction); records the file has that ``tables`` lacks, or has in a
    later version, stay: a system never forgets what it has entered. Returns how many records
    were added or corrected per collection.
    """
    current = read_state(path)
    merged: dict[str, list[dict[str, Any]]] = {}
    added: dict[str, int] = {}
    for name in sorted(set(current) | set(tables)):
        id_field = id_fields[name]
        by_id = {record[id_field]: dict(record) for record in current.get(name, [])}
        count = 0
        for record in tables.get(name, []):
            known = by_id.get(record[id_field])
            if known is None or _is_later(record, known, cursor_field):
                by_id[record[id_field]] = dict(record)
                count += 1
        merged[name] = [by_id[key] for key in sorted(by_id)]
        added[name] = count
    previous_as_of = _previous_as_of(path)
    moment = max(as_of, previous_as_of) if previous_as_of else as_of
    document = {"as_of": moment.isoformat(), "tables": merged}
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    scratch.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(scratch, path)  # atomic: the server reads the old or the new state, never half
    return added


def _is_later(record: Record, known: Record, cursor_field: str) -> bool:
    if cursor_field not in record or cursor_field not in known:
        return record != known
    return parse_timestamp(str(record[cursor_field])) > parse_timestamp(str(known[cursor_field]))


def _previous_as_of(path: Path) -> dt.datetime | None:
    if not path.exists():
        return None
    text = json.loads(path.read_text(encoding="utf-8")).get("as_of")
    return parse_timestamp(text) if text else None


class _ApiError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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

    def _page(self, collection: Collection, query: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """The page the query asks for, and the response document."""
        try:
            page_size = int(query.get("page_size", DEFAULT_PAGE_SIZE))
        except ValueError as error:
            raise _ApiError(HTTPStatus.BAD_REQUEST, "page_size must be an integer") from error
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise _ApiError(HTTPStatus.BAD_REQUEST, f"page_size must be 1 to {MAX_PAGE_SIZE}")
        since_text = query.get("updated_since")
        records = list(self.records().get(collection.name, []))
        cursor = collection.cursor_field
        if cursor:
            if since_text:
                try:
                    since = parse_timestamp(since_text)
                except ValueError as error:
                    raise _ApiError(
                        HTTPStatus.BAD_REQUEST, "updated_since must be an ISO 8601 timestamp"
                    ) from error
                records = [r for r in records if parse_timestamp(str(r[cursor])) > since]
            records.sort(key=lambda r: (parse_timestamp(str(r[cursor])), r[collection.id_field]))
        else:
            records.sort(key=lambda r: r[collection.id_field])
        if "cursor" in query:
            try:
                position = _decode_cursor(query["cursor"])
            except (ValueError, binascii.Error) as error:
                raise _ApiError(HTTPStatus.BAD_REQUEST, "cursor is not valid") from error
            page = int(position["page"]) + 1
            last = (
                (parse_timestamp(str(position["after"])), position["id"])
                if cursor
                else position["id"]
            )
            records = [
                r
                for r in records
                if (
                    (parse_timestamp(str(r[cursor])), r[collection.id_field])
                    if cursor
                    else r[collection.id_field]
                )
                > last
            ]
            start = 0
        else:
            try:
                page = int(query.get("page", 1))
            except ValueError as error:
                raise _ApiError(HTTPStatus.BAD_REQUEST, "page must be an integer") from error
            if page < 1:
                raise _ApiError(HTTPStatus.BAD_REQUEST, "page must be 1 or more")
            start = (page - 1) * page_size
        data = records[start : start + page_size]
        remaining = len(records) - start - len(data)
        links: dict[str, str | None] = {"next": None}
        if data and remaining > 0:
            parameters = {"page_size": str(page_size)}
            if since_text:
                parameters["updated_since"] = since_text
            parameters["cursor"] = _encode_cursor(page, data[-1], collection)
            links["next"] = f"{API_PREFIX}/{collection.name}?{urlencode(parameters)}"
        document = {
            "data": data,
            "meta": {"page": page, "page_size": page_size, "remaining": max(remaining, 0)},
            "links": links,
        }
        return page, document

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
                page_hint = _page_hint(query)
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
                    page, document = server._page(collection, query)
                except _ApiError as error:
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


def _page_hint(query: Mapping[str, str]) -> int | None:
    """The page a request asks for, read before it is validated (for the request log)."""
    if "cursor" in query:
        try:
            return int(_decode_cursor(query["cursor"])["page"]) + 1
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
    try:
        return int(query.get("page", 1))
    except ValueError:
        return None


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


def state_path(paths: MaglumatPaths, system: str) -> Path:
    """The file a simulated system's API serves from."""
    return paths.systems / system / "api_state.json"


def publish_state(
    paths: MaglumatPaths,
    system: str,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    collections: Sequence[Collection],
    as_of: dt.datetime,
) -> dict[str, int]:
    """Bring a simulated system's API to ``tables``; returns records added or corrected per
    collection (a later ``as_of`` adds only what was entered in between)."""
    return write_state(
        state_path(paths, system),
        tables,
        {collection.name: collection.id_field for collection in collections},
        as_of=as_of,
    )


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
