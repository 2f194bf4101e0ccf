"""The demo city's public transport: lines on the OSM streets, stops, and a seeded timetable.

Pure data generation; :mod:`scenarios.demo.gtfs` writes it as GTFS and :mod:`scenarios.demo.sumo` turns the
morning buses into SUMO vehicles.
"""

from __future__ import annotations

import itertools
import math
import random
import tomllib
from dataclasses import dataclass, field
from importlib import resources

from scenarios.demo.city import RAILWAY_Y_M, City

HBF_STATION_ID = "hbf"
HBF_NAME = "Knotenstadt Hbf"
BUS_SPEED_M_S = 6.5  # scheduled running speed including signals, excluding dwell
BUS_DWELL_S = 20
STOP_SPACING_M = 300.0
SHARED_STOP_SPACING_M = 200.0
MIN_STOP_SEGMENT_M = 100.0
STOP_OFFSET_M = 7.0  # kerb offset to the right of the street centre line


@dataclass(frozen=True)
class Stop:
    """A boarding position; bus stops lie on a directed street segment ``(from_node, to_node)``."""

    stop_id: str
    name: str
    x_m: float
    y_m: float
    segment: tuple[int, int] | None  # None for rail platforms and stations
    fraction: float  # position along the segment, 0..1
    parent_station: str | None = None
    platform_code: str | None = None


@dataclass(frozen=True)
class Pattern:
    """One direction of a line: a node path through the city and its stops in order."""

    pattern_id: str
    line_id: str
    direction_id: int
    headsign: str
    path: tuple[int, ...]
    shape_xy: tuple[tuple[float, float], ...]
    stop_ids: tuple[str, ...]
    stop_offsets_s: tuple[tuple[int, int], ...]  # (arrival, departure) relative to the first departure


@dataclass(frozen=True)
class Line:
    """A GTFS route."""

    line_id: str
    short_name: str
    long_name: str
    route_type: int  # 3 bus, 2 rail
    color: str
    text_color: str


@dataclass(frozen=True)
class Trip:
    """A timetabled trip (or, with ``frequencies``, a frequency template)."""

    trip_id: str
    pattern_id: str
    service_id: str
    first_departure_s: int
    frequencies: tuple[tuple[int, int, int], ...] = ()  # (start_s, end_s, headway_s)


@dataclass
class TransitPlan:
    """Lines, stops, patterns and trips of the demo city."""

    lines: list[Line] = field(default_factory=list)
    stops: dict[str, Stop] = field(default_factory=dict)
    patterns: dict[str, Pattern] = field(default_factory=dict)
    trips: list[Trip] = field(default_factory=list)


BusLineSpec = tuple[str, str, str, str, tuple[str, ...], tuple[str, str]]
"""line id, name, colour, text colour, waypoint landmarks (direction 0), headsigns (dir 0, dir 1)"""


def _bus_lines() -> tuple[BusLineSpec, ...]:
    """The bus lines of ``layout.toml`` (data beside this module)."""
    text = resources.files(__package__).joinpath("layout.toml").read_text(encoding="utf-8")
    return tuple(
        (
            str(line["id"]),
            str(line["name"]),
            str(line["color"]),
            str(line["text_color"]),
            tuple(str(w) for w in line["waypoints"]),
            (str(line["headsigns"][0]), str(line["headsigns"][1])),
        )
        for line in tomllib.loads(text)["bus_lines"]
    )


BUS_LINES: tuple[BusLineSpec, ...] = _bus_lines()
FREQUENCY_LINE = "1"
RAIL_LINE = ("RB42", "RB 42", "Westheim – Knotenstadt Hbf – Osterfeld", "2A2D34", "FFFFFF")
RAIL_STATIONS = (
    (-4000.0, "Westheim"),
    (-2000.0, "Knotenstadt West"),
    (0.0, HBF_NAME),
    (2000.0, "Knotenstadt Ost"),
    (4000.0, "Osterfeld"),
)
HBF_BUS_PLATFORMS = {"west": "A", "east": "B", "north": "C", "south": "D"}

