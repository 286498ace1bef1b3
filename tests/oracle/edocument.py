"""E-document indicators, recomputed from the log server's JSON lines written by the run's
instant (``simulator.edocument``), each event once (by event id). Per document: registered and
executed at the event times of those events; the deadline of its latest ``assigned`` event;
dates in Aşgabat time (UTC+5).

* ``edoc_executed_on_time_pct`` (ratio): among the executed documents that have a deadline
  (reports and minutes have none), the share executed on or before it, by week, month,
  quarter, year and ytd of the execution date; country only.
* ``edoc_cycle_time_median_days`` (percentile 0.5, linear interpolation): days from
  registration to execution (to 0.001 day), by document type and period of the execution
  date; the denominator is the number of documents.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from simulator import edocument
from simulator.processing import ASHGABAT
from tests.oracle.engine import base_frame, rollup

PERIODS = ("week", "month", "quarter", "year", "ytd")


def _documents(seed: int, as_of: dt.datetime) -> list[dict[str, object]]:
    seen: set[str] = set()
    documents: dict[str, dict[str, object]] = {}
    for line in edocument.visible_lines(edocument.generate(seed), as_of):
        event = line.event
        if event is None or event.event_id in seen:
            continue
        seen.add(event.event_id)
        document = documents.setdefault(
            event.document_id, {"type": event.document_type, "assigned": []}
        )
        moment = dt.datetime.fromisoformat(event.event_time)
        if event.event_type == "registered":
            document["registered"] = moment
        elif event.event_type == "assigned":
            document["assigned"].append((moment, event.deadline))  # type: ignore[union-attr]
        elif event.event_type == "executed":
            document["executed"] = moment
    return list(documents.values())


def expected(seed: int, as_of: dt.datetime) -> dict[str, pl.DataFrame]:
    on_time, cycle = [], []
    for document in _documents(seed, as_of):
        executed = document.get("executed")
        registered = document.get("registered")
        if not isinstance(executed, dt.datetime) or not isinstance(registered, dt.datetime):
            continue
        day = executed.astimezone(ASHGABAT).date()
        assigned = sorted(document["assigned"])  # type: ignore[arg-type]
        deadline = assigned[-1][1] if assigned else None
        if deadline is not None:
            on_time.append(
                {
                    "date": day,
                    "province": None,
                    "num": 1.0 if day <= dt.date.fromisoformat(deadline) else 0.0,
                    "den": 1.0,
                }
            )
        cycle.append(
            {
                "date": day,
                "breakdown": document["type"],
                "num": round((executed - registered).total_seconds() / 86400, 3),
            }
        )
    return {
        "edoc_executed_on_time_pct": _country(
            rollup(
                base_frame(on_time),
                indicator_id="edoc_executed_on_time_pct",
                period_types=PERIODS,
                aggregation="ratio",
                factor=100.0,
            )
        ),
        "edoc_cycle_time_median_days": _country(
            rollup(
                base_frame(cycle),
                indicator_id="edoc_cycle_time_median_days",
                period_types=PERIODS,
                aggregation="percentile",
                factor=1.0,
                percentile=0.5,
            )
        ),
    }


def _country(frame: pl.DataFrame) -> pl.DataFrame:
    """Documents have no region: only the country's rows."""
    return frame.filter(pl.col("region_level") == "country")


def last_days(seed: int, as_of: dt.datetime) -> dict[str, dt.date]:
    """Each indicator's last execution day (Aşgabat) among the documents it counts."""
    days: dict[str, list[dt.date]] = {
        "edoc_executed_on_time_pct": [],
        "edoc_cycle_time_median_days": [],
    }
    for document in _documents(seed, as_of):
        executed = document.get("executed")
        if not isinstance(executed, dt.datetime) or "registered" not in document:
            continue
        day = executed.astimezone(ASHGABAT).date()
        days["edoc_cycle_time_median_days"].append(day)
        if document["assigned"]:
            days["edoc_executed_on_time_pct"].append(day)
    return {indicator_id: max(found) for indicator_id, found in days.items()}
