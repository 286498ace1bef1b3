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
import itertools
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import polars as pl

from pipelines.extract import Extract, ExtractRequest
from pipelines.extract.http_api_settings import ApiSettings
from pipelines.extract.http_client import ApiClient, HttpApiError, public_url

if TYPE_CHECKING:
    from maglumat.catalogue import SourceSystem, SourceTable

logger = logging.getLogger(__name__)


class PagingLoopError(HttpApiError):
    """The API's paging does not end: a link repeats, a page repeats, or pages run past the cap."""


def _dig(document: Any, path: str) -> tuple[bool, Any]:
    """The value at a dotted path of a JSON document, and whether the path exists."""
    value = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


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
    client = ApiClient(system.name, base_url, token, settings)
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
