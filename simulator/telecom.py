"""The telecommunications statistics API of the Agency of Transport and Communications, simulated.

Two operators report monthly by province: Altyn Asyr (the mobile network, voice and mobile
internet) and Türkmentelekom (fixed lines and fixed internet). Subscribers at the end of the
month and new connections per service, and the month's traffic: voice minutes and data in
terabytes. Magnitudes follow a country of some 7 million people: about 6.4 million mobile
subscriptions growing slowly, 3.6 million mobile internet users growing faster, some 690,000
fixed lines (slowly falling) and 110,000 fixed internet subscriptions, Aşgabat leading in fixed
internet; data traffic grows about 2 % a month.

The mess of the real system: each operator uploads a month at once (records share their
``updated_at``), a month arrives weeks late now and then (Altyn Asyr's June 2023 among them),
figures are corrected weeks later (same record id, next revision; a fixed-line inventory in
Lebap corrects May and June 2023 in August), and Türkmentelekom's November 2022 traffic for
Balkan never arrives (lost in a billing system migration).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from maglumat.demo import DEFAULT_AS_OF, DEFAULT_SEED
from maglumat.settings import MaglumatPaths
from simulator.api_state import (
    Collection,
    api_timestamp,
    latest_versions,
    publish_state,
    state_path,
)
from simulator.http_api import ApiServer, serve_system

SYSTEM = "telecom_statistics_api"
UTC = dt.UTC
FIRST_YEAR, LAST_YEAR = 2022, 2024
COLLECTIONS = (
    Collection("operators", id_field="operator_code"),
    Collection("subscribers", id_field="record_id"),
    Collection("traffic", id_field="record_id"),
)
PROVINCES = ("TM-S", "TM-A", "TM-B", "TM-D", "TM-L", "TM-M")
# Türkmentelekom's traffic for Balkan, November 2022: never delivered (the missing period).
MISSING_PERIOD = ("TT", "TM-B", "2022-11")
LATE_MONTH = ("AA", "2023-06")
# Türkmentelekom's fixed-line inventory in Lebap corrects two months already reported.
INVENTORIED_PERIODS = ("2023-05", "2023-06")
INVENTORY_AT = "2023-08-14T09:00:00+00:00"


@dataclass(frozen=True)
class Operator:
    operator_code: str
    name_tk: str
    name_ru: str
    name_en: str
    network: str  # mobile or fixed
    province_code: str  # head office
    updated_at: str


@dataclass(frozen=True)
class SubscriberCount:
    record_id: int
    period: str  # YYYY-MM
    province_code: str
    operator_code: str
    service: str
    subscribers: int  # at the end of the month
    new_connections: int  # during the month
    revision: int
    updated_at: str


@dataclass(frozen=True)
class TrafficVolume:
    record_id: int
    period: str
    province_code: str
    operator_code: str
    voice_minutes: int  # outgoing, during the month
    data_tb: float  # terabytes, uplink and downlink
    revision: int
    updated_at: str


@dataclass(frozen=True)
class TelecomSystem:
    """Every version of every record; ``visible_at`` gives the API's state at a moment."""

    operators: list[Operator]
    subscribers: list[SubscriberCount]
    traffic: list[TrafficVolume]

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "operators": [asdict(record) for record in self.operators],
            "subscribers": [asdict(record) for record in self.subscribers],
            "traffic": [asdict(record) for record in self.traffic],
        }


REGISTERED = "2021-11-15T07:00:00+00:00"
OPERATORS = (
    Operator(
        "AA",
        "«Altyn Asyr» ýapyk görnüşli paýdarlar jemgyýeti",
        "ЗАО «Алтын Асыр»",
        "Altyn Asyr CJSC (mobile network)",
        "mobile",
        "TM-S",
        REGISTERED,
    ),
    Operator(
        "TT",
        "«Türkmentelekom» elektrik aragatnaşyk kompaniýasy",
        "Компания электросвязи «Туркментелеком»",
        "Türkmentelekom (fixed lines and internet)",
        "fixed",
        "TM-S",
        REGISTERED,
    ),
)


@dataclass(frozen=True)
class _Service:
    operator_code: str
    service: str
    subscribers_2022_01: float  # the whole country, January 2022
    monthly_growth: float
    province_shares: tuple[float, ...]  # in the order of PROVINCES
    churn: float  # share of the base that leaves each month (and is replaced or not)


