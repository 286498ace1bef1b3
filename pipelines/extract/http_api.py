"""The generic HTTP API extractor (kind ``http_api``): reads a JSON collection page by page.

The system's connection string is the API's base URL (``connection.env`` in the catalogue); the
bearer token comes from the environment variable named by the system's ``token_env`` option and
goes only into the ``Authorization`` header, never into a URL, a message or a log line.

Options (on the system, overridable per table; ``endpoint`` per table, default its name):

=====================  ==============  ====================================================
option                 default         meaning
=====================  ==============  ====================================================
``token_env``          (none)          environment variable holding the bearer token
``endpoint``           table name      path of the collection under the base URL
``paging``             ``next_link``   ``next_link`` (follow the link the API gives) or
                                       ``page_number`` (count ``page`` = 1, 2, ...)
``page_size``          500             records asked for per page
``page_param``         ``page``        page number parameter (``page_number`` paging)
``page_size_param``    ``page_size``   page size parameter
``since_param``        ``updated_since``  incremental tables: the high-water mark goes here
``records_field``      ``data``        where the records are in a page (dotted path)
``next_field``         ``links.next``  where the next page's link is (dotted path)
``timeout_seconds``    30              per request; a slower answer is retried
``max_attempts``       5               per page, the first attempt included
``backoff_seconds``    1               first wait; it doubles with each retry
``max_backoff_seconds``  60            longest wait, ``Retry-After`` included
``max_pages``          10000           pages read in one extraction before it stops as runaway
=====================  ==============  ====================================================

Incremental tables send the high-water mark (the latest landed ``cursor`` value) as the since
parameter, so the API returns only records entered or corrected after it. Answers 429 and 5xx,
timeouts and dropped connections are retried with exponential backoff (or the server's
``Retry-After``) a bounded number of times, and paging resumes at the page that failed. When a
page still fails, the pages already read of an incremental table are landed first (they are in
cursor order, so the next run resumes after them) and then the error is raised, naming the
system, the URL and the page.

Paging that does not end is an error, not a hang: a ``next`` link already followed, a page that
repeats the previous page's records, or more than ``max_pages`` pages ends the extraction with
a ``PagingLoopError`` naming the page; nothing of that extraction is landed (its records are
suspect), and the other systems run on.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import itertools
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import polars as pl

from pipelines.extract import Extract, ExtractRequest, kind_options

if TYPE_CHECKING:
    from maglumat.catalogue import SourceSystem, SourceTable

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
SECRET_PARAMETERS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "password", "secret", "signature"}
)
USER_AGENT = "Maglumat/0.1 (+data warehouse extract)"


class HttpApiError(RuntimeError):
    """A collection could not be read; the message names the system, the URL and the page."""

    def __init__(self, system: str, url: str, page: int, problem: str) -> None:
        self.system = system
        self.url = url
        self.page = page
        self.problem = problem
        super().__init__(f"{system}: {problem} (GET {url}, page {page})")


class PagingLoopError(HttpApiError):
    """The API's paging does not end: a link repeats, a page repeats, or pages run past the cap."""


@dataclass(frozen=True)
class ApiSettings:
    """How one table of an API system is read (the catalogue's options, with defaults)."""

    endpoint: str
    token_env: str | None = None
    paging: Literal["next_link", "page_number"] = "next_link"
    page_size: int = 500
    page_param: str = "page"
    page_size_param: str = "page_size"
    since_param: str = "updated_since"
    records_field: str = "data"
    next_field: str = "links.next"
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    max_pages: int = 10_000

    @classmethod
    def of(cls, system: SourceSystem, table: SourceTable) -> ApiSettings:
        """System options, then the table's on top; unknown names are an error, not ignored."""
        known = frozenset(field.name for field in fields(cls))
        options: dict[str, Any] = {"endpoint": table.name, **kind_options(system, table, known)}
        settings = cls(
            endpoint=str(options["endpoint"]),
            token_env=str(options["token_env"]) if options.get("token_env") else None,
            paging=options.get("paging", "next_link"),
            page_size=int(options.get("page_size", 500)),
            page_param=str(options.get("page_param", "page")),
            page_size_param=str(options.get("page_size_param", "page_size")),
            since_param=str(options.get("since_param", "updated_since")),
            records_field=str(options.get("records_field", "data")),
            next_field=str(options.get("next_field", "links.next")),
            timeout_seconds=float(options.get("timeout_seconds", 30.0)),
            max_attempts=int(options.get("max_attempts", 5)),
            backoff_seconds=float(options.get("backoff_seconds", 1.0)),
            max_backoff_seconds=float(options.get("max_backoff_seconds", 60.0)),
            max_pages=int(options.get("max_pages", 10_000)),
        )
        if settings.paging not in ("next_link", "page_number"):
            raise ValueError(
                f"{system.name}.{table.name}: paging must be next_link or page_number, "
                f"not {settings.paging!r}"
            )
        if settings.page_size < 1 or settings.max_attempts < 1:
            raise ValueError(f"{system.name}.{table.name}: page_size and max_attempts must be >= 1")
        return settings


