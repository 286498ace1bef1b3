"""How a simulated statistics API pages a collection: keyset cursors (``links.next``), offset
pages (``page`` / ``page_size``) and ``updated_since``, in a stable order (``updated_at``, then
id) so that keyset paging never skips or repeats a record while the data changes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from simulator.api_state import Collection, Record, parse_timestamp

API_PREFIX = "/api/v1"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

Records = Callable[[], Mapping[str, Sequence[Record]]]


class ApiError(Exception):
    """A request the API refuses, with the status it answers."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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


def page_of(
    collection: Collection, records_of: Records, query: Mapping[str, str]
) -> tuple[int, dict[str, Any]]:
    """The page the query asks for, and the response document."""
    try:
        page_size = int(query.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError as error:
        raise ApiError(HTTPStatus.BAD_REQUEST, "page_size must be an integer") from error
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"page_size must be 1 to {MAX_PAGE_SIZE}")
    since_text = query.get("updated_since")
    records = list(records_of().get(collection.name, []))
    cursor = collection.cursor_field
    if cursor:
        if since_text:
            try:
                since = parse_timestamp(since_text)
            except ValueError as error:
                raise ApiError(
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
            raise ApiError(HTTPStatus.BAD_REQUEST, "cursor is not valid") from error
        page = int(position["page"]) + 1
        last = (
            (parse_timestamp(str(position["after"])), position["id"]) if cursor else position["id"]
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
            raise ApiError(HTTPStatus.BAD_REQUEST, "page must be an integer") from error
        if page < 1:
            raise ApiError(HTTPStatus.BAD_REQUEST, "page must be 1 or more")
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


def requested_page(query: Mapping[str, str]) -> int | None:
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
