"""Connections to the warehouse, and the lock that keeps its writers in single file.

DuckDB allows one writing process per file, and a reader blocks a writer. So every writer (raw
loads, dbt, publishing) takes the writer lock first, and readers never open the warehouse at
all: they read the published snapshot. Someone who opens the pipeline's file anyway (a DuckDB
shell, a notebook) makes a writer wait, a bounded time (``MAGLUMAT_WAREHOUSE_WAIT_SECONDS``,
default 120), then fail with a message that names the process holding the file and points to
the snapshot.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb


class WarehouseBusyError(TimeoutError):
    """Another writer held the warehouse for longer than we were willing to wait."""


@contextmanager
def writer_lock(warehouse: Path, timeout_seconds: float = 600.0) -> Iterator[None]:
    """Hold the warehouse's writer lock (an advisory lock on a file beside it)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse.with_name(warehouse.name + ".lock")
    deadline = time.monotonic() + timeout_seconds
    with lock_path.open("a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as error:
                if time.monotonic() > deadline:
                    raise WarehouseBusyError(f"{warehouse} is locked by another writer") from error
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def write_connection(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection, under the writer lock."""
    with writer_lock(warehouse), connection_under_lock(warehouse) as connection:
        yield connection


WAIT_ENV = "MAGLUMAT_WAREHOUSE_WAIT_SECONDS"
_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _connect_waiting(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open ``warehouse`` read-write, waiting (bounded) while another process has it open."""
    wait = float(os.environ.get(WAIT_ENV) or 120)
    deadline = time.monotonic() + wait
    pause = 0.1
    while True:
        try:
            return duckdb.connect(str(warehouse))
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                holder = _HOLDER.search(str(error))
                who = f"{holder.group(1)} (PID {holder.group(2)})" if holder else "another process"
                snapshot = warehouse.parent.parent / "snapshots" / "current" / warehouse.name
                raise WarehouseBusyError(
                    f"{warehouse} is open in {who}, so the pipeline cannot write it (waited "
                    f"{wait:g} s, {WAIT_ENV}); readers must open the published snapshot, "
                    f"{snapshot}, never the pipeline's file: close it and run again"
                ) from error
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


@contextmanager
def connection_under_lock(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection for a caller that already holds the writer lock."""
    connection = _connect_waiting(warehouse)
    try:
        yield connection
    finally:
        connection.close()


def read_only_connection(database: Path) -> duckdb.DuckDBPyConnection:
    """A connection that can read ``database`` and nothing else: no writes, no files, no network."""
    # Locked at open (not by a later SET): a second connection to the same file in this process
    # shares the database instance, and must ask for exactly the configuration it already has.
    return duckdb.connect(
        str(database),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "lock_configuration": True,
        },
    )