# service windows: (first departure, last departure, headway) per service id
BUS_SERVICE: dict[str, tuple[int, int, int]] = {
    "WD": (5 * 3600, 23 * 3600 + 40 * 60, 20 * 60),
    "SA": (6 * 3600, 23 * 3600 + 30 * 60, 30 * 60),
    "SU": (8 * 3600, 22 * 3600, 60 * 60),
}
FREQUENCY_WINDOWS = (
    (5 * 3600, 6 * 3600, 1200),
    (6 * 3600, 9 * 3600, 600),
    (9 * 3600, 15 * 3600, 1200),
    (15 * 3600, 19 * 3600, 600),
    (19 * 3600, 24 * 3600, 1200),
)
NIGHT_TRIPS = {"2": ("WD", "SA"), "4": ("SA",)}  # one departure at 24:30 on these services
NIGHT_DEPARTURE_S = 24 * 3600 + 30 * 60
RAIL_SERVICE: dict[str, tuple[int, int, int]] = {
    "WD": (5 * 3600 + 10 * 60, 24 * 3600 + 10 * 60, 3600),
    "SA": (6 * 3600 + 10 * 60, 24 * 3600 + 10 * 60, 3600),
    "SU": (7 * 3600 + 10 * 60, 23 * 3600 + 10 * 60, 3600),
}


def _ceil_minute(t: float) -> int:
    return math.ceil(t / 60.0 - 1e-9) * 60


def _offsets(distances_m: list[float], speed_m_s: float, dwell_s: int) -> list[tuple[int, int]]:
    """Whole-minute (arrival, departure) offsets from cumulative stop distances."""
    out: list[tuple[int, int]] = [(0, 0)]
    clock = 0.0
    for i in range(1, len(distances_m)):
        clock += (distances_m[i] - distances_m[i - 1]) / speed_m_s
        arr = max(_ceil_minute(clock), out[-1][1] + 60)
        dep = arr if i == len(distances_m) - 1 else _ceil_minute(arr + dwell_s) if dwell_s >= 60 else arr
        out.append((arr, dep))
        clock = max(clock + dwell_s, dep)
    return out


def _right_offset(city: City, a: int, b: int, frac: float, offset_m: float) -> tuple[float, float]:
    ax, ay = city.xy(a)
    bx, by = city.xy(b)
    length = math.hypot(bx - ax, by - ay)
    nx, ny = (by - ay) / length, -(bx - ax) / length
    return (round(ax + frac * (bx - ax) + offset_m * nx, 2), round(ay + frac * (by - ay) + offset_m * ny, 2))


def _incoming_side(city: City, a: int, hub: int) -> str:
    ax, ay = city.xy(a)
    hx, hy = city.xy(hub)
    if abs(ax - hx) >= abs(ay - hy):
        return "west" if ax < hx else "east"
    return "south" if ay < hy else "north"