_POPULATION_SHARES = (0.17, 0.17, 0.09, 0.19, 0.19, 0.19)
SERVICES = (
    _Service("AA", "mobile", 6.4e6, 0.003, _POPULATION_SHARES, 0.015),
    _Service("AA", "mobile_internet", 3.6e6, 0.010, (0.21, 0.16, 0.09, 0.18, 0.18, 0.18), 0.02),
    _Service("TT", "fixed", 6.9e5, -0.001, (0.30, 0.14, 0.10, 0.15, 0.15, 0.16), 0.004),
    _Service("TT", "fixed_internet", 1.1e5, 0.008, (0.42, 0.13, 0.10, 0.10, 0.12, 0.13), 0.01),
)
# Use per subscriber and month: voice minutes (mobile, fixed), gigabytes (mobile, fixed).
_VOICE_MINUTES = {"AA": 140.0, "TT": 180.0}
_GIGABYTES = {"AA": 1.1, "TT": 25.0}
_DATA_GROWTH = 0.02
_VOICE_SEASON = (0.97, 0.92, 1.0, 0.99, 1.01, 1.0, 1.03, 1.04, 1.0, 1.0, 0.98, 1.06)


def _periods() -> list[tuple[int, int]]:
    return [(year, month) for year in range(FIRST_YEAR, LAST_YEAR + 1) for month in range(1, 13)]


def _next_month(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1)


def _submitted(rng: random.Random, operator: str, year: int, month: int) -> dt.datetime:
    """When an operator uploads a month: in the first week of the next, now and then late."""
    moment = dt.datetime.combine(
        _next_month(year, month) + dt.timedelta(days=rng.randint(1, 6)), dt.time(4, 0), tzinfo=UTC
    ) + dt.timedelta(minutes=rng.randint(0, 480))
    if rng.random() < 0.04 or (operator, f"{year:04d}-{month:02d}") == LATE_MONTH:
        moment += dt.timedelta(days=rng.randint(14, 24))
    return moment


def _versions(
    rng: random.Random, records: list[tuple[str, int, Any]], first: Any, order: int, fix: Any
) -> None:
    """Append ``first`` and, for some records, a correction weeks later made by ``fix``."""
    records.append((first.updated_at, order, first))
    if rng.random() < 0.04:
        corrected_at = dt.datetime.fromisoformat(first.updated_at) + dt.timedelta(
            days=rng.randint(15, 45), hours=2
        )
        correction = replace(fix(first), revision=2, updated_at=api_timestamp(corrected_at))
        records.append((correction.updated_at, order, correction))


def _numbered(drafts: list[tuple[str, int, Any]]) -> list[Any]:
    """Ids in the order the first versions were entered; corrections keep their record's id."""
    first_entered = sorted({(d[0], d[1]) for d in drafts if d[2].revision == 1})
    ids = {position: index for index, (_, position) in enumerate(first_entered, start=1)}
    return [
        replace(record, record_id=ids[position])
        for _, position, record in sorted(drafts, key=lambda d: (d[0], d[1]))
    ]


