"""The records a simulated statistics API serves: the JSON state file a sector simulator writes
and the server re-reads, and how the API writes and compares its moments.

A sector simulator brings its system to a moment with ``publish_state``, which merges each
record's state at that moment into the file (a correction keeps its id and gets a later
``updated_at``); the server reads the file through ``StateFile``, so bringing a system forward
while the server runs is visible to the next request.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maglumat.settings import MaglumatPaths

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Collection:
    """One endpoint, ``<API_PREFIX>/<name>``: its records' id field and cursor field."""

    name: str
    id_field: str
    cursor_field: str | None = "updated_at"


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