def public_url(url: str) -> str:
    """``url`` fit for messages and logs: no password, no secret-looking query parameters."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@")
    query = [
        (name, "***" if name.lower() in SECRET_PARAMETERS else value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return parts._replace(netloc=netloc, query=urlencode(query, safe="*:")).geturl()


def _dig(document: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path of a JSON document, and whether the path exists."""
    value = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _http_date(text: str | None) -> dt.datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(text or "")
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _retry_after_seconds(header: str | None, answered: str | None) -> float | None:
    """``Retry-After`` as seconds to wait: a number of seconds, or an HTTP date counted from
    the answer's own ``Date`` (the server's clock against itself; None without one)."""
    if not header:
        return None
    text = header.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    moment, sent = _http_date(text), _http_date(answered)
    if moment is None or sent is None:
        return None
    return max(0.0, (moment - sent).total_seconds())


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, TimeoutError) or "timed out" in str(error)


class _Client:
    """GET with a bearer token and bounded retries; one instance per extract."""

    def __init__(self, system: str, base_url: str, token: str | None, settings: ApiSettings):
        self.system = system
        self.base_url = base_url.rstrip("/") + "/"
        self.token = token
        self.settings = settings

    def url(self, reference: str, page: int) -> str:
        """An absolute URL for an endpoint path or a next link, on the API's own origin."""
        url = urljoin(self.base_url, reference)
        origin, base = urlsplit(url), urlsplit(self.base_url)
        if (origin.scheme, origin.netloc) != (base.scheme, base.netloc):
            # The token must never travel to another host, whatever a response says.
            raise HttpApiError(
                self.system,
                public_url(url),
                page,
                f"refusing to follow a link away from {public_url(self.base_url)}",
            )
        return url

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        settings = self.settings
        if retry_after is not None:
            return min(retry_after, settings.max_backoff_seconds)
        return min(settings.backoff_seconds * 2 ** (attempt - 1), settings.max_backoff_seconds)

    def get_json(self, url: str, page: int) -> Any:
        """The decoded JSON answer of ``url``; retried on 429, 5xx, timeouts and dropped
        connections; every other failure raises ``HttpApiError`` at once."""
        settings = self.settings
        shown = public_url(url)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            request = urllib.request.Request(url, headers=headers, method="GET")
            try:
                with urllib.request.urlopen(request, timeout=settings.timeout_seconds) as answer:
                    body = answer.read()
            except urllib.error.HTTPError as error:
                status = error.code
                detail = error.read(300).decode("utf-8", "replace").strip()
                retry_after = _retry_after_seconds(
                    error.headers.get("Retry-After"), error.headers.get("Date")
                )
                error.close()
                if status in (401, 403):
                    hint = (
                        f"check the token in {settings.token_env}"
                        if settings.token_env
                        else "the API wants a token: set the system's token_env option"
                    )
                    raise HttpApiError(
                        self.system, shown, page, f"access refused (HTTP {status}): {hint}"
                    ) from None
                if status not in RETRY_STATUSES:
                    raise HttpApiError(
                        self.system, shown, page, f"HTTP {status}: {detail[:200]}"
                    ) from None
                reason = f"HTTP {status}"
            except urllib.error.URLError as error:
                if isinstance(error.reason, ConnectionRefusedError):
                    raise HttpApiError(
                        self.system, shown, page, "connection refused: is the API up at this URL?"
                    ) from None
                if not _is_timeout(error.reason) and not isinstance(
                    error.reason, ConnectionResetError
                ):
                    raise HttpApiError(
                        self.system, shown, page, f"cannot connect: {error.reason}"
                    ) from None
                reason = f"no answer within {settings.timeout_seconds:g} s"
                if isinstance(error.reason, ConnectionResetError):
                    reason = "connection reset"
            except TimeoutError:
                reason = f"no answer within {settings.timeout_seconds:g} s"
            except (http.client.RemoteDisconnected, http.client.IncompleteRead, ConnectionError):
                reason = "connection dropped before the answer was complete"
            else:
                try:
                    return json.loads(body)
                except (UnicodeDecodeError, json.JSONDecodeError) as error:
                    raise HttpApiError(
                        self.system, shown, page, f"the answer is not valid JSON ({error})"
                    ) from None
            if attempt >= settings.max_attempts:
                raise HttpApiError(
                    self.system, shown, page, f"gave up after {attempt} attempts, last: {reason}"
                )
            wait = self._wait(attempt, retry_after)
            logger.warning(
                "%s: %s on page %d of GET %s; attempt %d of %d in %.2f s",
                self.system,
                reason,
                page,
                shown,
                attempt + 1,
                settings.max_attempts,
                wait,
            )
            time.sleep(wait)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Cursor values compare as instants when they are timestamps (a naive one is UTC), as
    numbers when they are numbers, else as text; the first item keeps the kinds apart."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value)
    text = str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return (2, text)
    return (0, moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))


