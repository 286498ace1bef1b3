"""The government's e-document circulation system, simulated (system ``edocument_workflow``).

Ministries, state concerns and the Cabinet of Ministers send each other letters, instructions,
decrees, inquiries, reports and minutes. Each document passes through four kinds of event:
``registered`` (by the sender's chancellery), ``routed`` (delivered to the receiver),
``assigned`` (to a department of the receiver, with the deadline) and ``executed`` (the answer or
the execution is recorded). The system's log server writes every event as one JSON line into a
file per day (``events-YYYY-MM-DD.jsonl``, Aşgabat date of logging), appending during the day.

The mess of the real thing, all of it in the log: events delivered twice (the same event_id),
executions recorded by offline clients and logged days later, a deadline extended by a second
``assigned`` event, documents never executed, a two-day outage of the log server after which
the held events are logged at once, and one line cut off by a crash of the log server (written
again whole on the next line). The same events can also be loaded into a database table
(``document_events``) to read them with the ``sql`` kind.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.processing import ASHGABAT
from simulator.sql_database import SqlTable, demo_connection, timestamp, write_tables
from simulator.working_calendar import is_working_day

SYSTEM = "edocument_workflow"
FIRST_DAY = dt.date(2022, 1, 1)
LAST_DAY = dt.date(2023, 12, 31)
OUTAGE = (dt.date(2022, 11, 15), dt.date(2022, 11, 16))  # the log server was down
CRASH_DAY = dt.date(2023, 2, 14)  # the log server crashed in the middle of writing a line
EVENT_FIELDS = (
    "event_id",
    "event_type",
    "event_time",
    "document_id",
    "document_type",
    "sender_ministry",
    "receiver_ministry",
    "deadline",
    "department",
    "logged_at",
)

# Organisations on the system: code, name. Codes are what the events carry.
MINISTRIES: dict[str, str] = {
    "CAB": "Cabinet of Ministers",
    "MFE": "Ministry of Finance and Economy",
    "MFA": "Ministry of Foreign Affairs",
    "MOE": "Ministry of Education",
    "MHM": "Ministry of Health and Medical Industry",
    "MAG": "Ministry of Agriculture",
    "MEP": "Ministry of Environmental Protection",
    "MIC": "Ministry of Industry and Construction Production",
    "MCA": "Ministry of Construction and Architecture",
    "MTX": "Ministry of Textile Industry",
    "MEN": "Ministry of Energy",
    "MTF": "Ministry of Trade and Foreign Economic Relations",
    "MCU": "Ministry of Culture",
    "MJU": "Ministry of Justice",
    "MLS": "Ministry of Labour and Social Protection of Population",
    "ATC": "Agency of Transport and Communications",
    "TGZ": "Türkmengaz State Concern",
    "TNB": "Türkmennebit State Concern",
    "THM": "Türkmenhimiýa State Concern",
    "SCS": "State Committee of Statistics",
    "CBT": "Central Bank of Turkmenistan",
}
SENDER_WEIGHTS = {code: 3 for code in MINISTRIES} | {"CAB": 14, "MFE": 8, "MFA": 5}
# Document types: calendar days to execute (None: filed, no deadline), weight.
DOCUMENT_TYPES = {
    "instruction": (10, 0),
    "decree": (30, 0),
    "letter": (30, 50),
    "inquiry": (10, 20),
    "report": (None, 20),
    "minutes": (None, 6),
}
CABINET_TYPES = {"instruction": 70, "decree": 20, "inquiry": 10}


@dataclass(frozen=True)
class Event:
    event_id: str
    event_type: str
    event_time: str  # local time with offset, as the system writes it
    document_id: str
    document_type: str
    sender_ministry: str
    receiver_ministry: str
    deadline: str | None
    department: str | None
    logged_at: str  # when the log server wrote it, local time with offset

    def json_line(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False)


@dataclass(frozen=True)
class LogLine:
    """One line of the log as written: the event, or the cut-off text of a crashed write."""

    file_name: str
    logged_at: str  # UTC, for ordering and for what is visible when
    text: str
    event: Event | None


@dataclass(frozen=True)
class EventLog:
    lines: list[LogLine]  # in the order written

    @property
    def events(self) -> list[Event]:
        """Every event line, duplicated deliveries included."""
        return [line.event for line in self.lines if line.event is not None]


@dataclass(frozen=True)
class DocumentEvent:
    """An event as a row of the system's database table (for reading with the ``sql`` kind)."""

    event_seq: int
    event_id: str
    event_type: str
    event_time: str
    document_id: str
    document_type: str
    sender_ministry: str
    receiver_ministry: str
    deadline: str | None
    department: str | None
    logged_at: str