def _generate_counts(
    rng: random.Random,
) -> tuple[list[SubscriberCount], list[TrafficVolume]]:
    subscribers: list[tuple[str, int, Any]] = []
    traffic: list[tuple[str, int, Any]] = []
    order = 0
    base = {
        (service.service, province): service.subscribers_2022_01 * share
        for service in SERVICES
        for province, share in zip(PROVINCES, service.province_shares, strict=True)
    }
    for index, (year, month) in enumerate(_periods()):
        period = f"{year:04d}-{month:02d}"
        for operator in OPERATORS:
            code = operator.operator_code
            submitted = api_timestamp(_submitted(rng, code, year, month))
            services = [service for service in SERVICES if service.operator_code == code]
            for province in PROVINCES:
                for service in services:
                    previous = base[(service.service, province)]
                    current = previous * (1 + service.monthly_growth + rng.uniform(-0.002, 0.002))
                    base[(service.service, province)] = current
                    left = previous * service.churn * rng.uniform(0.8, 1.2)
                    order += 1
                    count = SubscriberCount(
                        record_id=0,
                        period=period,
                        province_code=province,
                        operator_code=code,
                        service=service.service,
                        subscribers=round(current),
                        new_connections=max(0, round(current - previous + left)),
                        revision=1,
                        updated_at=submitted,
                    )
                    _versions(
                        rng,
                        subscribers,
                        count,
                        order,
                        lambda r: replace(r, subscribers=round(r.subscribers * 1.004)),
                    )
                if (code, province, period) == MISSING_PERIOD:
                    continue
                voice_base = sum(
                    base[(s.service, province)] for s in services if "internet" not in s.service
                )
                data_base = sum(
                    base[(s.service, province)] for s in services if "internet" in s.service
                )
                order += 1
                volume = TrafficVolume(
                    record_id=0,
                    period=period,
                    province_code=province,
                    operator_code=code,
                    voice_minutes=round(
                        voice_base
                        * _VOICE_MINUTES[code]
                        * _VOICE_SEASON[month - 1]
                        * rng.uniform(0.95, 1.05)
                    ),
                    data_tb=round(
                        data_base
                        * _GIGABYTES[code]
                        * (1 + _DATA_GROWTH) ** index
                        * rng.uniform(0.93, 1.07)
                        / 1000,
                        1,
                    ),
                    revision=1,
                    updated_at=submitted,
                )
                _versions(
                    rng,
                    traffic,
                    volume,
                    order,
                    lambda r: replace(
                        r,
                        voice_minutes=round(r.voice_minutes * 0.97),
                        data_tb=round(r.data_tb * 1.03, 1),
                    ),
                )
    return _numbered(subscribers), _numbered(traffic)


def _line_inventory(subscribers: list[SubscriberCount]) -> list[SubscriberCount]:
    """Türkmentelekom's line inventory in Lebap: in August 2023 the fixed lines reported for
    May and June turn out 2.5 % too many (lines long disconnected), and both months are
    corrected."""
    latest: dict[int, SubscriberCount] = {}
    for count in subscribers:
        key = (count.operator_code, count.service, count.province_code)
        inventoried = key == ("TT", "fixed", "TM-L") and count.period in INVENTORIED_PERIODS
        if inventoried and count.updated_at < INVENTORY_AT:
            latest[count.record_id] = count
    corrections = [
        replace(
            count,
            subscribers=round(count.subscribers * 0.975),
            revision=count.revision + 1,
            updated_at=INVENTORY_AT,
        )
        for count in latest.values()
    ]
    return sorted(subscribers + corrections, key=lambda count: count.updated_at)


def generate(seed: int = DEFAULT_SEED) -> TelecomSystem:
    """Every version of every record the API will ever serve in the simulated years."""
    rng = random.Random(seed)
    subscribers, traffic = _generate_counts(rng)
    return TelecomSystem(
        operators=list(OPERATORS), subscribers=_line_inventory(subscribers), traffic=traffic
    )


def visible_at(system: TelecomSystem, as_of: dt.datetime) -> TelecomSystem:
    """What the API serves at ``as_of``: each record's latest version entered by then."""
    return TelecomSystem(
        operators=latest_versions(system.operators, "operator_code", as_of),
        subscribers=latest_versions(system.subscribers, "record_id", as_of),
        traffic=latest_versions(system.traffic, "record_id", as_of),
    )


def state_file(paths: MaglumatPaths) -> Path:
    """The file the simulated API serves from."""
    return state_path(paths, SYSTEM)


def simulate(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Bring the API's data to its state at ``as_of``; returns records added or corrected per
    collection (a second call with a later ``as_of`` adds only what was entered in between)."""
    return publish_state(
        paths, SYSTEM, visible_at(generate(seed), as_of).tables(), COLLECTIONS, as_of
    )


@contextmanager
def serve(
    paths: MaglumatPaths, as_of: dt.datetime = DEFAULT_AS_OF, seed: int = DEFAULT_SEED
) -> Iterator[ApiServer]:
    """The API at ``as_of`` on a free port of 127.0.0.1 for the duration, with the catalogue's
    URL and token variables set in ``os.environ`` (and restored afterwards)."""
    simulate(paths, as_of, seed)
    with serve_system(paths, SYSTEM, COLLECTIONS) as server:
        yield server
