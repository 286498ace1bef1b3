"""Open a DB-API connection from a connection string (sqlite, postgresql, mysql/mariadb)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit


class SourceUnreachableError(ConnectionError):
    """The sector system refused or dropped the connection."""


class DbapiConnection(Protocol):
    def cursor(self) -> Any: ...
    def commit(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class Dialect:
    name: str
    placeholder: str
    quote: str

    def quote_identifier(self, identifier: str) -> str:
        return f"{self.quote}{identifier}{self.quote}"


DIALECTS = {
    "sqlite": Dialect("sqlite", "?", '"'),
    "postgresql": Dialect("postgresql", "%s", '"'),
    "mysql": Dialect("mysql", "%s", "`"),
}


def dialect_of(dsn: str) -> Dialect:
    scheme = urlsplit(dsn).scheme.split("+")[0]
    scheme = {"postgres": "postgresql", "mariadb": "mysql"}.get(scheme, scheme)
    if scheme not in DIALECTS:
        raise ValueError(f"unsupported connection scheme {scheme!r}: use sqlite, postgresql, mysql")
    return DIALECTS[scheme]


def redact(dsn: str) -> str:
    """The connection string without its password, for logs and manifests."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


def connect(dsn: str, *, writable: bool = True) -> tuple[DbapiConnection, Dialect]:
    """Connect to the database a connection string names.

    With ``writable=False`` an SQLite file is opened read-only and never created: a missing file
    is an unreachable system, not a new empty one.
    """
    dialect = dialect_of(dsn)
    parts = urlsplit(dsn)
    try:
        if dialect.name == "sqlite":
            path = unquote(parts.path)
            if parts.netloc:  # sqlite://relative/path
                path = parts.netloc + path
            if writable:
                return sqlite3.connect(path, timeout=30), dialect
            if path.startswith("//"):  # sqlite:////abs/path leaves //abs/path
                path = "/" + path.lstrip("/")
            uri = f"file:{quote(path)}?mode=ro"
            return sqlite3.connect(uri, uri=True, timeout=30), dialect
        if dialect.name == "postgresql":
            import psycopg

            return psycopg.connect(
                dsn.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=10
            ), dialect
        import pymysql

        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        return (
            pymysql.connect(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 3306,
                user=unquote(parts.username or "root"),
                password=unquote(parts.password or ""),
                database=parts.path.lstrip("/") or None,
                charset=query.get("charset", "utf8mb4"),
                connect_timeout=10,
            ),
            dialect,
        )
    except sqlite3.Error as error:
        raise SourceUnreachableError(f"{redact(dsn)}: {error}") from error
    except Exception as error:
        if type(error).__module__.split(".")[0] in {"psycopg", "pymysql"}:
            raise SourceUnreachableError(f"{redact(dsn)}: {error}") from error
        raise
