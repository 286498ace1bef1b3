"""The quality gate: Great Expectations suites that every landed batch must pass."""
