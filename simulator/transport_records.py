"""The transport statistics API's records and the operators' routes (reference data).

Operators and routes are served as collections of their own; each route's profile (freight and
passengers a year, average haul and trip) is what ``simulator.transport`` generates its monthly
traffic from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    operator_code: str
    name_tk: str
    name_ru: str
    name_en: str
    mode: str
    province_code: str  # where the operator's head office is
    updated_at: str


@dataclass(frozen=True)
class Route:
    route_code: str
    operator_code: str
    mode: str
    name_tk: str
    name_en: str
    province_code: str  # where the route starts, or the region a road network serves
    destination: str
    is_international: bool
    length_km: float | None  # null for a regional road network
    updated_at: str


@dataclass(frozen=True)
class TrafficReport:
    record_id: int
    period: str  # YYYY-MM
    operator_code: str
    route_code: str
    mode: str
    freight_tonnes: float
    freight_tonne_km: float
    passengers: int
    passenger_km: float
    revision: int
    updated_at: str


@dataclass(frozen=True)
class MonthlyPlan:
    plan_id: int
    period: str
    operator_code: str
    freight_tonnes_plan: float
    freight_tonne_km_plan: float
    passengers_plan: int
    passenger_km_plan: float
    revision: int
    approved_on: str
    updated_at: str


@dataclass(frozen=True)
class RouteProfile:
    route: Route
    freight_tonnes_year: float
    haul_km: float  # average distance a tonne travels on the route
    passengers_year: float
    trip_km: float  # average passenger trip
    first_period: str = "2022-01"


REGISTERED = "2021-11-15T07:00:00+00:00"
OPERATORS = (
    Operator(
        "TDY",
        "Türkmendemirýollary agentligi",
        "Агентство «Туркменские железные дороги»",
        "Türkmendemirýollary Agency (Turkmen Railways)",
        "rail",
        "TM-S",
        REGISTERED,
    ),
    Operator(
        "TAU",
        "Türkmenawtoulaglary agentligi",
        "Агентство «Туркменавтоулаглары»",
        "Türkmenawtoulaglary Agency (state road transport)",
        "road",
        "TM-S",
        REGISTERED,
    ),
    Operator(
        "THY",
        "Türkmenhowaýollary agentligi",
        "Агентство «Туркменховаёллары»",
        "Türkmenhowaýollary Agency (Turkmenistan Airlines)",
        "air",
        "TM-S",
        REGISTERED,
    ),
    Operator(
        "TDD",
        "Türkmendeňizderýaýollary agentligi",
        "Агентство «Туркмендениздерьяёллары»",
        "Türkmendeňizderýaýollary Agency (sea and river transport)",
        "sea",
        "TM-B",
        REGISTERED,
    ),
)


def _route(
    code: str,
    operator: str,
    mode: str,
    names: tuple[str, str],
    province: str,
    destination: str,
    international: bool,
    length_km: float | None,
    updated_at: str = REGISTERED,
) -> Route:
    return Route(
        code,
        operator,
        mode,
        names[0],
        names[1],
        province,
        destination,
        international,
        length_km,
        updated_at,
    )


# fmt: off
PROFILES = (
    # Rail: Türkmendemirýollary's lines; freight peaks with the cotton and grain autumn.
    RouteProfile(
        _route("RW-01", "TDY", "rail", ("Aşgabat – Türkmenbaşy", "Ashgabat – Turkmenbashy"),
               "TM-S", "Türkmenbaşy", False, 550.0),
        5.0e6, 420, 1.40e6, 380,
    ),
    RouteProfile(
        _route("RW-02", "TDY", "rail",
               ("Aşgabat – Mary – Türkmenabat", "Ashgabat – Mary – Turkmenabat"),
               "TM-S", "Türkmenabat", False, 570.0),
        6.5e6, 350, 2.00e6, 320,
    ),
    RouteProfile(
        _route("RW-03", "TDY", "rail", ("Türkmenabat – Daşoguz", "Turkmenabat – Dashoguz"),
               "TM-L", "Daşoguz", False, 480.0),
        3.5e6, 300, 1.10e6, 330,
    ),
    RouteProfile(
        _route("RW-04", "TDY", "rail",
               ("Serhetýaka – Bereket – Etrek", "Serhetyaka – Bereket – Etrek (North–South)"),
               "TM-B", "Gazagystan – Eýran", True, 700.0),
        3.0e6, 650, 0.30e6, 250,
    ),
    RouteProfile(
        _route("RW-05", "TDY", "rail", ("Mary – Serhetabat – Turgundy", "Mary – Serhetabat – "
               "Torghundi"), "TM-M", "Owganystan", True, 320.0),
        1.5e6, 300, 0.05e6, 200,
    ),
    RouteProfile(
        _route("RW-06", "TDY", "rail", ("Kerki – Ymamnazar – Akina", "Kerki – Imamnazar – Aqina"),
               "TM-L", "Owganystan", True, 88.0),
        1.0e6, 85, 0.0, 0,
    ),
    RouteProfile(
        _route("RW-07", "TDY", "rail", ("Farap – Türkmenabat – Sarahs (tranzit)",
               "Farap – Turkmenabat – Sarahs (transit)"), "TM-L", "Özbegistan – Eýran", True,
               620.0),
        3.5e6, 560, 0.65e6, 120,
    ),
    # Road: Türkmenawtoulaglary's buses and lorries, by region; Aşgabat's city buses lead.
    RouteProfile(
        _route("RD-01", "TAU", "road", ("Aşgabat şäher awtobuslary", "Ashgabat city buses"),
               "TM-S", "Aşgabat", False, None),
        0.5e6, 15, 150e6, 8,
    ),
    RouteProfile(
        _route("RD-02", "TAU", "road", ("Ahal welaýaty", "Ahal province network"),
               "TM-A", "Ahal welaýaty", False, None),
        6.0e6, 40, 45e6, 25,
    ),
    RouteProfile(
        _route("RD-03", "TAU", "road", ("Balkan welaýaty", "Balkan province network"),
               "TM-B", "Balkan welaýaty", False, None),
        5.0e6, 60, 20e6, 30,
    ),
    RouteProfile(
        _route("RD-04", "TAU", "road", ("Daşoguz welaýaty", "Dashoguz province network"),
               "TM-D", "Daşoguz welaýaty", False, None),
        6.0e6, 35, 40e6, 22,
    ),
    RouteProfile(
        _route("RD-05", "TAU", "road", ("Lebap welaýaty", "Lebap province network"),
               "TM-L", "Lebap welaýaty", False, None),
        6.0e6, 35, 40e6, 22,
    ),
    RouteProfile(
        _route("RD-06", "TAU", "road", ("Mary welaýaty", "Mary province network"),
               "TM-M", "Mary welaýaty", False, None),
        7.0e6, 35, 45e6, 22,
    ),
    RouteProfile(
        _route("RD-07", "TAU", "road", ("Şäherara we halkara gatnawlar",
               "Intercity and international lines"), "TM-S", "Welaýatlar we daşary ýurtlar",
               True, None),
        2.0e6, 500, 6e6, 300,
    ),
    # Air: Türkmenhowaýollary; international routes resume one by one after 2021.
    RouteProfile(
        _route("AV-01", "THY", "air", ("Aşgabat – Türkmenbaşy", "Ashgabat – Turkmenbashy"),
               "TM-S", "Türkmenbaşy", False, 520.0),
        1200, 520, 260e3, 520,
    ),
    RouteProfile(
        _route("AV-02", "THY", "air", ("Aşgabat – Mary", "Ashgabat – Mary"),
               "TM-S", "Mary", False, 350.0),
        900, 350, 230e3, 350,
    ),
    RouteProfile(
        _route("AV-03", "THY", "air", ("Aşgabat – Türkmenabat", "Ashgabat – Turkmenabat"),
               "TM-S", "Türkmenabat", False, 500.0),
        1000, 500, 250e3, 500,
    ),
    RouteProfile(
        _route("AV-04", "THY", "air", ("Aşgabat – Daşoguz", "Ashgabat – Dashoguz"),
               "TM-S", "Daşoguz", False, 480.0),
        1100, 480, 300e3, 480,
    ),
    RouteProfile(
        _route("AV-05", "THY", "air", ("Aşgabat – Balkanabat", "Ashgabat – Balkanabat"),
               "TM-S", "Balkanabat", False, 400.0),
        300, 400, 90e3, 400,
    ),
    RouteProfile(
        _route("AV-06", "THY", "air", ("Aşgabat – Stambul", "Ashgabat – Istanbul"),
               "TM-S", "Stambul (Türkiýe)", True, 2700.0),
        2500, 2700, 150e3, 2700, "2022-04",
    ),
    RouteProfile(
        _route("AV-07", "THY", "air", ("Aşgabat – Moskwa", "Ashgabat – Moscow"),
               "TM-S", "Moskwa (Russiýa)", True, 2500.0, "2023-03-20T09:30:00+00:00"),
        1800, 2500, 110e3, 2500, "2023-04",
    ),
    RouteProfile(
        _route("AV-08", "THY", "air", ("Aşgabat – Dubaý", "Ashgabat – Dubai"),
               "TM-S", "Dubaý (BAE)", True, 1500.0),
        2000, 1500, 90e3, 1500, "2022-09",
    ),
    RouteProfile(
        _route("AV-09", "THY", "air", ("Aşgabat – Frankfurt", "Ashgabat – Frankfurt"),
               "TM-S", "Frankfurt (Germaniýa)", True, 4200.0),
        900, 4200, 40e3, 4200, "2022-10",
    ),
    # Sea and river: the Caspian ferries and tankers from Türkmenbaşy, the Amyderýa fleet.
    RouteProfile(
        _route("SE-01", "TDD", "sea", ("Türkmenbaşy – Baku", "Turkmenbashy – Baku"),
               "TM-B", "Baku (Azerbaýjan)", True, 300.0),
        2.0e6, 300, 40e3, 300,
    ),
    RouteProfile(
        _route("SE-02", "TDD", "sea", ("Türkmenbaşy – Mahaçkala", "Turkmenbashy – Makhachkala"),
               "TM-B", "Mahaçkala (Russiýa)", True, 430.0),
        0.6e6, 430, 0.0, 0,
    ),
    RouteProfile(
        _route("SE-03", "TDD", "sea", ("Türkmenbaşy – Astrahan (Olýa)",
               "Turkmenbashy – Astrakhan (Olya)"), "TM-B", "Olýa (Russiýa)", True, 800.0),
        0.5e6, 800, 0.0, 0,
    ),
    RouteProfile(
        _route("SE-04", "TDD", "sea", ("Türkmenbaşy – Aktau", "Turkmenbashy – Aktau"),
               "TM-B", "Aktau (Gazagystan)", True, 250.0),
        0.3e6, 250, 8e3, 250,
    ),
    RouteProfile(
        _route("RV-05", "TDD", "river", ("Amyderýa derýa floty", "Amu Darya river fleet"),
               "TM-L", "Lebap welaýaty", False, 260.0),
        0.4e6, 120, 15e3, 20,
    ),
)
# fmt: on
