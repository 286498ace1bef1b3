"""The DuckDB warehouse: raw loads, the audit trail, publishing and serving."""
