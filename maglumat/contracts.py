"""The contracts between stages that more than one layer reads: a landed batch's manifest.

The landing zone writes it (``pipelines.landing``), the quality gate and the raw load read it
(``quality``, ``warehouse.raw``); it lives below all of them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class BatchManifest:
    batch_id: str
    system: str
    table: str
    mode: str
    extracted_at: str
    row_count: int
    sha256: str
    columns: dict[str, str]
    cursor_column: str | None
    cursor_from: str | None
    cursor_to: str | None
    source: str
    file: str  # relative to the landing root
    source_file: str | None = None  # the original file, for file-based sources

    def parquet_path(self, landing_root: Path) -> Path:
        return landing_root / self.file

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False, sort_keys=True)
