"""The options of an ``http_api`` table (its system's, then its own), checked, with defaults;
the options are described in ``pipelines.extract.http_api``."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

from pipelines.extract import kind_options

if TYPE_CHECKING:
    from maglumat.catalogue import SourceSystem, SourceTable


@dataclass(frozen=True)
class ApiSettings:
    """How one table of an API system is read (the catalogue's options, with defaults)."""

    endpoint: str
    token_env: str | None = None
    paging: Literal["next_link", "page_number"] = "next_link"
    page_size: int = 500
    page_param: str = "page"
    page_size_param: str = "page_size"
    since_param: str = "updated_since"
    records_field: str = "data"
    next_field: str = "links.next"
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    max_pages: int = 10_000

    @classmethod
    def of(cls, system: SourceSystem, table: SourceTable) -> ApiSettings:
        """System options, then the table's on top; unknown names are an error, not ignored."""
        known = frozenset(field.name for field in fields(cls))
        options: dict[str, Any] = {"endpoint": table.name, **kind_options(system, table, known)}
        settings = cls(
            endpoint=str(options["endpoint"]),
            token_env=str(options["token_env"]) if options.get("token_env") else None,
            paging=options.get("paging", "next_link"),
            page_size=int(options.get("page_size", 500)),
            page_param=str(options.get("page_param", "page")),
            page_size_param=str(options.get("page_size_param", "page_size")),
            since_param=str(options.get("since_param", "updated_since")),
            records_field=str(options.get("records_field", "data")),
            next_field=str(options.get("next_field", "links.next")),
            timeout_seconds=float(options.get("timeout_seconds", 30.0)),
            max_attempts=int(options.get("max_attempts", 5)),
            backoff_seconds=float(options.get("backoff_seconds", 1.0)),
            max_backoff_seconds=float(options.get("max_backoff_seconds", 60.0)),
            max_pages=int(options.get("max_pages", 10_000)),
        )
        if settings.paging not in ("next_link", "page_number"):
            raise ValueError(
                f"{system.name}.{table.name}: paging must be next_link or page_number, "
                f"not {settings.paging!r}"
            )
        if settings.page_size < 1 or settings.max_attempts < 1:
            raise ValueError(f"{system.name}.{table.name}: page_size and max_attempts must be >= 1")
        return settings
