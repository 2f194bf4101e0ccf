"""Where a shared car may be left: the GBFS ``return_constraint`` of its type.

The demo's station-based cars (KnotenCar ``ecar`` and ``car``) are ``roundtrip_station``: they go
back to the station they came from, so a one-way trip never ends with one of them anywhere else.
Its ``ecar-flex`` cars are ``free_floating``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from mobility.errors import NoRouteError
from mobility.planner.availability import SnapshotAvailability
from mobility.planner.itinerary import Leg
from mobility.planner.plan import Planner
from mobility.planner.query import PlanQuery
from mobility.planner.rental import rental_itineraries, takes_returns

TZ = ZoneInfo("Europe/Berlin")
CAR_SHARE = frozenset({"car_share"})


def _when() -> dt.datetime:
    return dt.datetime.combine(dt.date.today(), dt.time(8, 0), tzinfo=TZ)


def _snapshot(planner: Planner) -> Any:
    assert planner.availability is not None
    return planner.availability.sharing(_when())


def _station(snap: Any, station_id: str) -> Any:
    return next(s for s in snap.stations if s.station_id == station_id)


def _with(planner: Planner, snap: Any) -> Planner:
    assert planner.availability is not None
    return Planner(planner.streets, planner.tt, SnapshotAvailability(snap, planner.availability.locations))  # type: ignore[attr-defined]


def _car_legs(planner: Planner, frm: Any, to: Any) -> list[Leg]:
    """CAR_SHARE legs of the planner's answer and of every candidate it weighed (the best
    station-based and the best free-floating one)."""
    q = PlanQuery(frm.lat, frm.lon, to.lat, to.lon, _when(), modes=CAR_SHARE)
    found = planner.plan(q)
    reasons: list[str] = []
    found += rental_itineraries(planner, planner.context(q), _snapshot(planner), "car_share", reasons)
    return [leg for it in found for leg in it.legs if leg.mode == "CAR_SHARE"]


def _room(snap: Any, station_id: str, capacity: int) -> Any:
    """``snap`` with a station's capacity changed (room for ``capacity`` minus its cars)."""
    stations = tuple(
        dataclasses.replace(s, capacity=capacity) if s.station_id == station_id else s for s in snap.stations
    )
    return dataclasses.replace(snap, stations=stations)


def _one_way(snap: Any) -> Any:
    """The demo's snapshot with its station-based car types made one-way (``any_station``)."""
    types = tuple(
        dataclasses.replace(vt, return_constraint="any_station")
        if vt.vehicle_type_id in ("ecar", "car")
        else vt
        for vt in snap.vehicle_types
    )
    return dataclasses.replace(snap, vehicle_types=types)


def test_gbfs_gives_the_return_constraint(planner: Planner) -> None:
    snap = _snapshot(planner)
    rules = {(vt.system_id, vt.vehicle_type_id): vt.return_constraint for vt in snap.vehicle_types}
    assert rules[("knotencar", "ecar")] == "roundtrip_station"
    assert rules[("knotencar", "ecar-flex")] == "free_floating"
    assert rules[("knotenrad", "bike")] == "any_station"


def test_round_trip_car_never_ends_away_from_its_home_station(planner: Planner) -> None:
    snap = _room(_snapshot(planner), "kc-04", 6)
    planner = _with(planner, snap)
    hochschule, klinikum = _station(snap, "kc-03"), _station(snap, "kc-04")
    # the same trip with one-way station cars does take a station car from Hochschule to Klinikum
    one_way = _car_legs(_with(planner, _one_way(snap)), hochschule, klinikum)
    assert any("station" in (leg.rental or {}) for leg in one_way)
    legs = _car_legs(planner, hochschule, klinikum)
    assert legs, "the free-floating cars still give an option"
    for leg in legs:
        r = leg.rental
        assert r is not None
        if "station" in r:  # a round-trip car may only end at the station it came from
            assert r["return_constraint"] == "roundtrip_station"
            assert r["return_station"]["station_id"] == r["station"]["station_id"]
        else:
            assert r["return_constraint"] == "free_floating" and "return_station" not in r
        assert leg.to_json()["return_constraint"] == r["return_constraint"]


def test_only_round_trip_cars_near_the_origin_gives_the_reason(planner: Planner) -> None:
    snap = _snapshot(planner)
    stations_only = dataclasses.replace(snap, vehicles=tuple(v for v in snap.vehicles if v.station_id))
    with pytest.raises(NoRouteError, match="returned to their home station"):
        _car_legs(_with(planner, stations_only), _station(snap, "kc-03"), _station(snap, "kc-04"))


def test_one_way_station_car_ends_at_a_station_with_room(planner: Planner) -> None:
    snap = _room(_one_way(_snapshot(planner)), "kc-04", 6)
    snap = dataclasses.replace(snap, vehicles=tuple(v for v in snap.vehicles if v.station_id))
    hochschule, klinikum = _station(snap, "kc-03"), _station(snap, "kc-04")
    legs = _car_legs(_with(planner, snap), hochschule, klinikum)
    assert legs
    back = legs[0].rental["return_station"]["station_id"]  # type: ignore[index]
    assert back == "kc-04" and takes_returns(snap, _station(snap, back), "car_share")
    assert legs[0].rental["availability"]["docks_available"] > 0  # type: ignore[index]
    # Klinikum full: every space taken by a parked car
    full = dataclasses.replace(
        snap,
        stations=tuple(
            dataclasses.replace(s, num_vehicles_available=6) if s.station_id == "kc-04" else s
            for s in snap.stations
        ),
    )
    assert not takes_returns(full, _station(full, "kc-04"), "car_share")
    try:
        again = _car_legs(_with(planner, full), hochschule, klinikum)
    except NoRouteError as exc:
        assert "returned" in str(exc)
        return
    for leg in again:
        assert leg.rental["return_station"]["station_id"] != "kc-04"  # type: ignore[index]
