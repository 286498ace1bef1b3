"""The government's electronic document workflow at scale (``edocument_workflow``), generated
column-wise as its JSON lines log (one file a day): documents of 21 organisations, each
registered, routed, assigned (sometimes twice: a deadline extended) and mostly executed, with
events delivered twice and executions synced days late. The same fields and mess as
``simulator.edocument``.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl

from simulator.edocument import CABINET_TYPES, DOCUMENT_TYPES, EVENT_FIELDS, MINISTRIES
from simulator.working_calendar import is_working_day

EVENTS_FIRST_DAY = dt.date(2022, 1, 1)


def _working_calendar(first: dt.date, last: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Days from ``first`` to ``last`` (datetime64[D]) and, for each, the next working day."""
    days = np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")
    as_dates = days.astype(dt.date)
    working = np.array([is_working_day(d) for d in as_dates])
    following = np.empty(len(days), dtype="datetime64[D]")
    upcoming = days[-1]
    for index in range(len(days) - 1, -1, -1):  # one pass over the calendar, not the rows
        if working[index]:
            upcoming = days[index]
        following[index] = upcoming
    return days, following


class _Calendar:
    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first = np.datetime64(first, "D")
        self.days, self.following = _working_calendar(first, last)

    def next_working(self, day: np.ndarray) -> np.ndarray:
        index = np.clip((day - self.first).astype(np.int64), 0, len(self.days) - 1)
        return self.following[index]

    def office_time(self, moment: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Local moments moved to the next working morning when outside office hours."""
        day = moment.astype("datetime64[D]")
        hour = (moment - day).astype("timedelta64[h]").astype(np.int64)
        inside = (self.next_working(day) == day) & (hour >= 9) & (hour < 18)
        start = np.where(hour < 9, day, day + 1)
        morning = self.next_working(start).astype("datetime64[s]") + np.timedelta64(9, "h")
        jitter = rng.integers(0, 90 * 60 + 1, len(moment)).astype("timedelta64[s]")
        return np.where(inside, moment, morning + jitter)


def _uuids(rng: np.random.Generator, count: int) -> np.ndarray:
    raw = rng.integers(0, 256, (count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((count, 32), dtype=np.uint8)
    hexed[:, 0::2] = digits[raw >> 4]
    hexed[:, 1::2] = digits[raw & 0x0F]
    dash = np.full((count, 1), ord("-"), dtype=np.uint8)
    parts = [hexed[:, 0:8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash]
    parts += [hexed[:, 16:20], dash, hexed[:, 20:32]]
    return np.ascontiguousarray(np.hstack(parts)).view("S36").ravel().astype(str)


def _choice(rng: np.random.Generator, options: dict[str, float], count: int) -> np.ndarray:
    names = np.array(list(options))
    weights = np.array(list(options.values()), dtype=float)
    return names[rng.choice(len(names), count, p=weights / weights.sum())]


def event_lines(
    rng: np.random.Generator, documents_per_working_day: int, until: dt.datetime
) -> pl.DataFrame:
    """The log's lines up to ``until`` (file name, naive UTC moment, JSON text), about
    ``documents_per_working_day`` documents registered each working day."""
    last_day = (until + dt.timedelta(hours=5)).date()
    calendar_ = _Calendar(EVENTS_FIRST_DAY, last_day + dt.timedelta(days=120))
    days = calendar_.days[calendar_.days <= np.datetime64(last_day)]
    working_days = days[calendar_.next_working(days) == days]
    per_day = rng.integers(
        max(1, documents_per_working_day * 3 // 4),
        documents_per_working_day * 5 // 4 + 1,
        len(working_days),
    )
    day = np.repeat(working_days, per_day)
    count = len(day)
    # Senders: every organisation alike, the Cabinet twice (document numbers have five digits
    # a sender and year, which a national volume would overflow at the demo's weights).
    sender = _choice(rng, {code: 2 if code == "CAB" else 1 for code in MINISTRIES}, count)
    is_cabinet = sender == "CAB"
    kinds = {kind: weight for kind, (_, weight) in DOCUMENT_TYPES.items() if weight}
    document_type = np.where(
        is_cabinet, _choice(rng, CABINET_TYPES, count), _choice(rng, kinds, count)
    )
    receivers = np.array([code for code in MINISTRIES if code != "CAB"])
    receiver = receivers[rng.integers(0, len(receivers), count)]
    clash = receiver == sender
    while clash.any():
        receiver[clash] = receivers[rng.integers(0, len(receivers), int(clash.sum()))]
        clash = receiver == sender
    year = day.astype("datetime64[Y]").astype(np.int64) + 1970
    serial = (
        pl.DataFrame({"sender": sender, "year": year})
        .with_columns(pl.int_range(1, pl.len() + 1).over("sender", "year").alias("serial"))
        .get_column("serial")
        .to_numpy()
    )
    if serial.max() > 99_999:
        raise ValueError("more than 99,999 documents a sender and year: lower the scale")
    document_id = np.char.add(
        np.char.add(np.char.add(sender.astype(str), "-"), year.astype(str)),
        np.char.add("-", np.char.zfill(serial.astype(str), 5)),
    )
    days_to_execute = np.array(
        [DOCUMENT_TYPES[kind][0] or -1 for kind in DOCUMENT_TYPES], dtype=np.int64
    )
    kind_index = {kind: index for index, kind in enumerate(DOCUMENT_TYPES)}
    to_execute = days_to_execute[np.vectorize(kind_index.__getitem__)(document_type)]
    has_deadline = to_execute >= 0
    deadline = calendar_.next_working(day + np.maximum(to_execute, 0).astype("timedelta64[D]"))

    def seconds(values: np.ndarray) -> np.ndarray:
        return np.round(values).astype("timedelta64[s]")

    registered = (
        day.astype("datetime64[s]")
        + np.timedelta64(9, "h")
        + rng.integers(0, 510 * 60 + 1, count).astype("timedelta64[s]")
    )
    routed = calendar_.office_time(registered + seconds(rng.uniform(3, 120, count) * 60), rng)
    assigned = calendar_.office_time(routed + seconds(rng.uniform(0.5, 30, count) * 3600), rng)
    extended = has_deadline & (rng.random(count) < 0.04)
    new_deadline = calendar_.next_working(
        deadline + rng.integers(7, 21, count).astype("timedelta64[D]")
    )
    reassigned = calendar_.office_time(
        assigned + rng.integers(2, 7, count).astype("timedelta64[D]"), rng
    )
    final_deadline = np.where(extended, new_deadline, deadline)
    last = np.where(extended, reassigned, assigned)
    executed_flag = rng.random(count) > 0.02
    available = np.maximum((final_deadline - last.astype("datetime64[D]")).astype(np.int64), 1)
    on_time = rng.random(count) < 0.86
    filed = last + seconds(rng.uniform(0.2, 5, count) * 86400)
    in_time = last + seconds(rng.uniform(0.1, available - 0.1) * 86400)
    late = (
        final_deadline.astype("datetime64[s]")
        + np.timedelta64(12, "h")
        + rng.integers(1, 26, count).astype("timedelta64[D]")
    )
    executed = np.where(~has_deadline, filed, np.where(on_time, in_time, late))
    executed = np.maximum(calendar_.office_time(executed, rng), last)
    department = np.char.add(
        np.char.add(receiver.astype(str), "-"),
        np.char.zfill(rng.integers(1, 13, count).astype(str), 2),
    )
    documents = pl.DataFrame(
        {
            "document_id": document_id,
            "document_type": document_type,
            "sender_ministry": sender,
            "receiver_ministry": receiver,
            "department": department,
            "deadline": np.where(has_deadline, deadline, np.datetime64("NaT")),
            "final_deadline": np.where(has_deadline, final_deadline, np.datetime64("NaT")),
            "registered": registered.astype("datetime64[ms]"),
            "routed": routed.astype("datetime64[ms]"),
            "assigned": assigned.astype("datetime64[ms]"),
            "reassigned": reassigned.astype("datetime64[ms]"),
            "executed": executed.astype("datetime64[ms]"),
            "is_extended": extended,
            "is_executed": executed_flag,
        }
    )
    common = ["document_id", "document_type", "sender_ministry", "receiver_ministry"]
    steps = [
        documents.select(*common, pl.lit("registered").alias("event_type"),
                         pl.col("registered").alias("moment"), "deadline",
                         pl.lit(None, dtype=pl.String).alias("department")),
        documents.select(*common, pl.lit("routed").alias("event_type"),
                         pl.col("routed").alias("moment"), "deadline",
                         pl.lit(None, dtype=pl.String).alias("department")),
        documents.select(*common, pl.lit("assigned").alias("event_type"),
                         pl.col("assigned").alias("moment"), "deadline", "department"),
        documents.filter("is_extended").select(
            *common, pl.lit("assigned").alias("event_type"), pl.col("reassigned").alias("moment"),
            pl.col("final_deadline").alias("deadline"), "department"),
        documents.filter("is_executed").select(
            *common, pl.lit("executed").alias("event_type"), pl.col("executed").alias("moment"),
            pl.col("final_deadline").alias("deadline"), "department"),
    ]  # fmt: skip
    events = pl.concat(steps)
    total = events.height
    late_sync = (events["event_type"] == "executed").to_numpy() & (rng.random(total) < 0.01)
    arrival_delay = rng.uniform(0.1, 3, total) + np.where(
        late_sync, rng.integers(1, 4, total) * 86400 + rng.uniform(0, 4, total) * 3600, 0
    )
    events = events.with_columns(
        pl.Series("event_id", _uuids(rng, total)),
        (
            pl.col("moment") + pl.duration(milliseconds=pl.Series(np.round(arrival_delay * 1000)))
        ).alias("arrival"),
    )
    twice = events.filter(pl.Series(rng.random(total) < 0.003))
    twice = twice.with_columns(
        (
            pl.col("arrival") + pl.duration(seconds=pl.Series(rng.uniform(5, 60, twice.height)))
        ).alias("arrival")
    )
    local_text = "%Y-%m-%dT%H:%M:%S+05:00"
    lines = (
        pl.concat([events, twice])
        .with_columns(pl.col("arrival").dt.truncate("1s").alias("logged_local"))
        .with_columns((pl.col("logged_local") - pl.duration(hours=5)).alias("logged_at_utc"))
        .filter(pl.col("logged_at_utc") <= until.replace(tzinfo=None))
        .sort("arrival", "event_id")
        .select(
            (
                pl.lit("events-") + pl.col("arrival").dt.strftime("%Y-%m-%d") + pl.lit(".jsonl")
            ).alias("file_name"),
            "logged_at_utc",
            pl.struct(
                "event_id",
                "event_type",
                pl.col("moment").dt.strftime(local_text).alias("event_time"),
                "document_id",
                "document_type",
                "sender_ministry",
                "receiver_ministry",
                pl.col("deadline").dt.strftime("%Y-%m-%d").alias("deadline"),
                "department",
                pl.col("logged_local").dt.strftime(local_text).alias("logged_at"),
            )
            .struct.json_encode()
            .alias("text"),
        )
    )
    assert list(json.loads(lines["text"][0])) == list(EVENT_FIELDS)  # the log's field order
    return lines