def _next_working_day(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(ASHGABAT).isoformat(timespec="seconds")


def _office_time(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """The moment, or the next working morning when it falls outside office hours."""
    local = moment.astimezone(ASHGABAT)
    if is_working_day(local.date()) and 9 <= local.hour < 18:
        return local
    day = local.date() if local.hour < 9 else local.date() + dt.timedelta(days=1)
    day = _next_working_day(day)
    return dt.datetime.combine(day, dt.time(9), tzinfo=ASHGABAT) + dt.timedelta(
        seconds=rng.randint(0, 90 * 60)
    )


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _document_events(
    rng: random.Random, document_id: str, sender: str, day: dt.date
) -> list[tuple[Event, dt.datetime]]:
    """A document's events, each with the moment the log server receives it."""
    if sender == "CAB":
        document_type = rng.choices(list(CABINET_TYPES), weights=list(CABINET_TYPES.values()))[0]
    else:
        kinds = [kind for kind, (_, weight) in DOCUMENT_TYPES.items() if weight]
        document_type = rng.choices(kinds, weights=[DOCUMENT_TYPES[k][1] for k in kinds])[0]
    receiver = rng.choice([code for code in MINISTRIES if code not in (sender, "CAB")])
    days_to_execute = DOCUMENT_TYPES[document_type][0]
    registered = dt.datetime.combine(day, dt.time(9), tzinfo=ASHGABAT) + dt.timedelta(
        seconds=rng.randint(0, 510 * 60)
    )
    deadline = None
    if days_to_execute is not None:
        deadline = _next_working_day(day + dt.timedelta(days=days_to_execute))
    routed = _office_time(registered + dt.timedelta(minutes=rng.randint(3, 120)), rng)
    assigned = _office_time(routed + dt.timedelta(hours=rng.uniform(0.5, 30)), rng)
    steps: list[tuple[str, dt.datetime, dt.date | None]] = [
        ("registered", registered, deadline),
        ("routed", routed, deadline),
        ("assigned", assigned, deadline),
    ]
    if deadline is not None and rng.random() < 0.04:  # the deadline is extended
        deadline = _next_working_day(deadline + dt.timedelta(days=rng.randint(7, 20)))
        extended = _office_time(assigned + dt.timedelta(days=rng.randint(2, 6)), rng)
        steps.append(("assigned", extended, deadline))
    if rng.random() > 0.02:  # a few documents are never executed
        last = steps[-1][1]
        if deadline is None:  # filed: read and put on file within days
            executed = last + dt.timedelta(days=rng.uniform(0.2, 5))
        elif rng.random() < 0.86:  # on time
            available = max((deadline - last.date()).days, 1)
            executed = last + dt.timedelta(days=rng.uniform(0.1, available - 0.1))
        else:  # late
            executed = dt.datetime.combine(deadline, dt.time(12), tzinfo=ASHGABAT) + dt.timedelta(
                days=rng.randint(1, 25)
            )
        steps.append(("executed", max(_office_time(executed, rng), last), deadline))
    department = f"{receiver}-{rng.randint(1, 12):02d}"
    received: list[tuple[Event, dt.datetime]] = []
    for event_type, moment, due in steps:
        event = Event(
            event_id=_uuid(rng),
            event_type=event_type,
            event_time=_local(moment),
            document_id=document_id,
            document_type=document_type,
            sender_ministry=sender,
            receiver_ministry=receiver,
            deadline=due.isoformat() if due else None,
            department=department if event_type in ("assigned", "executed") else None,
            logged_at="",
        )
        arrival = moment + dt.timedelta(seconds=rng.uniform(0.1, 3))
        if event_type == "executed" and rng.random() < 0.01:  # an offline client syncs later
            arrival += dt.timedelta(days=rng.randint(1, 3), hours=rng.uniform(0, 4))
        received.append((event, arrival))
    return received


def _log_file(moment: dt.datetime) -> str:
    return f"events-{moment.astimezone(ASHGABAT).date().isoformat()}.jsonl"


def generate(seed: int = DEFAULT_SEED, last_day: dt.date = LAST_DAY) -> EventLog:
    """Every line the log server writes for the documents registered from January 2022 to
    ``last_day`` (the end of 2023)."""
    rng = random.Random(seed)
    senders = list(SENDER_WEIGHTS)
    weights = [SENDER_WEIGHTS[code] for code in senders]
    numbers: dict[tuple[str, int], int] = {}
    arrivals: list[tuple[dt.datetime, Event]] = []
    day = FIRST_DAY
    while day <= last_day:
        if is_working_day(day):
            for _ in range(rng.randint(45, 85)):
                sender = rng.choices(senders, weights=weights)[0]
                number = numbers[(sender, day.year)] = numbers.get((sender, day.year), 0) + 1
                document_id = f"{sender}-{day.year}-{number:05d}"
                for event, arrival in _document_events(rng, document_id, sender, day):
                    arrivals.append((arrival, event))
                    if rng.random() < 0.003:  # delivered twice: the client retried
                        arrivals.append((arrival + dt.timedelta(seconds=rng.uniform(5, 60)), event))
        day += dt.timedelta(days=1)
    restored = dt.datetime.combine(
        OUTAGE[-1] + dt.timedelta(days=1), dt.time(8, 30), tzinfo=ASHGABAT
    )
    held = 0
    timeline: list[tuple[dt.datetime, Event]] = []
    for arrival, event in sorted(arrivals, key=lambda item: (item[0], item[1].event_id)):
        if OUTAGE[0] <= arrival.astimezone(ASHGABAT).date() <= OUTAGE[-1]:
            held += 1  # clients queue their events until the log server is back
            arrival = restored + dt.timedelta(milliseconds=20 * held)
        timeline.append((arrival, Event(**{**event.__dict__, "logged_at": _local(arrival)})))
    timeline.sort(key=lambda item: (item[0], item[1].event_id))
    lines: list[LogLine] = []
    crashed = False
    for arrival, event in timeline:
        file_name, text = _log_file(arrival), event.json_line()
        if not crashed and arrival.astimezone(ASHGABAT).date() == CRASH_DAY:
            crashed = True  # the write is cut off; the client resends the event whole
            lines.append(LogLine(file_name, timestamp(arrival), text[: len(text) * 3 // 5], None))
        lines.append(LogLine(file_name, timestamp(arrival), text, event))
    return EventLog(lines)


def visible_lines(log: EventLog, as_of: dt.datetime) -> list[LogLine]:
    """The lines written by ``as_of``."""
    cutoff = timestamp(as_of)
    return [line for line in log.lines if line.logged_at <= cutoff]


def write_log(directory: Path, log: EventLog, as_of: dt.datetime) -> dict[str, int]:
    """Bring the log directory to its state at ``as_of``: append what was written since.

    Returns the lines appended and the files touched. Lines already in a file (counted by line
    ends) are never rewritten, like the real log server, which only ever appends.
    """
    directory.mkdir(parents=True, exist_ok=True)
    by_file: dict[str, list[str]] = {}
    for line in visible_lines(log, as_of):
        by_file.setdefault(line.file_name, []).append(line.text)
    appended = touched = 0
    for file_name, texts in by_file.items():
        path = directory / file_name
        present = path.read_bytes().count(b"\n") if path.exists() else 0
        new = texts[present:]
        if not new:
            continue
        with path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write("".join(f"{text}\n" for text in new))
        appended += len(new)
        touched += 1
    return {"events": appended, "files": touched}


def document_events(log: EventLog) -> list[DocumentEvent]:
    """The events as the system's database holds them: one row per event, in logging order."""
    rows: list[DocumentEvent] = []
    seen: set[str] = set()
    for line in log.lines:
        event = line.event
        if event is None or event.event_id in seen:
            continue  # a database keeps each event once, and never a cut-off write
        seen.add(event.event_id)
        values = asdict(event)
        values["event_time"] = timestamp(dt.datetime.fromisoformat(event.event_time))
        values["logged_at"] = line.logged_at
        rows.append(DocumentEvent(event_seq=len(rows) + 1, **values))
    return rows


def write_table(dsn: str, log: EventLog, as_of: dt.datetime) -> dict[str, int]:
    """Bring a database table ``document_events`` at ``dsn`` to its state at ``as_of``."""
    table = SqlTable(
        "document_events",
        DocumentEvent,
        "event_seq",
        "logged_at",
        document_events(log),
        timestamp_columns=("event_time",),
        date_columns=("deadline",),
    )
    return write_tables(dsn, [table], as_of)


def log_directory(paths: MaglumatPaths) -> Path:
    """The demo's log directory (the catalogue's ``demo_default``)."""
    return Path(demo_connection(SYSTEM, paths))


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the demo's log directory (under ``<MAGLUMAT_HOME>/systems``) to ``as_of``."""
    return write_log(log_directory(paths), generate(seed), as_of)
