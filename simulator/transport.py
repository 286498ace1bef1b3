"""The transport statistics API of the Agency of Transport and Communications, simulated.

The four state transport operators report monthly, route by route (rail lines, regional road
networks, air routes, sea and river lines): freight carried (tonnes, tonne-km) and passengers
(passengers, passenger-km); the agency enters each operator's monthly plan. Magnitudes are of
the order of the published ones: rail some 24 Mt of freight and 5.5 million passengers a year,
the state road carrier some 30 Mt and 350 million passengers (Aşgabat's buses carry most),
Türkmenhowaýollary 1.1 million domestic passengers with international routes resuming from
2022, the Caspian ferries and tankers some 4 Mt.

The mess of the real system: an operator uploads a month at once (records share their
``updated_at``), some months arrive weeks late, figures are corrected weeks later (same record
id, next revision, later ``updated_at``), plans are revised mid-year, and one river line's
February 2023 never arrives. The API serves the state at a moment from a state file
(``simulate``); ``serve`` runs it on 127.0.0.1 for the demo.
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
from simulator.transport_records import (
    OPERATORS,
    PROFILES,
    MonthlyPlan,
    Operator,
    Route,
    RouteProfile,
    TrafficReport,
)

SYSTEM = "transport_statistics_api"
UTC = dt.UTC
FIRST_YEAR, LAST_YEAR = 2022, 2024  # periods generated; what is visible depends on as_of
COLLECTIONS = (
    Collection("operators", id_field="operator_code"),
    Collection("routes", id_field="route_code"),
    Collection("traffic", id_field="record_id"),
    Collection("plans", id_field="plan_id"),
)
# The river line whose February 2023 report never arrives (the missing period).
MISSING_PERIOD = ("RV-05", "2023-02")


@dataclass(frozen=True)
class TransportSystem:
    """Every version of every record; ``visible_at`` gives the API's state at a moment."""

    operators: list[Operator]
    routes: list[Route]
    traffic: list[TrafficReport]
    plans: list[MonthlyPlan]

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "operators": [asdict(record) for record in self.operators],
            "routes": [asdict(record) for record in self.routes],
            "traffic": [asdict(record) for record in self.traffic],
            "plans": [asdict(record) for record in self.plans],
        }


# Monthly profiles (January first), as shares around 1 of an average month.
_FREIGHT_SEASON = {
    "rail": (0.90, 0.90, 0.97, 1.00, 1.00, 0.98, 0.98, 1.00, 1.08, 1.12, 1.10, 0.97),
    "road": (0.90, 0.92, 1.00, 1.05, 1.05, 1.02, 1.00, 1.02, 1.05, 1.05, 1.00, 0.94),
    "air": (0.95, 0.92, 1.00, 1.00, 1.02, 1.05, 1.05, 1.05, 1.00, 1.00, 0.98, 0.98),
    "sea": (0.85, 0.85, 0.95, 1.05, 1.10, 1.10, 1.10, 1.08, 1.05, 1.00, 0.95, 0.92),
    "river": (0.80, 0.85, 1.00, 1.10, 1.15, 1.10, 1.05, 1.05, 1.10, 1.05, 0.95, 0.80),
}
_PASSENGER_SEASON = {
    "rail": (0.85, 0.80, 0.90, 0.95, 1.00, 1.20, 1.30, 1.30, 1.00, 0.95, 0.90, 0.85),
    "road": (0.95, 0.95, 1.00, 1.00, 1.00, 0.98, 0.95, 0.95, 1.05, 1.05, 1.05, 1.07),
    "air": (0.80, 0.75, 0.90, 0.95, 1.05, 1.25, 1.35, 1.35, 1.05, 0.95, 0.85, 0.75),
    "sea": (0.60, 0.60, 0.80, 1.00, 1.20, 1.40, 1.50, 1.40, 1.10, 0.90, 0.70, 0.80),
    "river": (0.60, 0.70, 0.90, 1.10, 1.20, 1.30, 1.30, 1.30, 1.10, 1.00, 0.80, 0.70),
}
_GROWTH = {2022: 1.0, 2023: 1.045, 2024: 1.08}


