"""The serving database's vocabulary: names, the policy, roles, tables, a publication's account."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from psycopg import sql

SERVED_SCHEMAS = ("marts", "indicators")
SERVING_SCHEMA = "serving"
# Swapped together; the publication record first, the schema readers pin a version with.
SWAPPED_SCHEMAS = (SERVING_SCHEMA, *SERVED_SCHEMAS)
INCOMING_SUFFIX = "__incoming"
RETIRED_SUFFIX = "__retired"
DEFAULT_ROLE_PREFIX = "maglumat_"
GOVERNMENT = "government"
LOGIN_SUFFIX = "_bi"

# Columns that identify a person, which would make a row a person's record rather than an
# aggregate: a table with one is never served (medical data reach BI tools only as aggregates).
PERSONAL_COLUMN = re.compile(
    r"(^|_)(patient|person|citizen|employee)_(id|code|number)$"
    r"|(^|_)(passport|date_of_birth|birth_date|full_name|first_name|last_name|phone)(_|$)"
)
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_IDENTIFIER_LENGTH = 63

# The swap waits this long for a reader's lock, then gives way and tries again: below
# PostgreSQL's deadlock_timeout (1 s by default), so a reader is never the deadlock victim.
SWAP_LOCK_TIMEOUT = "500ms"
COPY_BATCH_ROWS = 100_000
# Publications exclude each other by locking this table, in a schema no reader can use.
CONTROL_SCHEMA = "maglumat_control"
PUBLISHER_LOCK_TABLE = "publisher"
PUBLISHER_APPLICATION = "maglumat publish-serving"


@dataclass(frozen=True)
class ServingPolicy:
    """How long a publication waits for others, and what it does about readers in its way.

    Attributes:
        start_timeout_seconds: how long to wait for another publication to finish before
            giving up, naming the session that holds it.
        swap_timeout_seconds: how long the swap may wait for sessions that are not BI readers
            (a DBA's) before giving up; the previous publication stays in place.
        reader_grace_seconds: a BI reader's session that keeps the swap waiting this long, or
            that has been idle in a transaction this long, is ended when
            ``end_blocking_readers`` is on (the default); otherwise it is only named.
        statement_timeout, idle_in_transaction_timeout: every BI person's session defaults,
            set again at each publication (PostgreSQL interval text).
        connection_limit: connections one person may hold at once.
    """

    start_timeout_seconds: float = 300.0
    swap_timeout_seconds: float = 600.0
    reader_grace_seconds: float = 60.0
    end_blocking_readers: bool = True
    statement_timeout: str = "15min"
    idle_in_transaction_timeout: str = "5min"
    connection_limit: int = 10

    def __post_init__(self) -> None:
        for name in ("statement_timeout", "idle_in_transaction_timeout"):
            if not re.fullmatch(r"\d+\s*(ms|s|min|h)?", getattr(self, name)):
                raise ValueError(f"{name} {getattr(self, name)!r}: write e.g. 15min, 30s, 500ms")
        if self.connection_limit < 1:
            raise ValueError("connection_limit: at least 1")


AccessKind = Literal[
    "shared",
    "one_sector",
    "sector_rows",
    "ministry_rows",
    "indicator_rows",
    "system_rows",
    "government_only",
]


class ServingError(RuntimeError):
    """The serving database could not be published (it keeps its previous publication)."""


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    postgres_type: str
    comment: str | None = None


@dataclass(frozen=True)
class Access:
    """Who may read a served table: every role, one sector's ministry, or rows by a column."""

    kind: AccessKind
    sector: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class ServedTable:
    schema: str
    name: str
    columns: tuple[Column, ...]
    access: Access
    comment: str | None = None

    @property
    def address(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Ministry:
    ministry_id: str
    sectors: tuple[str, ...]


@dataclass(frozen=True)
class ServingRoles:
    """Role names derived from the prefix: a group role per ministry and the government's."""

    prefix: str
    ministries: tuple[Ministry, ...]

    def __post_init__(self) -> None:
        if not IDENTIFIER.match(self.prefix):
            raise ValueError(f"role prefix {self.prefix!r} is not a plain lowercase name")
        longest = max(len(self.shared_login(group)) for group in self.groups)
        if longest > MAX_IDENTIFIER_LENGTH:  # PostgreSQL would cut the names short
            raise ValueError(f"role prefix {self.prefix!r} makes role names too long")

    def group(self, ministry_id: str) -> str:
        return f"{self.prefix}{ministry_id}"

    @property
    def government(self) -> str:
        return self.group(GOVERNMENT)

    def shared_login(self, group: str) -> str:
        """The one login per ministry of earlier versions, disabled since people have their own."""
        return f"{group}{LOGIN_SUFFIX}"

    @property
    def groups(self) -> list[str]:
        return [self.government, *(self.group(m.ministry_id) for m in self.ministries)]

    def ministry_of_sector(self, sector: str) -> Ministry | None:
        return next((m for m in self.ministries if sector in m.sectors), None)


@dataclass(frozen=True)
class Session:
    """A PostgreSQL session another one waits for."""

    pid: int
    role: str
    application: str
    state: str
    since: dt.datetime | None
    is_reader: bool

    def describe(self) -> str:
        since = f" since {self.since:%Y-%m-%d %H:%M:%S %Z}" if self.since else ""
        application = f", application {self.application!r}" if self.application else ""
        return f"pid {self.pid} (role {self.role}{application}, {self.state}{since})"


@dataclass(frozen=True)
class Publication:
    snapshot_id: str
    published_at: dt.datetime
    table_rows: dict[str, int]
    groups: list[str]  # the group roles: a ministry's, and the government's
    seconds: float
    swap_attempts: int
    closed_tables: list[str] = field(default_factory=list)
    # How long readers could not read: from the swap's first exclusive lock to its commit.
    swap_lock_seconds: float = 0.0
    # What the publication did besides the copy: sessions it ended, logins it disabled.
    events: list[str] = field(default_factory=list)


def ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)
