"""Run a source's expectation suite on one landed batch and give the verdict.

Two levels of failure:

* row level: a value fails a column rule (or does not convert to its contract type). The row is
  quarantined with the rule, the field and the value; the rest of the batch loads.
* batch level: the schema drifted, the batch is too small, or too many rows failed. The whole
  batch is held: nothing of it loads and what depends on it is blocked.
"""

from quality.gate.rules import PendingBatches
from quality.gate.slices import GATE_SLICE_ROWS, validate_batch_in_slices
from quality.gate.validate import validate_batch
from quality.gate.verdict import READ_PROBLEM_COLUMN, GateVerdict, RowFailure

# What the pipeline, the raw loader and the readers of landed files use; the rule names and
# the rest stay in their modules.
__all__ = [
    "GATE_SLICE_ROWS",
    "READ_PROBLEM_COLUMN",
    "GateVerdict",
    "PendingBatches",
    "RowFailure",
    "validate_batch",
    "validate_batch_in_slices",
]
