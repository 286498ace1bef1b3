"""Publish the snapshot's marts and indicators to the PostgreSQL serving database for BI tools.

BI tools (Superset, Metabase, Power BI, Excel) speak PostgreSQL, not DuckDB, and a ministry may
see only its own sector. So after every green run the published snapshot (never the pipeline's
own warehouse file) is copied into a real PostgreSQL database:

* every table and view of the ``marts`` and ``indicators`` schemas becomes a table of the same
  schema and name, its columns mapped to PostgreSQL types (:func:`postgres_type`), its rows sent
  by COPY as CSV rendered from Arrow batches (:func:`copy_expression`);
* everything is loaded into fresh schemas (``marts__incoming``, ``indicators__incoming``,
  ``serving__incoming``) and granted and secured there in one transaction; then ONE more
  transaction locks every live table (ACCESS EXCLUSIVE, ``serving`` first), renames the live
  schemas away and the incoming ones in, and drops the old. A statement never sees half a
  publication; a transaction that has read anything served keeps its version to the end (the
  swap waits for it, and gives way before PostgreSQL's deadlock timeout rather than stop it);
* ``serving.publications`` records every publication (snapshot id, time, row count of every
  table) and ``serving.publication`` holds the one in force. They are swapped with the tables,
  so a transaction that reads ``serving.publication`` first reads that version of everything;
* roles (names from a prefix, default ``maglumat_``): per ministry of ``marts.dim_ministries``
  a NOLOGIN group role ``<prefix><ministry_id>`` holding its grants and policies, and
  ``<prefix>government`` that sees everything. People log in as their own roles, members of
  one group (:mod:`warehouse.serving.users`, ``maglumat serving add-user``); the shared
  ``..._bi`` logins of earlier versions are disabled on the next publication. Groups may only
  SELECT: no other table privilege, no CREATE or TEMP, CONNECT for them alone, and every
  person's sessions read-only with a statement and an idle-in-transaction timeout;
* no reader can hold a publication up (:class:`ServingPolicy`): publications exclude each
  other with a lock on a table only the publisher can reach (not an advisory lock, which any
  login can take), and give up naming its holder after a deadline; the swap names the sessions
  it waits for and ends a reader's session that keeps it waiting past a grace period;
* catalog side channels: the row-secured tables keep no column statistics, so the planner's
  estimates (``explain``) carry no other ministry's values; what remains visible to every
  role is each table's total size (``docs/bi-guide.md``).

How each served table is shared (:func:`table_access`) is what its dbt model declares in
``meta.access`` (``dbt_project.yml``, per folder), which the snapshot records in
``docs.tables``:

* ``shared``, reference dimensions everyone joins to (regions, dates, ministries): every role;
* ``sector``, a table of one sector (``meta.sector``): that sector's ministry and the government;
* ``rows``, shared long tables: row-level security by their ``ministry_id`` or ``sector``
  column, by the owner ministry of their ``indicator_id`` (``indicators.dim_indicators``) or the
  sector of their ``system_name`` (``reference.ref_delivery_schedules``). Each policy spells out
  its values, so it travels with its table and needs no other table at query time;
* ``internal``: not served (intermediate steps);
* ``government``, or nothing declared: the government only (a new mart stays closed until
  someone decides).
"""

from warehouse.serving.access import (
    PERSONAL_COLUMN,
    read_ministries,
    read_row_keys,
    served_tables,
    table_access,
)
from warehouse.serving.column_types import (
    copy_expression,
    postgres_type,
)
from warehouse.serving.model import (
    CONTROL_SCHEMA,
    COPY_BATCH_ROWS,
    DEFAULT_ROLE_PREFIX,
    PUBLISHER_LOCK_TABLE,
    Publication,
    ServedTable,
    ServingError,
    ServingPolicy,
    ServingRoles,
)
from warehouse.serving.publish import (
    publish_to_postgres,
)
from warehouse.serving.sessions import (
    publisher_lock,
)

# What the command line, the Dagster asset, the benchmark and the tests use.
__all__ = [
    "CONTROL_SCHEMA",
    "COPY_BATCH_ROWS",
    "DEFAULT_ROLE_PREFIX",
    "PERSONAL_COLUMN",
    "PUBLISHER_LOCK_TABLE",
    "Publication",
    "ServedTable",
    "ServingError",
    "ServingPolicy",
    "ServingRoles",
    "copy_expression",
    "postgres_type",
    "publish_to_postgres",
    "publisher_lock",
    "read_ministries",
    "read_row_keys",
    "served_tables",
    "table_access",
]
