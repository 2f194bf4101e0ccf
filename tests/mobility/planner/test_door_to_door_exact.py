"""Door-to-door walk + transit against the independent brute-force reference on real data.

Tolerance as agreed for the planner: never earlier than the reference, never later by more than
2 min or 5 % of the trip.  The same queries also check that walking legs follow the streets
(length within 1 % of the reference's shortest walk) and that no ride is boarded before the
traveller reaches its stop.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from mobility.cache import get_timetable
from mobility.errors import NoRouteError
from mobility.planner.itinerary import TRANSIT_MODES
from mobility.planner.plan import Planner
from mobility.planner.query import PlanQuery
from mobility.streets.cache import load_network
from tests.mobility.planner.door_queries import random_door_queries
from tests.mobility.planner.door_reference import DoorReference

HEL = ("helsinki_centre.osm.pbf", "hsl_helsinki_centre_2022.gtfs.zip", dt.date(2022, 2, 22))
CASES = {  # osm, gtfs, date, queries, walk speed, max walk per access/egress
    "sao_paulo": ("sao_paulo.osm.pbf", "sao_paulo_sptrans.gtfs.zip", dt.date(2019, 5, 6), 30, 1.2, 1500.0),
    "helsinki": (*HEL, 25, 1.2, 1500.0),
    "helsinki_slow_walker": (*HEL, 20, 0.9, 800.0),
}


@pytest.mark.slow
@pytest.mark.parametrize("city", sorted(CASES))
def test_door_to_door_matches_brute_force_reference(city: str, shared_data: Path, tmp_path: Path) -> None:
    osm, gtfs, date, n, speed, max_walk = CASES[city]
    net = load_network(shared_data / "osm" / osm, tmp_path)
    tt, _ = get_timetable([shared_data / "gtfs" / gtfs], date, tmp_path)
    planner = Planner(net, tt)
    ref = DoorReference(shared_data / "osm" / osm, shared_data / "gtfs" / gtfs, date, walk_speed_mps=speed,
                        max_walk_m=max_walk)  # fmt: skip
    worse = []
    transit_wins = 0
    for flat, flon, tlat, tlon, t in random_door_queries(planner, n, seed=7):
        when = planner.at(t)
        q = PlanQuery(flat, flon, tlat, tlon, when, walk_speed_mps=speed, max_walk_m=max_walk)
        got, rides = planner.earliest(q)
        want, _ = ref.query((flat, flon), (tlat, tlon), t)
        assert (got is None) == (want is None), (flat, flon, tlat, tlon, t)
        if got is None or want is None:
            continue
        assert got >= want, (
            f"earlier than the reference allows: {got} < {want} ({flat},{flon}->{tlat},{tlon} @{t})"
        )
        assert got - want <= max(120, 0.05 * (want - t)), (
            f"{got - want} s late ({flat},{flon}->{tlat},{tlon} @{t})"
        )
        worse.append(got - want)
        transit_wins += bool(rides)
        _check_itineraries(planner, ref, q, got)
    assert len(worse) >= n // 2
    assert transit_wins >= 3, "too few queries where transit beats walking to test anything"


def _check_itineraries(planner: Planner, ref: DoorReference, q: PlanQuery, earliest: int) -> None:
    try:
        its = planner.plan(q)
    except NoRouteError:
        pytest.fail("plan() found nothing where earliest() did")
    best = min(planner.gtfs_seconds(it.end) for it in its)
    assert best == earliest
    for it in its:
        for prev, leg in zip(it.legs, it.legs[1:], strict=False):
            assert prev.end.scheduled <= leg.start.scheduled, "a leg starts before the previous one ends"
            if leg.mode in TRANSIT_MODES:
                assert prev.end.scheduled <= leg.start.scheduled
        for leg in it.legs:
            if leg.mode == "WALK" and leg.distance_m > 30:
                street = ref.walk_m(
                    (leg.origin.lat, leg.origin.lon), (leg.destination.lat, leg.destination.lon)
                )
                assert abs(leg.distance_m - street) <= 0.01 * street + 1.0, (leg.distance_m, street)
                assert len(leg.points) >= 2
        assert np.isfinite(it.walk_m)