def _periods() -> list[tuple[int, int]]:
    return [(year, month) for year in range(FIRST_YEAR, LAST_YEAR + 1) for month in range(1, 13)]


def _period_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _next_month(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1)


def _season(table: dict[str, tuple[float, ...]], mode: str, month: int) -> float:
    profile = table[mode]
    return profile[month - 1] * 12 / sum(profile)


def _baseline(profile: RouteProfile, year: int, month: int) -> tuple[float, float]:
    """The expected month of a route (freight tonnes, passengers), before chance."""
    mode = profile.route.mode
    growth = _GROWTH[year] * (1.08 if mode == "air" and year >= 2023 else 1.0)
    freight = profile.freight_tonnes_year / 12 * _season(_FREIGHT_SEASON, mode, month) * growth
    passengers = profile.passengers_year / 12 * _season(_PASSENGER_SEASON, mode, month) * growth
    return freight, passengers


def _is_operating(profile: RouteProfile, year: int, month: int) -> bool:
    return _period_text(year, month) >= profile.first_period


def _traffic(rng: random.Random) -> list[TrafficReport]:
    drafts: list[tuple[str, int, TrafficReport]] = []  # (updated_at, order, version)
    order = 0
    for year, month in _periods():
        period = _period_text(year, month)
        for operator in OPERATORS:
            profiles = [
                p
                for p in PROFILES
                if p.route.operator_code == operator.operator_code
                and _is_operating(p, year, month)
                and (p.route.route_code, period) != MISSING_PERIOD
            ]
            # The operator uploads the month at once, in the first days of the next month;
            # now and then weeks late (Türkmenhowaýollary's August 2023 among them).
            due = _next_month(year, month)
            submitted = dt.datetime.combine(
                due + dt.timedelta(days=rng.randint(2, 7)), dt.time(5, 0), tzinfo=UTC
            ) + dt.timedelta(minutes=rng.randint(0, 420))
            if rng.random() < 0.05 or (operator.operator_code, period) == ("THY", "2023-08"):
                submitted += dt.timedelta(days=rng.randint(12, 22))
            for profile in profiles:
                freight, passengers = _baseline(profile, year, month)
                tonnes = round(freight * rng.uniform(0.94, 1.06), 1)
                travellers = round(passengers * rng.uniform(0.94, 1.06))
                report = TrafficReport(
                    record_id=0,
                    period=period,
                    operator_code=operator.operator_code,
                    route_code=profile.route.route_code,
                    mode=profile.route.mode,
                    freight_tonnes=tonnes,
                    freight_tonne_km=round(tonnes * profile.haul_km * rng.uniform(0.97, 1.03)),
                    passengers=travellers,
                    passenger_km=round(travellers * profile.trip_km * rng.uniform(0.97, 1.03)),
                    revision=1,
                    updated_at=api_timestamp(submitted),
                )
                order += 1
                drafts.append((report.updated_at, order, report))
                if rng.random() < 0.04:  # corrected weeks later: same record, next revision
                    factor = rng.uniform(0.93, 1.07)
                    corrected = submitted + dt.timedelta(days=rng.randint(15, 50), hours=3)
                    tonnes_fixed = round(report.freight_tonnes * factor, 1)
                    people_fixed = round(report.passengers * rng.uniform(0.97, 1.03))
                    correction = replace(
                        report,
                        freight_tonnes=tonnes_fixed,
                        freight_tonne_km=round(report.freight_tonne_km * factor),
                        passengers=people_fixed,
                        passenger_km=round(
                            report.passenger_km * people_fixed / max(report.passengers, 1)
                        ),
                        revision=2,
                        updated_at=api_timestamp(corrected),
                    )
                    drafts.append((correction.updated_at, order, correction))
    # Record ids are given in the order the first versions were entered, as a database would.
    first_entered = sorted({(d[2].updated_at, d[1]) for d in drafts if d[2].revision == 1})
    ids = {position: index for index, (_, position) in enumerate(first_entered, start=1)}
    return [
        replace(report, record_id=ids[position])
        for _, position, report in sorted(drafts, key=lambda d: (d[0], d[1]))
    ]


