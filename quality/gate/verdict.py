"""The gate's verdict on a batch: the rules' names, failing rows and the batch's failures."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_RULE = "expect_table_columns_to_match_set"
VOLUME_RULE = "expect_table_row_count_to_be_between"
TYPE_RULE = "type_contract"
BAD_ROW_SHARE_RULE = "max_bad_row_share"
HISTORY_VOLUME_RULE = "volume_against_recent_batches"
DAILY_VOLUME_RULE = "daily_volume_against_same_weekday"
OUTLIER_RULE = "outlier_modified_zscore"
SEASONAL_OUTLIER_RULE = "outlier_against_last_year"
RECENT_OUTLIER_RULE = "outlier_against_recent_median"
BALANCE_RULE = "stock_balance"
# Each kind of outlier rule: its name in the quarantine, and what its score measures.
_OUTLIER_NAMES = {
    "zscore": (OUTLIER_RULE, "modified z-score"),
    "seasonal": (SEASONAL_OUTLIER_RULE, "ratio to the same period a year before"),
    "ratio": (RECENT_OUTLIER_RULE, "ratio to the recent median"),
}
READ_RULE = "read_problem"
TEXT_ENCODING_RULE = "text_encoding"
# Written by an extractor beside a row it could read only in part (a file inbox): JSON
# ``{"field": .., "value": .., "reason": ..}``. Not a source column: the schema check ignores it.
READ_PROBLEM_COLUMN = "_read_problem"
# Columns of a row the extractor could not read at all (an event log line that is not JSON):
# such a row is quarantined for that reason alone, not once more for every empty field.
UNREADABLE_ROW_COLUMNS = ("parse_error",)


@dataclass(frozen=True)
class RowFailure:
    row_number: int  # 1-based row of the landed file
    rule: str
    field: str
    value: str | None


@dataclass(frozen=True)
class BatchFailure:
    rule: str
    detail: str


@dataclass
class GateVerdict:
    batch_id: str
    suite: str
    checked_at: str
    row_count: int
    row_failures: list[RowFailure] = field(default_factory=list)
    batch_failures: list[BatchFailure] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_held(self) -> bool:
        return bool(self.batch_failures)

    @property
    def quarantined_rows(self) -> set[int]:
        return {failure.row_number for failure in self.row_failures}

    @property
    def status(self) -> str:
        if self.is_held:
            return "held"
        return "loaded_with_quarantine" if self.row_failures else "loaded"

    def summary(self) -> str:
        if self.is_held:
            reasons = "; ".join(f"{f.rule}: {f.detail}" for f in self.batch_failures)
            return f"batch {self.batch_id} held ({self.suite}): {reasons}"
        return (
            f"batch {self.batch_id} passed ({self.suite}): {self.row_count} rows, "
            f"{len(self.quarantined_rows)} quarantined"
        )

    def to_json(self) -> str:
        document = asdict(self)
        document["status"] = self.status
        return json.dumps(document, indent=2, ensure_ascii=False, default=str)
