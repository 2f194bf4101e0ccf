"""Every mode combination on the demo city, and the availability rules of rental and EV legs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from charging.points import Location
from mobility.errors import NoRouteError
from mobility.planner.availability import SnapshotAvailability
from mobility.planner.graphdir import GraphDir
from mobility.planner.itinerary import TRANSIT_MODES, Itinerary
from mobility.planner.plan import Planner
from mobility.planner.query import EV_CONNECTORS, PlanQuery
from mobility.streets.graph import haversine_m
from scenarios.demo import DemoCity

sharing_model = pytest.importorskip(
    "mobility.sharing.model", reason="the GBFS model and parser are not merged yet"
)
GeofencingRule = sharing_model.GeofencingRule
GeofencingZone = sharing_model.GeofencingZone

WEST = (51.6802, 7.7870)  # west edge of town
MARKT = (51.6801, 7.8098)  # next to the Marktplatz
EAST = (51.6800, 7.8330)
TZ = ZoneInfo("Europe/Berlin")


def _when() -> dt.datetime:
    return dt.datetime.combine(dt.date.today(), dt.time(8, 0), tzinfo=TZ)


def _near(a: tuple[float, float], b: tuple[float, float], metres: float = 1.0) -> bool:
    return float(haversine_m(a[0], a[1], b[0], b[1])) <= metres


def _sensible(it: Itinerary, q: PlanQuery) -> None:
    """Legs chain in time and space, from the origin to the destination, within the query time."""
    assert it.legs
    first, last = it.legs[0], it.legs[-1]
    assert _near((first.origin.lat, first.origin.lon), (q.from_lat, q.from_lon))
    assert _near((last.destination.lat, last.destination.lon), (q.to_lat, q.to_lon))
    for a, b in zip(it.legs, it.legs[1:], strict=False):
        assert a.end.scheduled <= b.start.scheduled
        assert _near((a.destination.lat, a.destination.lon), (b.origin.lat, b.origin.lon), 5.0)
    for leg in it.legs:
        assert leg.start.scheduled <= leg.end.scheduled
        assert leg.distance_m >= 0 and len(leg.points) >= 2
    if q.arrive_by:
        assert it.end <= q.when
    else:
        assert it.start >= q.when
    assert it.duration_s < 3 * 3600
    json = it.to_json()
    assert json["start"].endswith(("+01:00", "+02:00"))


COMBOS = {
    "walk": ({"WALK"}, None, EAST),
    "walk,transit": (TRANSIT_MODES, None, EAST),
    "bike_share": ({"BIKE_SHARE"}, None, EAST),
    "car_share": ({"CAR_SHARE"}, None, EAST),
    "car": ({"CAR"}, None, EAST),
    "car+CCS": ({"CAR"}, "CCS", MARKT),
    "car+TYPE2": ({"CAR"}, "TYPE2", MARKT),
    "walk,transit,bike_share": ({"BIKE_SHARE"}, None, EAST),
    "walk,transit,car_share": ({"CAR_SHARE"}, None, EAST),
    "walk,transit,bike_share,car_share,car": ({"BIKE_SHARE", "CAR_SHARE", "CAR"}, "CCS", MARKT),
}


@pytest.mark.parametrize("arrive_by", [False, True], ids=["depart", "arrive"])
@pytest.mark.parametrize("combo", sorted(COMBOS))
def test_every_mode_combination_gives_a_sensible_itinerary(
    planner: Planner, combo: str, arrive_by: bool
) -> None:
    expected, ev, dest = COMBOS[combo]
    modes = PlanQuery.parse_modes(combo.split("+")[0])
    q = PlanQuery(*WEST, *dest, _when(), arrive_by=arrive_by, modes=modes, ev_connector=ev)
    its = planner.plan(q)
    for it in its:
        _sensible(it, q)
    used = {leg.mode for it in its for leg in it.legs}
    assert expected & used, f"{combo}: no itinerary uses {expected} (got {used})"
    allowed = {"WALK"} | (TRANSIT_MODES if "transit" in modes else set())
    allowed |= {"BIKE_SHARE"} if "bike_share" in modes else set()
    allowed |= {"CAR_SHARE"} if "car_share" in modes else set()
    allowed |= {"CAR"} if "car" in modes else set()
    assert used <= allowed


@pytest.mark.parametrize("dest", [EAST, MARKT], ids=["east", "markt"])
def test_rental_starts_at_available_vehicle_and_docked_return_has_free_dock(
    planner: Planner, dest: tuple[float, float]
) -> None:
    q = PlanQuery(*WEST, *dest, _when(), modes=frozenset({"bike_share", "car_share"}))
    snap = planner.availability.sharing(q.when) if planner.availability else None
    assert snap is not None
    stations = {(s.system_id, s.station_id): s for s in snap.stations}
    vehicles = {(v.system_id, v.vehicle_id): v for v in snap.vehicles}
    rentals = [leg for it in planner.plan(q) for leg in it.legs if leg.rental]
    assert rentals
    for leg in rentals:
        r = leg.rental
        assert r is not None
        if "station" in r:
            st = stations[(r["system_id"], r["station"]["station_id"])]
            assert st.is_renting and st.vehicles_available.get(r["vehicle_type"]["id"], 0) > 0
            assert _near((st.lat, st.lon), (leg.origin.lat, leg.origin.lon))
        else:
            v = vehicles[(r["system_id"], r["vehicle"]["vehicle_id"])]
            assert not v.is_reserved and not v.is_disabled and v.is_free_floating
        if "return_station" in r:
            back = stations[(r["system_id"], r["return_station"]["station_id"])]
            assert back.is_returning and (back.num_docks_available is None or back.num_docks_available > 0)
            if leg.mode == "BIKE_SHARE":
                assert (back.num_docks_available or 0) > 0


def _with_sharing(planner: Planner, snapshot: object) -> Planner:
    p = Planner(planner.streets, planner.tt, SnapshotAvailability(snapshot, planner.availability.locations))  # type: ignore[arg-type, union-attr]
    return p


def test_no_bike_available_gives_the_reason(planner: Planner) -> None:
    snap = planner.availability.sharing(_when())  # type: ignore[union-attr]
    empty = dataclasses.replace(
        snap,
        stations=tuple(
            dataclasses.replace(s, num_vehicles_available=0, vehicles_available={}) for s in snap.stations
        ),
        vehicles=tuple(dataclasses.replace(v, is_reserved=True) for v in snap.vehicles),
    )
    q = PlanQuery(*WEST, *EAST, _when(), modes=frozenset({"bike_share"}))
    with pytest.raises(NoRouteError, match="no vehicle available"):
        _with_sharing(planner, empty).plan(q)


def test_docked_bike_never_returned_to_a_full_station(planner: Planner) -> None:
    snap = planner.availability.sharing(_when())  # type: ignore[union-attr]
    docked_only = dataclasses.replace(snap, vehicles=())
    q = PlanQuery(*WEST, *MARKT, _when(), modes=frozenset({"bike_share"}))
    docked = [leg for it in _with_sharing(planner, docked_only).plan(q) for leg in it.legs if leg.rental]
    assert docked and all("return_station" in leg.rental for leg in docked)  # type: ignore[operator]
    full_id = docked[0].rental["return_station"]["station_id"]  # type: ignore[index]
    fuller = dataclasses.replace(
        docked_only,
        stations=tuple(dataclasses.replace(s, num_docks_available=0) if s.station_id == full_id else s
                       for s in snap.stations),
    )  # fmt: skip
    again = [leg for it in _with_sharing(planner, fuller).plan(q) for leg in it.legs if leg.rental]
    assert again
    for leg in again:
        back = leg.rental["return_station"]  # type: ignore[index]
        assert back["station_id"] != full_id
        assert leg.rental["availability"]["docks_available"] > 0  # type: ignore[index]


def test_free_floating_ride_ends_outside_no_parking_zone(planner: Planner) -> None:
    snap = planner.availability.sharing(_when())  # type: ignore[union-attr]
    q = PlanQuery(*WEST, *EAST, _when(), modes=frozenset({"bike_share"}))
    free = [leg for it in planner.plan(q) for leg in it.legs if leg.rental and "vehicle" in leg.rental]
    assert free, "the demo's scooters should give a free-floating option"
    end = free[0].destination
    d = 0.002  # a box of about 280 x 140 m around the destination where rides may not end
    box = [[EAST[1] - d * 2, EAST[0] - d], [EAST[1] + d * 2, EAST[0] - d], [EAST[1] + d * 2, EAST[0] + d],
           [EAST[1] - d * 2, EAST[0] + d], [EAST[1] - d * 2, EAST[0] - d]]  # fmt: skip
    assert abs(end.lat - EAST[0]) < d and abs(end.lon - EAST[1]) < 2 * d, (
        "parked inside the box without a zone"
    )
    system_id = free[0].rental["system_id"]  # type: ignore[index]
    polygon = {"type": "Polygon", "coordinates": [box]}
    zone = GeofencingZone(system_id, "no parking", polygon, (GeofencingRule((), True, False, True),))
    fenced = dataclasses.replace(snap, geofencing_zones=(zone,))
    again = [
        leg
        for it in _with_sharing(planner, fenced).plan(q)
        for leg in it.legs
        if leg.rental and "vehicle" in leg.rental
    ]
    for leg in again:
        p = leg.destination
        assert not (abs(p.lat - EAST[0]) < d and abs(p.lon - EAST[1]) < 2 * d)


def _ev_legs(planner: Planner, locations: list[Location], connector: str, min_kw: float = 0.0) -> list:  # type: ignore[type-arg]
    p = Planner(planner.streets, planner.tt, SnapshotAvailability(None, locations))
    q = PlanQuery(
        *WEST, *MARKT, _when(), modes=frozenset({"car"}), ev_connector=connector, min_power_kw=min_kw
    )
    return [leg for it in p.plan(q) for leg in it.legs if leg.charging]


@pytest.mark.parametrize("connector", ["CCS", "TYPE2"])
def test_ev_ends_only_at_available_evse_with_fitting_connector(planner: Planner, connector: str) -> None:
    locations = planner.availability.chargers(_when())  # type: ignore[union-attr]
    legs = _ev_legs(planner, locations, connector, 11.0)
    assert legs
    evses = {(e.evse_id or e.uid): e for loc in locations for e in loc.evses}
    for leg in legs:
        c = leg.charging
        assert c["status"] == "AVAILABLE" and evses[c["evse_id"]].status == "AVAILABLE"
        assert c["connector"]["standard"] in EV_CONNECTORS[connector] and c["max_power_kw"] >= 11.0


def test_ev_takes_another_charger_when_the_nearest_is_occupied(planner: Planner) -> None:
    locations = planner.availability.chargers(_when())  # type: ignore[union-attr]
    first = _ev_legs(planner, locations, "CCS")[0]
    busy = [
        dataclasses.replace(loc, evses=tuple(dataclasses.replace(e, status="CHARGING") for e in loc.evses))
        if loc.location_id == first.charging["location_id"] else loc
        for loc in locations
    ]  # fmt: skip
    second = _ev_legs(planner, busy, "CCS")
    assert second and all(leg.charging["location_id"] != first.charging["location_id"] for leg in second)
    all_busy = [
        dataclasses.replace(loc, evses=tuple(dataclasses.replace(e, status="CHARGING") for e in loc.evses))
        for loc in locations
    ]
    with pytest.raises(NoRouteError, match="no AVAILABLE charger with a CCS connector"):
        _ev_legs(planner, all_busy, "CCS")
    assert math.isfinite(first.distance_m)


def test_demo_graph_reports_unlinked_stops(graph: GraphDir, demo_city: DemoCity) -> None:
    assert isinstance(graph.manifest["stops_unlinked"], list)
    assert graph.manifest["sharing"]["stations"] > 0 and graph.manifest["charging_locations"] > 0
    assert Path(graph.manifest["gtfs"][0]).resolve() == Path(demo_city.gtfs).resolve()


def test_bike_share_to_transit(planner: Planner) -> None:
    ring5 = (51.6883, 7.8045)
    q = PlanQuery(*ring5, *WEST, _when(), modes=PlanQuery.parse_modes("walk,transit,bike_share"))
    its = [it for it in planner.plan(q) if "BIKE_SHARE" in it.modes and TRANSIT_MODES & set(it.modes)]
    assert its, "a bike to the bus should be among the options"
    for it in its:
        _sensible(it, q)
        i = it.modes.index("BIKE_SHARE")
        bike, walk, ride = it.legs[i], it.legs[i + 1], it.legs[i + 2]
        assert bike.rental is not None
        if "return_station" in bike.rental:
            assert bike.rental["availability"]["docks_available"] > 0
        else:
            assert bike.rental["return_constraint"] in ("free_floating", "hybrid")
        assert walk.mode == "WALK" and walk.distance_m <= q.max_transfer_m
        assert ride.mode in TRANSIT_MODES and walk.end.scheduled <= ride.start.scheduled


RING5 = (51.6883, 7.8045)


def _scooter_then_transit(planner: Planner, q: PlanQuery) -> list[Itinerary]:
    """Itineraries that ride a free-floating vehicle, walk and then board a vehicle of a route."""
    out = []
    for it in planner.plan(q):
        modes = it.modes
        if "BIKE_SHARE" in modes:
            i = modes.index("BIKE_SHARE")
            rental = it.legs[i].rental or {}
            if "vehicle" in rental and i + 2 < len(modes) and modes[i + 2] in TRANSIT_MODES:
                out.append(it)
    return out


def _free_only(planner: Planner, zones: tuple[object, ...] = ()) -> Planner:
    snap = planner.availability.sharing(_when())  # type: ignore[union-attr]
    return _with_sharing(planner, dataclasses.replace(snap, stations=(), geofencing_zones=zones))


def test_free_floating_scooter_to_transit(planner: Planner) -> None:
    """Walk to a scooter, ride it to a stop, park it there, take the bus or train, walk."""
    free = _free_only(planner)
    snap = free.availability.sharing(_when())  # type: ignore[union-attr]
    vehicles = {v.vehicle_id: v for v in snap.vehicles}
    q = PlanQuery(*RING5, *EAST, _when(), modes=PlanQuery.parse_modes("walk,transit,bike_share"))
    its = _scooter_then_transit(free, q)
    assert its, "a scooter to the bus or train should be among the options"
    for it in its:
        _sensible(it, q)
        i = it.modes.index("BIKE_SHARE")
        scooter, walk, ride = it.legs[i], it.legs[i + 1], it.legs[i + 2]
        v = vehicles[scooter.rental["vehicle"]["vehicle_id"]]  # type: ignore[index]
        assert v.is_free_floating and not v.is_reserved and not v.is_disabled
        assert _near((v.lat, v.lon), (scooter.origin.lat, scooter.origin.lon))
        assert walk.mode == "WALK" and walk.distance_m <= q.max_transfer_m
        assert walk.destination.stop_id == ride.origin.stop_id and walk.end.scheduled <= ride.start.scheduled
        assert scooter.end.scheduled <= walk.start.scheduled


@pytest.mark.parametrize("rule", ["no parking", "station parking"])
def test_scooter_to_transit_not_parked_where_the_zone_forbids(planner: Planner, rule: str) -> None:
    q = PlanQuery(*RING5, *EAST, _when(), modes=PlanQuery.parse_modes("walk,transit,bike_share"))
    first = _scooter_then_transit(_free_only(planner), q)
    assert first
    scooter = first[0].legs[first[0].modes.index("BIKE_SHARE")]
    lat, lon = scooter.destination.lat, scooter.destination.lon
    d = 0.0006  # a box of about 40 x 65 m around where it was parked
    box = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]
    rules = (
        (GeofencingRule((), True, False, True),)
        if rule == "no parking"
        else (GeofencingRule((), True, True, True, station_parking=True),)
    )
    zone = GeofencingZone(scooter.rental["system_id"], rule, {"type": "Polygon", "coordinates": [box]}, rules)  # type: ignore[index]
    for it in _scooter_then_transit(_free_only(planner, (zone,)), q):
        p = it.legs[it.modes.index("BIKE_SHARE")].destination
        assert not (abs(p.lat - lat) < d and abs(p.lon - lon) < d), "parked inside the zone"