def _plans() -> list[MonthlyPlan]:
    drafts: list[MonthlyPlan] = []
    for year, month in _periods():
        period = _period_text(year, month)
        for operator in OPERATORS:
            freight = tonne_km = passengers = passenger_km = 0.0
            for profile in PROFILES:
                if profile.route.operator_code != operator.operator_code or not _is_operating(
                    profile, year, month
                ):
                    continue
                route_freight, route_passengers = _baseline(profile, year, month)
                freight += route_freight * 1.03  # plans ask a little more than the trend
                tonne_km += route_freight * 1.03 * profile.haul_km
                passengers += route_passengers * 1.02
                passenger_km += route_passengers * 1.02 * profile.trip_km
            approved = dt.date(year - 1, 12, 18)
            drafts.append(
                MonthlyPlan(
                    plan_id=0,
                    period=period,
                    operator_code=operator.operator_code,
                    freight_tonnes_plan=round(freight, -2),
                    freight_tonne_km_plan=round(tonne_km, -3),
                    passengers_plan=int(round(passengers, -2)),
                    passenger_km_plan=round(passenger_km, -3),
                    revision=1,
                    approved_on=approved.isoformat(),
                    updated_at=api_timestamp(dt.datetime(year - 1, 12, 20, 10, tzinfo=UTC)),
                )
            )
    plans = [replace(plan, plan_id=index) for index, plan in enumerate(drafts, start=1)]
    revised: list[MonthlyPlan] = []
    for plan in plans:
        # Mid-2023 review: more air passengers for the second half, less rail freight in Q4.
        if plan.operator_code == "THY" and "2023-07" <= plan.period <= "2023-12":
            revised.append(
                replace(
                    plan,
                    passengers_plan=int(round(plan.passengers_plan * 1.08, -2)),
                    passenger_km_plan=round(plan.passenger_km_plan * 1.08, -3),
                    revision=2,
                    approved_on="2023-07-10",
                    updated_at=api_timestamp(dt.datetime(2023, 7, 11, 6, tzinfo=UTC)),
                )
            )
        if plan.operator_code == "TDY" and "2023-10" <= plan.period <= "2023-12":
            revised.append(
                replace(
                    plan,
                    freight_tonnes_plan=round(plan.freight_tonnes_plan * 0.97, -2),
                    freight_tonne_km_plan=round(plan.freight_tonne_km_plan * 0.97, -3),
                    revision=2,
                    approved_on="2023-09-14",
                    updated_at=api_timestamp(dt.datetime(2023, 9, 15, 7, tzinfo=UTC)),
                )
            )
    return sorted(plans + revised, key=lambda plan: (plan.updated_at, plan.plan_id))


def generate(seed: int = DEFAULT_SEED) -> TransportSystem:
    """Every version of every record the API will ever serve in the simulated years."""
    rng = random.Random(seed)
    return TransportSystem(
        operators=list(OPERATORS),
        routes=[profile.route for profile in PROFILES],
        traffic=_traffic(rng),
        plans=_plans(),
    )


def visible_at(system: TransportSystem, as_of: dt.datetime) -> TransportSystem:
    """What the API serves at ``as_of``: each record's latest version entered by then."""
    return TransportSystem(
        operators=latest_versions(system.operators, "operator_code", as_of),
        routes=latest_versions(system.routes, "route_code", as_of),
        traffic=latest_versions(system.traffic, "record_id", as_of),
        plans=latest_versions(system.plans, "plan_id", as_of),
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