def _cursor_to(records: Sequence[Mapping[str, Any]], cursor: str) -> str | None:
    values = [record[cursor] for record in records if record.get(cursor) is not None]
    if not values:
        return None
    return str(max(values, key=_sort_key))


def _committable(records: list[dict[str, Any]], cursor: str) -> list[dict[str, Any]]:
    """The prefix of a partly read collection that can be landed without losing a record.

    Only if the API served the records in cursor order; the last cursor value is dropped,
    because records sharing it may continue on the page that failed.
    """
    if not records or any(record.get(cursor) is None for record in records):
        return []
    keys = [_sort_key(record[cursor]) for record in records]
    if any(later < earlier for earlier, later in itertools.pairwise(keys)):
        return []
    last = keys[-1]
    return [record for record, key in zip(records, keys, strict=True) if key < last]


def _frame(records: list[dict[str, Any]]) -> pl.DataFrame:
    # Values stay as the API sent them; a column of mixed types stays text for the gate to judge.
    return pl.DataFrame(records, infer_schema_length=None, strict=False)


def read_collection(
    system: SourceSystem,
    table: SourceTable,
    base_url: str,
    since: str | None,
) -> Iterator[list[dict[str, Any]]]:
    """The records of one collection, one list per page, ``since`` a cursor value or None."""
    settings = ApiSettings.of(system, table)
    token = None
    if settings.token_env:
        token = os.environ.get(settings.token_env)
        if not token:
            raise HttpApiError(
                system.name,
                public_url(base_url),
                1,
                f"no bearer token: set the environment variable {settings.token_env}",
            )
    client = _Client(system.name, base_url, token, settings)
    parameters = {settings.page_size_param: str(settings.page_size)}
    if since is not None:
        parameters[settings.since_param] = since
    page = 1
    first = client.url(settings.endpoint.lstrip("/"), page)
    if settings.paging == "page_number":
        url = f"{first}?{urlencode({**parameters, settings.page_param: str(page)})}"
    else:
        url = f"{first}?{urlencode(parameters)}"
    followed = {url}
    previous: list[Any] | None = None
    while True:
        if page > settings.max_pages:
            raise PagingLoopError(
                system.name,
                public_url(url),
                page,
                f"more than {settings.max_pages} pages (max_pages): the paging does not end",
            )
        document = client.get_json(url, page)
        found, records = _dig(document, settings.records_field)
        if not found or not isinstance(records, list):
            raise HttpApiError(
                system.name,
                public_url(url),
                page,
                f"the answer has no list of records at {settings.records_field!r}",
            )
        if any(not isinstance(record, Mapping) for record in records):
            raise HttpApiError(
                system.name, public_url(url), page, "the records are not JSON objects"
            )
        if records and records == previous:
            raise PagingLoopError(
                system.name,
                public_url(url),
                page,
                f"page {page} repeats the records of page {page - 1}: the paging does not end",
            )
        previous = records
        yield [dict(record) for record in records]
        if not records:
            return
        if settings.paging == "page_number":
            if len(records) < settings.page_size:
                return
            page += 1
            url = f"{first}?{urlencode({**parameters, settings.page_param: str(page)})}"
            continue
        _, next_link = _dig(document, settings.next_field)
        if not next_link:
            return
        page += 1
        url = client.url(str(next_link), page)
        if url in followed:
            raise PagingLoopError(
                system.name,
                public_url(url),
                page,
                f"the next link of page {page - 1} was followed before: the paging does not end",
            )
        followed.add(url)


def check_options(system: SourceSystem, table: SourceTable) -> None:
    """Raise when a table's options (over its system's) are not ones this reads."""
    ApiSettings.of(system, table)


def extract(request: ExtractRequest) -> Iterator[Extract]:
    """Every record of the table's collection past the high-water mark, as one batch."""
    table = request.table
    incremental = table.mode == "incremental" and table.cursor is not None
    since = request.high_water_mark if incremental else None
    records: list[dict[str, Any]] = []
    try:
        for page in read_collection(request.system, table, request.connection, since):
            records.extend(page)
    except PagingLoopError:
        raise  # the records read are suspect (repeated): nothing of this extraction is landed
    except HttpApiError as error:
        partial = _committable(records, table.cursor) if incremental and table.cursor else []
        if partial:
            logger.warning(
                "%s.%s: landing the %d records read before page %d failed; the next run "
                "resumes after them",
                request.system.name,
                table.name,
                len(partial),
                error.page,
            )
            yield Extract(
                frame=_frame(partial),
                cursor_from=since,
                cursor_to=_cursor_to(partial, table.cursor),
            )
        raise
    cursor_to = _cursor_to(records, table.cursor) if incremental and table.cursor else None
    yield Extract(frame=_frame(records), cursor_from=since, cursor_to=cursor_to)