class _BusStops:
    """The bus stops of the plan, one per street segment, numbered in the order lines ask for them."""

    def __init__(self, city: City, plan: TransitPlan, hub: int) -> None:
        self.city = city
        self.plan = plan
        self.hub = hub
        self.on_segment: dict[tuple[int, int], str] = {}
        self._used_names: dict[str, frozenset[int]] = {}
        self._count = 0

    def name(self, a: int, b: int) -> str:
        """The stop's name: its junction's, with a direction when another segment has that name."""
        city = self.city
        key = frozenset((a, b))
        candidates = sorted((a, b), key=lambda n: ("/" in city.junction_names.get(n, "/"), n))
        base = city.junction_names.get(candidates[0], "Haltestelle")
        if self._used_names.setdefault(base, key) == key:
            return base
        (bx, by), (ox, oy) = city.xy(candidates[0]), city.xy(candidates[1])
        dx, dy = ox - bx, oy - by
        suffix = ("Ost" if dx > 0 else "West") if abs(dx) >= abs(dy) else ("Nord" if dy > 0 else "Süd")
        name = f"{base} {suffix}"
        self._used_names.setdefault(name, key)
        return name

    def on(self, a: int, b: int, frac: float) -> str:
        """The stop on segment ``a -> b`` (at ``frac`` of it when new); at the hub, a platform."""
        if (a, b) in self.on_segment:
            return self.on_segment[a, b]
        if b == self.hub:
            side = _incoming_side(self.city, a, self.hub)
            code = HBF_BUS_PLATFORMS[side]
            sid = f"hbf-bus-{code.lower()}"
            x, y = _right_offset(self.city, a, b, frac, STOP_OFFSET_M)
            self.plan.stops[sid] = Stop(sid, HBF_NAME, x, y, (a, b), frac, HBF_STATION_ID, code)
        else:
            self._count += 1
            sid = f"bus-{self._count:03d}"
            x, y = _right_offset(self.city, a, b, frac, STOP_OFFSET_M)
            self.plan.stops[sid] = Stop(sid, self.name(a, b), x, y, (a, b), frac)
        self.on_segment[a, b] = sid
        return sid


def build_transit(city: City, seed: int) -> TransitPlan:
    """Lay the bus lines and the regional railway onto ``city`` and build their timetable.

    Lines are laid in a fixed order, which fixes the stop ids and the seeded random draws: the
    feed is reproducible byte for byte.
    """
    rng = random.Random(seed * 7919 + 1)
    plan = TransitPlan()
    hub = city.landmarks["station_0"]
    hbf_x, hbf_y = city.xy(city.landmarks["hbf"])
    plan.stops[HBF_STATION_ID] = Stop(HBF_STATION_ID, HBF_NAME, hbf_x, hbf_y, None, 0.0)
    stops = _BusStops(city, plan, hub)
    for idx, (line_id, long_name, color, text_color, waypoints, headsigns) in enumerate(BUS_LINES):
        plan.lines.append(Line(line_id, line_id, long_name, 3, color, text_color))
        forward = city.path_through([city.landmarks[w] for w in waypoints])
        backward = city.path_through([city.landmarks[w] for w in reversed(waypoints)])
        for direction, path in enumerate((forward, backward)):
            stop_ids, dists = _lay_stops(city, stops, path)
            pattern_id = f"{line_id}-{direction}"
            plan.patterns[pattern_id] = Pattern(
                pattern_id,
                line_id,
                direction,
                headsigns[direction],
                tuple(path),
                tuple(city.xy(n) for n in path),
                tuple(stop_ids),
                tuple(_offsets(dists, BUS_SPEED_M_S, BUS_DWELL_S)),
            )
        offset_s = (idx * 3 + rng.randrange(0, 3)) * 60
        plan.trips.extend(_bus_trips(line_id, offset_s))
    _add_rail(city, plan)
    return plan


def _lay_stops(city: City, stops: _BusStops, path: list[int]) -> tuple[list[str], list[float]]:
    """The stops of one direction along ``path`` and their distances from its start (metres).

    A stop on the first and last segment and at the hub, else every ``STOP_SPACING_M`` on long
    enough segments; a segment another line stops on is reused when far enough from the last stop.
    """
    segs = list(itertools.pairwise(path))
    cum = 0.0
    last_stop_at = -math.inf
    stop_ids: list[str] = []
    dists: list[float] = []
    for k, (a, b) in enumerate(segs):
        length = city.dist_m(a, b)
        first, last = k == 0, k == len(segs) - 1
        if b == stops.hub:
            frac = 0.6
        elif first:
            frac = 0.3
        elif last:
            frac = 0.7
        else:
            frac = 0.5
        pos = cum + frac * length
        gap = pos - last_stop_at
        want = (
            b == stops.hub
            or first
            or last
            or (length >= MIN_STOP_SEGMENT_M and gap >= STOP_SPACING_M)
            or ((a, b) in stops.on_segment and gap >= SHARED_STOP_SPACING_M)
        )
        if want and (length >= MIN_STOP_SEGMENT_M or b == stops.hub) and gap >= 120.0:
            if (a, b) in stops.on_segment:
                frac = stops.plan.stops[stops.on_segment[a, b]].fraction
                pos = cum + frac * length
            stop_ids.append(stops.on(a, b, frac))
            dists.append(pos)
            last_stop_at = pos
        cum += length
    return stop_ids, dists


