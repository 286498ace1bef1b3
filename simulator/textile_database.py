"""The textile ministry's own database (SQLite, PostgreSQL or MariaDB, read by the ``sql``
kind): its tables, and inserting the rows it does not hold yet."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipelines.extract.dbapi import connect

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "mill_output": (
        ("report_month", "varchar(7)"),
        ("mill_code", "varchar(20)"),
        ("product_code", "varchar(10)"),
        ("planned_quantity", "double precision"),
        ("produced_quantity", "double precision"),
        ("exported_quantity", "double precision"),
        ("export_value_tmt", "double precision"),
        ("submitted_at", "timestamp"),
    ),
    "mills": (
        ("mill_code", "varchar(20)"),
        ("name_tk", "varchar(200)"),
        ("name_ru", "varchar(200)"),
        ("province_code", "varchar(10)"),
        ("district_code", "varchar(10)"),
    ),
    "products": (
        ("product_code", "varchar(10)"),
        ("name_tk", "varchar(200)"),
        ("name_ru", "varchar(200)"),
        ("name_en", "varchar(200)"),
        ("unit", "varchar(20)"),
    ),
    "export_plans": (
        ("plan_month", "varchar(7)"),
        ("mill_code", "varchar(20)"),
        ("export_value_plan_tmt", "double precision"),
        ("approved_on", "varchar(10)"),
    ),
}
KEYS = {
    "mill_output": ("report_month", "mill_code", "product_code", "submitted_at"),
    "mills": ("mill_code",),
    "products": ("product_code",),
    "export_plans": ("plan_month", "mill_code", "approved_on"),
}


def _column_type(dialect: str, declared: str) -> str:
    if dialect == "sqlite":
        return "REAL" if declared == "double precision" else "TEXT"
    if dialect == "mysql":
        return {"double precision": "double", "timestamp": "datetime"}.get(declared, declared)
    return declared


def insert_new_rows(dsn: str, records: Mapping[str, Iterable[tuple]]) -> dict[str, int]:
    """Insert each table's rows the database at ``dsn`` does not hold yet (by the table's key),
    creating the tables when missing; rows added per table."""
    connection, dialect = connect(dsn)
    added: dict[str, int] = {}
    try:
        cursor = connection.cursor()
        for table, columns in TABLES.items():
            names = [name for name, _ in columns]
            definition = ", ".join(
                f"{name} {_column_type(dialect.name, declared)}" for name, declared in columns
            )
            key = ", ".join(KEYS[table])
            # Fixed identifiers from this module; values are bound parameters.
            cursor.execute(
                f"create table if not exists {table} ({definition}, primary key ({key}))"
            )
            cursor.execute(f"select {key} from {table}")  # noqa: S608
            present = {tuple(str(value) for value in row) for row in cursor.fetchall()}
            positions = [names.index(column) for column in KEYS[table]]
            new_rows = [
                row
                for row in records[table]
                if tuple(str(row[index]) for index in positions) not in present
            ]
            if new_rows:
                placeholders = ", ".join([dialect.placeholder] * len(names))
                cursor.executemany(
                    f"insert into {table} ({', '.join(names)}) values ({placeholders})",  # noqa: S608
                    new_rows,
                )
            added[table] = len(new_rows)
        connection.commit()
    finally:
        connection.close()
    return added
