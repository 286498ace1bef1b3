"""Serving: the PostgreSQL database that BI tools read, refreshed after every green run.

The asset exists only when ``MAGLUMAT_SERVING_DSN`` is set. The embedded default (DuckDB and
the snapshot, no server) then keeps its job and asset graph unchanged, rather than carrying an
asset that could only ever be skipped; a deployment that sets the variable gets the asset in
the daily job, downstream of the snapshot.
"""

import dataclasses
import os
from typing import Any

import dagster as dg
import psycopg
from psycopg.conninfo import conninfo_to_dict

from pipelines.assets.publish import SNAPSHOT_KEY
from pipelines.resources import MaglumatResource
from warehouse.serving import DEFAULT_ROLE_PREFIX, ServingPolicy, publish_to_postgres
from warehouse.snapshot import current_snapshot

SERVING_KEY = dg.AssetKey(["serving", "postgres"])
SERVING_DSN_ENV = "MAGLUMAT_SERVING_DSN"
SERVING_ROLE_PREFIX_ENV = "MAGLUMAT_SERVING_ROLE_PREFIX"
# The publication's patience with other sessions (ServingPolicy), each optional.
POLICY_ENV = {
    policy_field.name: f"MAGLUMAT_SERVING_{policy_field.name.upper()}"
    for policy_field in dataclasses.fields(ServingPolicy)
}


def policy_from_environment() -> ServingPolicy:
    """The serving policy, each field from its variable of :data:`POLICY_ENV` when set."""
    defaults = ServingPolicy()
    values: dict[str, Any] = {}
    for name, variable in POLICY_ENV.items():
        text = os.environ.get(variable, "").strip()
        if not text:
            continue
        default = getattr(defaults, name)
        try:
            if isinstance(default, bool):
                if text.lower() not in ("on", "off", "true", "false", "1", "0"):
                    raise ValueError
                values[name] = text.lower() in ("on", "true", "1")
            elif isinstance(default, (int, float)):
                values[name] = type(default)(text)
            else:
                values[name] = text
        except ValueError:
            expected = {bool: "on or off", int: "a whole number", float: "a number of seconds"}
            raise ValueError(
                f"{variable}={text!r}: write {expected.get(type(default), 'a value')}"
                f" (default { ({True: 'on', False: 'off'}.get(default, default)) })"
            ) from None
    return ServingPolicy(**{**vars(defaults), **values})


class ServingDatabaseResource(dg.ConfigurableResource):
    """The PostgreSQL serving database of the BI tools.

    Attributes:
        dsn: Its connection string (``postgresql://owner@host:5432/maglumat_serving``). The
            user owns the database and may create roles; the password comes from a secret
            store through the environment, never from a file of the repository.
        role_prefix: Prefix of the group roles: ``<prefix><ministry_id>`` per ministry and
            ``<prefix>government``; people are their members (``maglumat serving add-user``).
        The other fields are the :class:`~warehouse.serving.ServingPolicy`: how long to wait
        for another publication and for sessions in the swap's way, and the readers' limits.
    """

    dsn: str
    role_prefix: str = DEFAULT_ROLE_PREFIX
    start_timeout_seconds: float = ServingPolicy.start_timeout_seconds
    swap_timeout_seconds: float = ServingPolicy.swap_timeout_seconds
    reader_grace_seconds: float = ServingPolicy.reader_grace_seconds
    end_blocking_readers: bool = ServingPolicy.end_blocking_readers
    statement_timeout: str = ServingPolicy.statement_timeout
    idle_in_transaction_timeout: str = ServingPolicy.idle_in_transaction_timeout
    connection_limit: int = ServingPolicy.connection_limit

    def policy(self) -> ServingPolicy:
        return ServingPolicy(**{name: getattr(self, name) for name in POLICY_ENV})

    def describe(self) -> str:
        """Host, port and database, without user or password, for logs and metadata."""
        try:
            parts = conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            # psycopg's message quotes the whole DSN, password included.
            return "<a DSN that cannot be parsed>"
        return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname')}"


def serving_configured() -> bool:
    return bool(os.environ.get(SERVING_DSN_ENV))


def build_serving_asset() -> dg.AssetsDefinition:
    @dg.asset(
        key=SERVING_KEY,
        deps=[SNAPSHOT_KEY],
        group_name="publish",
        kinds={"postgres"},
        description=(
            "The BI tools' PostgreSQL database: the snapshot's marts and indicators, swapped "
            "in atomically, each ministry's role seeing only its own sector's rows and tables, "
            "the government's role everything, and no role able to write."
        ),
    )
    def serving_database(
        context: dg.AssetExecutionContext,
        maglumat: MaglumatResource,
        serving_database: ServingDatabaseResource,
    ) -> dg.MaterializeResult:
        snapshot = current_snapshot(maglumat.paths)
        if snapshot is None:
            raise FileNotFoundError("no snapshot has been published yet")
        context.log.info(
            f"publishing snapshot {snapshot.snapshot_id} to {serving_database.describe()}"
        )
        publication = publish_to_postgres(
            snapshot.path,
            snapshot.snapshot_id,
            serving_database.dsn,
            serving_database.role_prefix,
            policy=serving_database.policy(),
            log=context.log.info,
        )
        context.log.info(
            f"serving database holds snapshot {publication.snapshot_id}: "
            f"{len(publication.table_rows)} tables, {sum(publication.table_rows.values())} rows "
            f"in {publication.seconds:.1f} s"
        )
        return dg.MaterializeResult(
            metadata={
                "snapshot_id": publication.snapshot_id,
                "database": serving_database.describe(),
                "tables": len(publication.table_rows),
                "rows": sum(publication.table_rows.values()),
                "seconds": round(publication.seconds, 2),
                "swap_attempts": publication.swap_attempts,
                "swap_lock_seconds": round(publication.swap_lock_seconds, 3),
                "government_only_tables": ", ".join(publication.closed_tables) or "none",
                "groups": ", ".join(publication.groups),
                "events": "\n".join(publication.events) or "none",
            }
        )

    return serving_database


def build_serving_assets() -> list[dg.AssetsDefinition]:
    """The serving asset when ``MAGLUMAT_SERVING_DSN`` is set; nothing otherwise."""
    return [build_serving_asset()] if serving_configured() else []


def serving_resources() -> dict[str, Any]:
    """The serving database resource, from the environment, when the asset exists."""
    if not serving_configured():
        return {}
    return {
        "serving_database": ServingDatabaseResource(
            dsn=dg.EnvVar(SERVING_DSN_ENV),
            role_prefix=os.environ.get(SERVING_ROLE_PREFIX_ENV) or DEFAULT_ROLE_PREFIX,
            **vars(policy_from_environment()),
        )
    }