def _bus_trips(line_id: str, offset_s: int) -> list[Trip]:
    """The trips of one bus line in both directions on every service, plus its night trips."""
    trips: list[Trip] = []
    for service_id, (first_s, last_s, headway_s) in BUS_SERVICE.items():
        for direction in (0, 1):
            pattern_id = f"{line_id}-{direction}"
            if line_id == FREQUENCY_LINE and service_id == "WD":
                trips.append(
                    Trip(
                        f"{line_id}-{service_id}-{direction}-freq",
                        pattern_id,
                        service_id,
                        FREQUENCY_WINDOWS[0][0] + direction * 300,
                        tuple((s + direction * 300, e + direction * 300, h) for s, e, h in FREQUENCY_WINDOWS),
                    )
                )
                continue
            t = first_s + offset_s + direction * (headway_s // 2)
            while t <= last_s + offset_s:
                trips.append(
                    Trip(f"{line_id}-{service_id}-{direction}-{t // 60:04d}", pattern_id, service_id, t)
                )
                t += headway_s
    for service_id in NIGHT_TRIPS.get(line_id, ()):
        trips.append(Trip(f"{line_id}-{service_id}-0-night", f"{line_id}-0", service_id, NIGHT_DEPARTURE_S))
    return trips


def _add_rail(city: City, plan: TransitPlan) -> None:
    line_id, short, long_name, color, text_color = RAIL_LINE
    plan.lines.append(Line(line_id, short, long_name, 2, color, text_color))
    for code, dy in (("1", 6.0), ("2", -6.0)):
        plan.stops[f"hbf-rail-{code}"] = Stop(
            f"hbf-rail-{code}", HBF_NAME, 0.0, RAILWAY_Y_M + dy, None, 0.0, HBF_STATION_ID, code
        )
    for x, name in RAIL_STATIONS:
        if x != 0.0:
            sid = "rail-" + name.lower().replace(" ", "-")
            plan.stops[sid] = Stop(sid, name, x, RAILWAY_Y_M + 8.0, None, 0.0)
    west = city.landmarks["rail_west"]
    east = city.landmarks["rail_east"]
    rail_way = next(w for w in city.ways if w.tag("railway") == "rail")
    path = list(rail_way.node_ids)
    assert path[0] == west and path[-1] == east
    for direction, stations in enumerate((RAIL_STATIONS, RAIL_STATIONS[::-1])):
        stop_ids = []
        for x, name in stations:
            if x == 0.0:
                stop_ids.append("hbf-rail-1" if direction == 0 else "hbf-rail-2")
            else:
                stop_ids.append("rail-" + name.lower().replace(" ", "-"))
        offsets = []
        for k in range(len(stations)):
            arr = k * 4 * 60 + (60 if k > 2 else 0)
            dep = arr + 60 if k == 2 else arr
            offsets.append((arr, dep))
        nodes = path if direction == 0 else path[::-1]
        pattern_id = f"{line_id}-{direction}"
        plan.patterns[pattern_id] = Pattern(
            pattern_id,
            line_id,
            direction,
            stations[-1][1],
            tuple(nodes),
            tuple(city.xy(n) for n in nodes),
            tuple(stop_ids),
            tuple(offsets),
        )
    for service_id, (first_s, last_s, headway_s) in RAIL_SERVICE.items():
        for direction in (0, 1):
            t = first_s + direction * 1800
            while t <= last_s:
                plan.trips.append(
                    Trip(
                        f"{line_id}-{service_id}-{direction}-{t // 60:04d}",
                        f"{line_id}-{direction}",
                        service_id,
                        t,
                    )
                )
                t += headway_s
