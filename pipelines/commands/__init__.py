"""The ``maglumat`` command's commands, one module per concern; ``pipelines.cli`` parses the
arguments and dispatches to them."""
