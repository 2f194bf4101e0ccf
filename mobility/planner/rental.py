"""Rental legs (GBFS bikes, scooters and cars) and own-car legs (to a free charger for EVs).

Docked and station-based rentals start at a station that has a vehicle of the right form factor
available; free-floating rentals start at an available vehicle where the system's geofencing
zones allow starting a ride.  Where a rental may end follows the vehicle type's GBFS
``return_constraint`` (:func:`return_rule`):

* ``any_station``: at a station of the same system that takes returns and has room: a free dock
  (bikes need ``num_docks_available > 0``), for cars a free space (``num_docks_available``, else
  ``capacity`` minus the vehicles there; a station that gives neither is taken at its word
  ``is_returning``);
* ``roundtrip_station``: only at the station the vehicle was taken from (its home station).  Most
  German station-based car sharing works this way; a one-way door-to-door trip cannot end there,
  so such cars are not offered (the "no route" reason says why);
* ``free_floating``: at the street node nearest the destination where the geofencing zones allow
  ending a ride (and do not ask for station parking);
* ``hybrid``: either of the last two kinds of place.

Without a ``return_constraint`` a vehicle taken at a station is ``any_station``, one with a
``home_station_id`` is ``roundtrip_station`` and a free vehicle is ``free_floating``.  An own
electric car ends at an EVSE whose status is AVAILABLE and that has a fitting connector with
enough power, then the traveller walks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from charging.points import Location
from mobility.planner.itinerary import Itinerary, Leg, LegTime, Place, rfc3339
from mobility.planner.query import EV_CONNECTORS
from mobility.planner.streets import Anchor, Tree, walk_seconds
from mobility.streets.graph import haversine_m
from mobility.streets.profiles import BIKE_SPEED_MPS

if TYPE_CHECKING:
    from mobility.planner.plan import Context, Planner

FORM_FACTORS = {
    "bike_share": frozenset({"bicycle", "cargo_bicycle", "scooter_standing", "scooter_seated", "scooter"}),
    "car_share": frozenset({"car"}),
}
LEG_MODE = {"bike_share": "BIKE_SHARE", "car_share": "CAR_SHARE"}
PROFILE = {"bike_share": "bike", "car_share": "car"}
#: seconds to unlock and to return a vehicle
PICKUP_S = {"bike_share": 60, "car_share": 120}
DROPOFF_S = {"bike_share": 60, "car_share": 120}
MAX_PICKUPS = 3
MAX_RIDE_S = 3 * 3600
#: GBFS ``return_constraint`` values
RETURN_RULES = ("free_floating", "roundtrip_station", "any_station", "hybrid")


@dataclass
class Pickup:
    """Where a rental can start."""

    system_id: str
    place: Place
    walk_m: float
    walk_node: int
    walk_offset_m: float
    node: int  # profile graph node
    station: Any | None
    vehicle: Any | None
    vehicle_type_id: str | None
    form_factor: str
    propulsion: str
    available: int


def _point_in_ring(lon: float, lat: float, ring: Sequence[Sequence[float]]) -> bool:
    inside = False
    n = len(ring)
    for i in range(n):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1 + 1e-300) + x1:
            inside = not inside
    return inside


def in_geometry(lon: float, lat: float, geometry: Mapping[str, Any]) -> bool:
    """Whether a point lies in a GeoJSON Polygon or MultiPolygon (holes respected)."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    for poly in polygons:
        if (
            poly
            and _point_in_ring(lon, lat, poly[0])
            and not any(_point_in_ring(lon, lat, h) for h in poly[1:])
        ):
            return True
    return False


def _rule_allows(
    snapshot: Any, system_id: str, type_id: str | None, lon: float, lat: float, field: str
) -> bool:
    """The geofencing verdict at a point: the first zone containing it with a rule for the type.

    For ending a ride, a rule that asks for station parking (``station_parking``) forbids leaving
    the vehicle on the street there.
    """
    for zone in getattr(snapshot, "geofencing_zones", ()):
        if zone.system_id != system_id or not in_geometry(lon, lat, zone.geometry):
            continue
        for rule in zone.rules:
            if not rule.vehicle_type_ids or type_id in rule.vehicle_type_ids:
                if field == "ride_end_allowed" and getattr(rule, "station_parking", None):
                    return False
                return bool(getattr(rule, field))
    return True


def _type_info(snapshot: Any, system_id: str, type_id: str | None) -> tuple[str, str]:
    vt = snapshot.vehicle_type(system_id, type_id) if type_id is not None else None
    if vt is None:
        return "bicycle", "human"
    return str(vt.form_factor), str(vt.propulsion)


