"""Run a source's expectation suite on one landed batch and give the verdict.

Two levels of failure:

* row level: a value fails a column rule (or does not convert to its contract type). The row is
  quarantined with the rule, the field and the value; the rest of the batch loads.
* batch level: the schema drifted, the batch is too small, or too many rows failed. The whole
  batch is held: nothing of it loads and what depends on it is blocked.
"""

from quality.gate.expectations import (
    JOINT_VALIDATION_MAX_ROWS,
    ExpectationOutcome,
)
from quality.gate.rules import (
    PendingBatches,
)
from quality.gate.slices import (
    GATE_SLICE_ROWS,
    Slices,
    validate_batch_in_slices,
)
from quality.gate.validate import (
    validate_batch,
)
from quality.gate.verdict import (
    BAD_ROW_SHARE_RULE,
    BALANCE_RULE,
    DAILY_VOLUME_RULE,
    HISTORY_VOLUME_RULE,
    OUTLIER_RULE,
    READ_PROBLEM_COLUMN,
    READ_RULE,
    RECENT_OUTLIER_RULE,
    SCHEMA_RULE,
    SEASONAL_OUTLIER_RULE,
    TEXT_ENCODING_RULE,
    TYPE_RULE,
    UNREADABLE_ROW_COLUMNS,
    VOLUME_RULE,
    BatchFailure,
    GateVerdict,
    RowFailure,
)

__all__ = [
    "BAD_ROW_SHARE_RULE",
    "BALANCE_RULE",
    "DAILY_VOLUME_RULE",
    "GATE_SLICE_ROWS",
    "HISTORY_VOLUME_RULE",
    "JOINT_VALIDATION_MAX_ROWS",
    "OUTLIER_RULE",
    "READ_PROBLEM_COLUMN",
    "READ_RULE",
    "RECENT_OUTLIER_RULE",
    "SCHEMA_RULE",
    "SEASONAL_OUTLIER_RULE",
    "TEXT_ENCODING_RULE",
    "TYPE_RULE",
    "UNREADABLE_ROW_COLUMNS",
    "VOLUME_RULE",
    "BatchFailure",
    "ExpectationOutcome",
    "GateVerdict",
    "PendingBatches",
    "RowFailure",
    "Slices",
    "validate_batch",
    "validate_batch_in_slices",
]