def _walk_to(
    tree: Tree, planner: Planner, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walking metres between the tree's anchor and points (linked to the walk graph), node, offset."""
    links = planner.streets.snappers["walk"].link(lat, lon, 400.0)
    dist = np.full(len(lat), np.inf)
    ok = links.node >= 0
    dist[ok] = tree.dist[links.node[ok]] + links.distance_m[ok] + tree.anchor.offset_m
    return dist, links.node, links.distance_m


def _station_pickups(snapshot: Any, mode: str) -> Iterable[tuple[Any, str | None, str, str, int]]:
    for st in snapshot.stations:
        if not st.is_renting or not getattr(st, "is_installed", True):
            continue
        by_type = {k: int(v) for k, v in dict(st.vehicles_available).items() if int(v) > 0}
        if not by_type and int(st.num_vehicles_available) > 0:
            by_type = {None: int(st.num_vehicles_available)}  # type: ignore[dict-item]
        for type_id, count in by_type.items():
            form, propulsion = _type_info(snapshot, st.system_id, type_id)
            if form in FORM_FACTORS[mode]:
                yield st, type_id, form, propulsion, count


@dataclass
class _Candidates:
    """Every place a rental of one mode could start in a snapshot, linked to the walk graph and to
    the mode's graph (computed once per snapshot and mode)."""

    raw: list[tuple[str, Place, Any, Any, str | None, str, str, int]]
    walk_node: np.ndarray
    walk_offset_m: np.ndarray
    node: np.ndarray  # profile graph node (-1: too far from it)


def _candidates(planner: Planner, snapshot: Any, mode: str) -> _Candidates:
    held, cache = planner.sharing_cache
    if held is not snapshot:  # a new snapshot (live state swaps it whole): forget the old links
        cache = {}
        planner.sharing_cache = (snapshot, cache)
    if mode in cache:
        return cache[mode]  # type: ignore[no-any-return]
    raw: list[tuple[str, Place, Any, Any, str | None, str, str, int]] = []
    for st, type_id, form, propulsion, count in _station_pickups(snapshot, mode):
        raw.append(
            (st.system_id, Place(str(st.name), st.lat, st.lon), st, None, type_id, form, propulsion, count)
        )
    for v in snapshot.vehicles:
        if v.is_reserved or v.is_disabled or not v.is_free_floating:
            continue
        form, propulsion = _type_info(snapshot, v.system_id, v.vehicle_type_id)
        if form not in FORM_FACTORS[mode]:
            continue
        if not _rule_allows(snapshot, v.system_id, v.vehicle_type_id, v.lon, v.lat, "ride_start_allowed"):
            continue
        raw.append((v.system_id, Place(f"{form} {v.vehicle_id}", v.lat, v.lon), None, v, v.vehicle_type_id,
                    form, propulsion, 1))  # fmt: skip
    lat = np.asarray([r[1].lat for r in raw], dtype=float)
    lon = np.asarray([r[1].lon for r in raw], dtype=float)
    walk = planner.streets.snappers["walk"].link(lat, lon, 400.0)
    prof = planner.streets.snappers[PROFILE[mode]].link(lat, lon, 300.0)
    cache[mode] = _Candidates(raw, walk.node, walk.distance_m, prof.node)
    return cache[mode]


def pickups(planner: Planner, ctx: Context, snapshot: Any, mode: str) -> list[Pickup]:
    """Stations with an available vehicle and free vehicles within the walking limit, nearest first."""
    q = ctx.query
    c = _candidates(planner, snapshot, mode)
    if not c.raw:
        return []
    tree = ctx.tree_o
    walk_m = np.full(len(c.raw), np.inf)
    ok = c.walk_node >= 0
    walk_m[ok] = tree.dist[c.walk_node[ok]] + c.walk_offset_m[ok] + tree.anchor.offset_m
    out = []
    taken = {True: 0, False: 0}  # nearest few stations and nearest few free vehicles
    for i in np.argsort(walk_m).tolist():
        if walk_m[i] > q.max_walk_m:
            break
        if c.node[i] < 0:
            continue
        sys_id, place, st, v, type_id, form, propulsion, count = c.raw[i]
        if taken[st is not None] >= MAX_PICKUPS:
            if taken[st is None] >= MAX_PICKUPS:
                break
            continue
        taken[st is not None] += 1
        out.append(Pickup(sys_id, place, float(walk_m[i]), int(c.walk_node[i]), float(c.walk_offset_m[i]),
                          int(c.node[i]), st, v, type_id, form, propulsion, count))  # fmt: skip
    return out


@dataclass
class Dropoff:
    """Where a rental ends: a station with a free dock, or a street node where parking is allowed."""

    place: Place
    node: int  # profile graph node
    walk_m: float  # to the destination
    walk_node: int
    walk_offset_m: float
    station: Any | None
    docks: int | None


def return_rule(snapshot: Any, p: Pickup) -> str:
    """Where a rental from ``p`` may end: one of :data:`RETURN_RULES` (see the module docs)."""
    vt = snapshot.vehicle_type(p.system_id, p.vehicle_type_id) if p.vehicle_type_id is not None else None
    rule = getattr(vt, "return_constraint", None)
    if rule in RETURN_RULES:
        return str(rule)
    if p.vehicle is not None and getattr(p.vehicle, "home_station_id", None):
        return "roundtrip_station"
    return "any_station" if p.station is not None else "free_floating"


def home_station_id(p: Pickup) -> str | None:
    """The station a round-trip rental from ``p`` goes back to."""
    if p.station is not None:
        return str(p.station.station_id)
    home = getattr(p.vehicle, "home_station_id", None) if p.vehicle is not None else None
    return None if home is None else str(home)


def free_spaces(snapshot: Any, station: Any, mode: str) -> int | None:
    """Free docks (or, for cars, free spaces) at a station; None when the feed does not tell."""
    if station.num_docks_available is not None:
        return int(station.num_docks_available)
    if mode == "car_share" and station.capacity is not None:
        parked = sum(
            1
            for v in snapshot.vehicles
            if v.system_id == station.system_id and v.station_id == station.station_id
        )
        return max(0, int(station.capacity) - max(parked, int(station.num_vehicles_available)))
    return None


def takes_returns(snapshot: Any, station: Any, mode: str) -> bool:
    """Whether a vehicle may be returned at ``station`` now: it is installed and returning and has
    a free dock (bikes) or a free space (cars; unknown space counts as room)."""
    if not station.is_returning or not getattr(station, "is_installed", True):
        return False
    free = free_spaces(snapshot, station, mode)
    return (free is None and mode == "car_share") or (free or 0) > 0


def station_dropoffs(
    planner: Planner, ctx: Context, snapshot: Any, system_id: str, mode: str
) -> list[Dropoff]:
    """Stations of ``system_id`` that take a return now (:func:`takes_returns`), within walking of
    the goal."""
    cands = [
        st for st in snapshot.stations if st.system_id == system_id and takes_returns(snapshot, st, mode)
    ]
    if not cands:
        return []
    lat = np.asarray([s.lat for s in cands])
    lon = np.asarray([s.lon for s in cands])
    walk_m, walk_node, walk_off = _walk_to(ctx.tree_d, planner, lat, lon)
    prof = planner.streets.snappers[PROFILE[mode]].link(lat, lon, 300.0)
    return [
        Dropoff(Place(str(st.name), st.lat, st.lon), int(prof.node[i]), float(walk_m[i]), int(walk_node[i]),
                float(walk_off[i]), st, free_spaces(snapshot, st, mode))
        for i, st in enumerate(cands)
        if walk_m[i] <= ctx.query.max_walk_m and prof.node[i] >= 0
    ]  # fmt: skip


def parking_dropoffs(planner: Planner, ctx: Context, snapshot: Any, p: Pickup, profile: str) -> list[Dropoff]:
    """Street nodes near the destination where the system allows ending a ride (geofencing)."""
    g = planner.streets.graph(profile)
    q = ctx.query
    near = planner.streets.snappers[profile].within(q.to_lat, q.to_lon, min(q.max_walk_m, 600.0))
    if near.size == 0:
        return []
    walk_m, walk_node, walk_off = _walk_to(ctx.tree_d, planner, g.lat[near], g.lon[near])
    out = []
    for i in np.argsort(walk_m)[:40].tolist():
        if walk_m[i] > q.max_walk_m:
            break
        lat, lon = float(g.lat[near[i]]), float(g.lon[near[i]])
        if _rule_allows(snapshot, p.system_id, p.vehicle_type_id, lon, lat, "ride_end_allowed"):
            out.append(Dropoff(Place("Parking", lat, lon), int(near[i]), float(walk_m[i]), int(walk_node[i]),
                               float(walk_off[i]), None, None))  # fmt: skip
            if len(out) >= 5:
                break
    return out


def ride_tree(planner: Planner, ctx: Context, p: Pickup, profile: str) -> Tree:
    """The ride search from a pickup, bounded by a generous multiple of the straight-line ride
    (at least 30 minutes, for rides to transit); shared by the parts of one query."""
    key = (profile, p.node)
    if key not in ctx.trees:
        q = ctx.query
        crow = float(haversine_m(p.place.lat, p.place.lon, q.to_lat, q.to_lon))
        speed = BIKE_SPEED_MPS if profile == "bike" else 8.0
        limit = min(MAX_RIDE_S, max(1800.0, 3.0 * crow / speed + 600.0))
        ctx.trees[key] = planner.streets.tree(Anchor(p.place.lat, p.place.lon, p.node, 0.0), profile, limit)
    return ctx.trees[key]


def _rental_fields(snapshot: Any, p: Pickup, d: Dropoff) -> dict[str, Any]:
    vt = snapshot.vehicle_type(p.system_id, p.vehicle_type_id) if p.vehicle_type_id else None
    fields: dict[str, Any] = {
        "system_id": p.system_id,
        "vehicle_type": {"id": p.vehicle_type_id, "name": getattr(vt, "name", None)},
        "form_factor": p.form_factor,
        "propulsion": p.propulsion,
        "return_constraint": return_rule(snapshot, p),
        "availability": {"vehicles_available": p.available, "as_of": rfc3339(snapshot.as_of)},
    }
    if p.station is not None:
        fields["station"] = {"station_id": p.station.station_id, "name": p.station.name}
    if p.vehicle is not None:
        fields["vehicle"] = {"vehicle_id": p.vehicle.vehicle_id}
    if d.station is not None:
        fields["return_station"] = {"station_id": d.station.station_id, "name": d.station.name}
        fields["availability"]["docks_available"] = d.docks
    return fields


def _rental_itinerary(
    planner: Planner, ctx: Context, snapshot: Any, mode: str, p: Pickup, tree: Tree, d: Dropoff
) -> Itinerary:
    q = ctx.query
    walk1 = walk_seconds(p.walk_m, q.walk_speed_mps)
    ride_s = math.ceil(float(tree.dist[d.node]))
    walk2 = walk_seconds(d.walk_m, q.walk_speed_mps)
    total = walk1 + PICKUP_S[mode] + ride_s + DROPOFF_S[mode] + walk2
    t = ctx.t_s - total if q.arrive_by else ctx.t_s
    first = planner.walk_leg(ctx.tree_o, p.walk_node, p.place, t, q.walk_speed_mps, p.walk_offset_m)
    t += walk1
    ride_end = t + PICKUP_S[mode] + ride_s + DROPOFF_S[mode]
    ride = Leg(
        LEG_MODE[mode], p.place, d.place, LegTime(planner.at(t)), LegTime(planner.at(ride_end)),
        tree.length_m(d.node), tree.points(d.node, d.place.lat, d.place.lon),
        rental=_rental_fields(snapshot, p, d),
    )  # fmt: skip
    last = planner.walk_leg(ctx.tree_d, d.walk_node, d.place, ride_end, q.walk_speed_mps, d.walk_offset_m)
    first.origin, last.destination = ctx.from_place, ctx.to_place
    return Itinerary([first, ride, last])


def rental_itineraries(
    planner: Planner, ctx: Context, snapshot: Any, mode: str, reasons: list[str]
) -> list[Itinerary]:
    """The best docked/station-based and the best free-floating rental itinerary of ``mode``."""
    word = "bike or scooter" if mode == "bike_share" else "shared car"
    if snapshot is None or (not snapshot.stations and not snapshot.vehicles):
        reasons.append(f"no {word} data loaded")
        return []
    starts = pickups(planner, ctx, snapshot, mode)
    if not starts:
        reasons.append(
            f"no vehicle available: no {word} within {ctx.query.max_walk_m:.0f} m walk of the origin"
        )
        return []
    profile = PROFILE[mode]
    best: dict[str, tuple[float, Pickup, Tree, Dropoff]] = {}
    no_return = False
    round_trip = 0
    by_system: dict[str, list[Dropoff]] = {}
    for p in starts:
        rule = return_rule(snapshot, p)
        drops: list[Dropoff] = []
        if rule != "free_floating":
            if p.system_id not in by_system:
                by_system[p.system_id] = station_dropoffs(planner, ctx, snapshot, p.system_id, mode)
            drops = by_system[p.system_id]
            if rule == "roundtrip_station":
                home = home_station_id(p)
                # back to the home station only; a ride from the home station back to it is no trip
                drops = [d for d in drops if d.station is not None and d.station.station_id == home
                         and (p.station is None or p.station.station_id != home)]  # fmt: skip
                round_trip += not drops
        if rule in ("free_floating", "hybrid"):
            drops = drops + parking_dropoffs(planner, ctx, snapshot, p, profile)
        if not drops:
            no_return = True
            continue
        tree = ride_tree(planner, ctx, p, profile)
        docked = p.station is not None
        for d in drops:
            if not tree.reached(d.node):
                continue
            cost = (
                p.walk_m / ctx.query.walk_speed_mps
                + float(tree.dist[d.node])
                + d.walk_m / ctx.query.walk_speed_mps
            )
            kind = "station" if docked else "free"
            if kind not in best or cost < best[kind][0]:
                best[kind] = (cost, p, tree, d)
    if not best:
        if round_trip == len(starts):
            reasons.append(
                f"no vehicle available for a one-way trip: the {word}s within {ctx.query.max_walk_m:.0f} m"
                " walk of the origin must be returned to their home station (round trip only)"
            )
        elif no_return:
            reasons.append(
                f"no {word} can be returned within {ctx.query.max_walk_m:.0f} m walk of the destination"
            )
        else:
            reasons.append(f"no {word} route between the origin and the destination")
        return []
    return [_rental_itinerary(planner, ctx, snapshot, mode, p, t, d) for _, p, t, d in best.values()]


@dataclass
class _Charger:
    location: Location
    evse: Any
    connector: Any
    lat: float
    lon: float


def fitting_chargers(
    locations: Iterable[Location], connector: str, min_power_kw: float
) -> tuple[list[_Charger], int]:
    """EVSEs with status AVAILABLE and a fitting connector of enough power, and how many fit but are busy."""
    standards = EV_CONNECTORS[connector.upper()]
    out: list[_Charger] = []
    busy = 0
    for loc in locations:
        for evse in loc.evses:
            fits = [c for c in evse.connectors if c.standard in standards and c.max_power_kw >= min_power_kw]
            if not fits:
                continue
            if evse.status != "AVAILABLE":
                busy += 1
                continue
            conn = max(fits, key=lambda c: c.max_power_kw)
            lat = evse.lat if evse.lat is not None else loc.lat
            lon = evse.lon if evse.lon is not None else loc.lon
            out.append(_Charger(loc, evse, conn, lat, lon))
    return out, busy


def _car_leg(planner: Planner, tree: Tree, node: int, start_s: float, a: Place, b: Place) -> Leg:
    drive_s = math.ceil(float(tree.dist[node]))
    return Leg("CAR", a, b, LegTime(planner.at(start_s)), LegTime(planner.at(start_s + drive_s)),
               tree.length_m(node), tree.points(node, b.lat, b.lon))  # fmt: skip


def car_itineraries(
    planner: Planner, ctx: Context, locations: Sequence[Location], reasons: list[str]
) -> list[Itinerary]:
    """Own car: straight to the destination, or (EV) to a free fitting charger and then on foot."""
    q = ctx.query
    start = planner.streets.try_anchor(q.from_lat, q.from_lon, "car")
    if start is None:
        reasons.append("outside the network: the origin is far from any street usable by car")
        return []
    tree = planner.streets.tree(start, "car", MAX_RIDE_S)
    if q.ev_connector is None:
        end = planner.streets.try_anchor(q.to_lat, q.to_lon, "car")
        if end is None or not tree.reached(end.node):
            reasons.append("no car route to the destination")
            return []
        drive_s = math.ceil(float(tree.dist[end.node]))
        t = ctx.t_s - drive_s if q.arrive_by else ctx.t_s
        return [Itinerary([_car_leg(planner, tree, end.node, t, ctx.from_place, ctx.to_place)])]
    chargers, busy = fitting_chargers(locations, q.ev_connector, q.min_power_kw)
    if not chargers:
        reasons.append(
            f"no AVAILABLE charger with a {q.ev_connector.upper()} connector"
            f" of at least {q.min_power_kw:g} kW"
            + (f" ({busy} fitting EVSEs are occupied or out of order)" if busy else "")
        )
        return []
    lat = np.asarray([c.lat for c in chargers])
    lon = np.asarray([c.lon for c in chargers])
    walk_m, walk_node, walk_off = _walk_to(ctx.tree_d, planner, lat, lon)
    car = planner.streets.snappers["car"].link(lat, lon, 300.0)
    options = []
    for i, c in enumerate(chargers):
        if walk_m[i] <= q.max_walk_m and car.node[i] >= 0 and tree.reached(int(car.node[i])):
            cost = float(tree.dist[car.node[i]]) + walk_m[i] / q.walk_speed_mps
            options.append((cost, i, c))
    if not options:
        reasons.append(f"no AVAILABLE fitting charger within {q.max_walk_m:.0f} m walk of the destination")
        return []
    options.sort(key=lambda o: o[0])
    out: list[Itinerary] = []
    used: set[str] = set()
    for _, i, c in options:
        if c.location.location_id in used:
            continue
        used.add(c.location.location_id)
        out.append(_ev_itinerary(planner, ctx, tree, int(car.node[i]), c, float(walk_m[i]),
                                 int(walk_node[i]), float(walk_off[i])))  # fmt: skip
        if len(out) >= 3:
            break
    return out


def _ev_itinerary(
    planner: Planner,
    ctx: Context,
    tree: Tree,
    node: int,
    c: _Charger,
    walk_m: float,
    walk_node: int,
    walk_off: float,
) -> Itinerary:
    q = ctx.query
    drive_s = math.ceil(float(tree.dist[node]))
    walk_s = walk_seconds(walk_m, q.walk_speed_mps)
    t = ctx.t_s - drive_s - walk_s if q.arrive_by else ctx.t_s
    place = Place(c.location.name or c.location.location_id, c.lat, c.lon)
    drive = _car_leg(planner, tree, node, t, ctx.from_place, place)
    drive.charging = {
        "evse_id": c.evse.evse_id or c.evse.uid,
        "status": c.evse.status,
        "connector": {"id": c.connector.connector_id, "standard": c.connector.standard,
                      "format": c.connector.format, "power_type": c.connector.power_type},
        "max_power_kw": round(float(c.connector.max_power_kw), 1),
        "location_id": c.location.location_id,
    }  # fmt: skip
    walk = planner.walk_leg(ctx.tree_d, walk_node, place, t + drive_s, q.walk_speed_mps, walk_off)
    walk.destination = ctx.to_place
    return Itinerary([drive, walk])


@dataclass
class BikeAccess:
    """Stops reached by a shared bike or scooter: walk to it, ride, return it at a station with a
    free dock (docked) or park it next to the stop (free-floating), walk to the stop.  ``time_s``:
    seconds from leaving the origin to reaching the stop; ``how``: the pickup, ride and drop-off."""

    stops: np.ndarray
    time_s: np.ndarray
    how: dict[int, tuple[Pickup, Tree, Dropoff]]

    def legs(self, planner: Planner, ctx: Context, stop: int, board_s: int) -> list[Leg]:
        """The walk, bike and walk legs reaching ``stop`` just in time for ``board_s``."""
        assert planner.links is not None
        q = ctx.query
        p, tree, d = self.how[stop]
        anchor = Anchor(d.place.lat, d.place.lon, d.walk_node, d.walk_offset_m)
        walk_tree = planner.streets.tree(anchor, "walk", q.max_transfer_m)
        total = int(self.time_s[int(np.nonzero(self.stops == stop)[0][0])])
        t = board_s - total
        first = planner.walk_leg(ctx.tree_o, p.walk_node, p.place, t, q.walk_speed_mps, p.walk_offset_m)
        first.origin = ctx.from_place
        t += walk_seconds(p.walk_m, q.walk_speed_mps)
        ride_end = t + PICKUP_S["bike_share"] + math.ceil(float(tree.dist[d.node])) + DROPOFF_S["bike_share"]
        snapshot = planner.availability.sharing(q.when) if planner.availability is not None else None
        ride = Leg(
            "BIKE_SHARE", p.place, d.place, LegTime(planner.at(t)), LegTime(planner.at(ride_end)),
            tree.length_m(d.node), tree.points(d.node, d.place.lat, d.place.lon),
            rental=_rental_fields(snapshot, p, d),
        )  # fmt: skip
        walk = planner.walk_leg(walk_tree, int(planner.links.node[stop]), planner.stop_place(stop), ride_end,
                                q.walk_speed_mps, float(planner.links.offset_m[stop]))  # fmt: skip
        walk.origin = d.place
        return [first, ride, walk]


@dataclass
class StopParking:
    """Where a free-floating bike or scooter is left for each stop: a bike-graph node next to it.

    Where the stop's walk node is on the bike graph too (the usual street stop) the vehicle is
    parked there and the walk is the straight line the stop is linked with; otherwise at the bike
    node nearest the stop, with the walk from there to the stop on the streets.  Per stop: bike
    node (-1: none), parking point, its walk node and straight line to it, and the metres walked
    from the parking point to the stop (inf: none within :data:`PARK_WALK_MAX_M`).
    """

    bike_node: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    walk_node: np.ndarray
    walk_offset_m: np.ndarray
    walk_m: np.ndarray


#: how far a parked vehicle may be from its stop (metres walked)
PARK_WALK_MAX_M = 400.0
#: how far from a stop its parking node may lie (straight line)
LINK_BIKE_M = 150.0


def stop_parking(planner: Planner) -> StopParking:
    """The parking place of every linked stop (built once per planner)."""
    if planner.stop_parking is not None:
        return planner.stop_parking  # type: ignore[no-any-return]
    assert planner.links is not None
    links = planner.links
    gw, gb = planner.streets.graph("walk"), planner.streets.graph("bike")
    n = len(links.node)
    n_net = int(max(gw.node.max(initial=0), gb.node.max(initial=0))) + 1
    on_bike = np.full(n_net, -1, dtype=np.int64)
    on_bike[gb.node] = np.arange(gb.n_nodes)
    on_walk = np.full(n_net, -1, dtype=np.int64)
    on_walk[gw.node] = np.arange(gw.n_nodes)
    bike_node = np.full(n, -1, dtype=np.int64)
    walk_node = np.full(n, -1, dtype=np.int64)
    offset = np.zeros(n)
    walk_m = np.full(n, np.inf)
    lat, lon = np.zeros(n), np.zeros(n)
    stops = links.linked
    shared = on_bike[gw.node[links.node[stops]]]
    here = stops[shared >= 0]
    bike_node[here] = shared[shared >= 0]
    walk_node[here] = links.node[here]
    walk_m[here] = links.offset_m[here]
    lat[here], lon[here] = gw.lat[links.node[here]], gw.lon[links.node[here]]
    rest = stops[shared < 0]
    if len(rest):
        tt = planner.tt
        assert tt is not None
        near = planner.streets.snappers["bike"].link(tt.stop_lat[rest], tt.stop_lon[rest], LINK_BIKE_M)
        for s, b in zip(rest.tolist(), near.node.tolist(), strict=True):
            if b < 0:
                continue
            w = int(on_walk[gb.node[b]])
            off = 0.0
            if w < 0:
                link = planner.streets.snappers["walk"].link(
                    np.array([gb.lat[b]]), np.array([gb.lon[b]]), 50.0
                )
                w, off = int(link.node[0]), float(link.distance_m[0])
            if w < 0:
                continue
            dist, _ = gw.search(w, PARK_WALK_MAX_M)
            d = float(np.atleast_2d(dist)[0][links.node[s]]) + off + float(links.offset_m[s])
            if math.isfinite(d) and d <= PARK_WALK_MAX_M:
                bike_node[s], walk_node[s], offset[s], walk_m[s] = b, w, off, d
                lat[s], lon[s] = gb.lat[b], gb.lon[b]
    planner.stop_parking = StopParking(bike_node, lat, lon, walk_node, offset, walk_m)
    return planner.stop_parking  # type: ignore[no-any-return]


def _docked_to_stops(
    planner: Planner, ctx: Context, p: Pickup, tree: Tree, docks: list[Dropoff],
    best: dict[int, tuple[float, tuple[Pickup, Tree, Dropoff]]],
) -> None:  # fmt: skip
    """Stops within the transfer walk of a station (other than the pickup's) with a free dock."""
    q = ctx.query
    start_id = p.station.station_id if p.station is not None else None
    for d in docks:
        if d.station is None or d.station.station_id == start_id or not tree.reached(d.node):
            continue
        near_stops, near_s = _stops_near(planner, d, q.max_transfer_m, q.walk_speed_mps)
        lead = (walk_seconds(p.walk_m, q.walk_speed_mps) + PICKUP_S["bike_share"]
                + math.ceil(float(tree.dist[d.node])) + DROPOFF_S["bike_share"])  # fmt: skip
        for s, w in zip(near_stops.tolist(), near_s.tolist(), strict=True):
            if s not in best or lead + w < best[s][0]:
                best[s] = (lead + w, (p, tree, d))


def _parked_at_stops(
    planner: Planner, ctx: Context, snapshot: Any, p: Pickup, tree: Tree,
    best: dict[int, tuple[float, tuple[Pickup, Tree, Dropoff]]],
) -> None:  # fmt: skip
    """Stops next to which the free vehicle may be parked (geofencing), reached by riding it."""
    q = ctx.query
    park = stop_parking(planner)
    cand = np.nonzero((park.bike_node >= 0) & (park.walk_m <= q.max_transfer_m))[0]
    if not len(cand):
        return
    ride = tree.dist[park.bike_node[cand]]
    ok = np.isfinite(ride)
    cand, ride = cand[ok], ride[ok]
    lead = walk_seconds(p.walk_m, q.walk_speed_mps) + PICKUP_S["bike_share"] + DROPOFF_S["bike_share"]
    total = lead + np.ceil(ride).astype(np.int64) + np.ceil(park.walk_m[cand] / q.walk_speed_mps - 1e-9)
    fenced = any(z.system_id == p.system_id for z in getattr(snapshot, "geofencing_zones", ()))
    for s, t in zip(cand.tolist(), total.astype(np.int64).tolist(), strict=True):
        if s in best and best[s][0] <= t:
            continue
        lat, lon = float(park.lat[s]), float(park.lon[s])
        if fenced and not _rule_allows(
            snapshot, p.system_id, p.vehicle_type_id, lon, lat, "ride_end_allowed"
        ):
            continue
        d = Dropoff(Place("Parking", lat, lon), int(park.bike_node[s]), 0.0, int(park.walk_node[s]),
                    float(park.walk_offset_m[s]), None, None)  # fmt: skip
        best[s] = (t, (p, tree, d))


def bike_access(planner: Planner, ctx: Context, snapshot: Any) -> BikeAccess | None:
    """Shared bike or scooter to transit: docked ones to stops within the transfer walk of a station
    with a free dock, free-floating ones to a parking place next to a stop (where the geofencing
    zones allow ending a ride); each stop keeps its quickest way."""
    if snapshot is None or planner.links is None:
        return None
    best: dict[int, tuple[float, tuple[Pickup, Tree, Dropoff]]] = {}
    docks: dict[str, list[Dropoff]] = {}
    for p in pickups(planner, ctx, snapshot, "bike_share"):
        rule = return_rule(snapshot, p)
        if rule == "roundtrip_station":
            continue
        tree = ride_tree(planner, ctx, p, "bike")
        if rule in ("any_station", "hybrid"):
            if p.system_id not in docks:
                docks[p.system_id] = _docks(planner, snapshot, p.system_id)
            _docked_to_stops(planner, ctx, p, tree, docks[p.system_id], best)
        if rule in ("free_floating", "hybrid"):
            _parked_at_stops(planner, ctx, snapshot, p, tree, best)
    if not best:
        return None
    stops = np.asarray(sorted(best), dtype=np.int32)
    return BikeAccess(stops, np.asarray([best[s][0] for s in stops.tolist()], dtype=np.int32),
                      {s: best[s][1] for s in stops.tolist()})  # fmt: skip


def _stops_near(
    planner: Planner, d: Dropoff, max_m: float, speed_mps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Stops within ``max_m`` walk of a station and the whole seconds to walk there (cached)."""
    from mobility.planner.transit import stop_access

    assert planner.links is not None
    key = (round(d.place.lat, 7), round(d.place.lon, 7), round(max_m, 1), round(speed_mps, 3))
    cache = planner.station_stops
    if key not in cache:
        anchor = Anchor(d.place.lat, d.place.lon, d.walk_node, d.walk_offset_m)
        near = stop_access(planner.streets.tree(anchor, "walk", max_m), planner.links, max_m, speed_mps)
        cache[key] = (near.stops, near.time_s)
    return cache[key]


def _docks(planner: Planner, snapshot: Any, system_id: str) -> list[Dropoff]:
    """Every station of ``system_id`` that takes a bike back now, linked to the bike and walk graphs."""
    cands = [
        st
        for st in snapshot.stations
        if st.system_id == system_id and takes_returns(snapshot, st, "bike_share")
    ]
    if not cands:
        return []
    lat = np.asarray([s.lat for s in cands])
    lon = np.asarray([s.lon for s in cands])
    walk = planner.streets.snappers["walk"].link(lat, lon, 400.0)
    bike = planner.streets.snappers["bike"].link(lat, lon, 300.0)
    return [
        Dropoff(Place(str(st.name), st.lat, st.lon), int(bike.node[i]), 0.0, int(walk.node[i]),
                float(walk.distance_m[i]), st, st.num_docks_available)
        for i, st in enumerate(cands)
        if walk.node[i] >= 0 and bike.node[i] >= 0
    ]  # fmt: skip
