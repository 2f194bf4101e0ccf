"""Realtime overlay: delays, cancellations, skipped stops, added trips and overtaking, routed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from mobility.footpaths import Footpaths
from mobility.raptor import Router
from mobility.realtime.gtfs_rt import StopRelationship, StopTimeUpdate, TripRelationship, TripUpdate
from mobility.realtime.overlay import OverlayBase, RealtimeOverlay, build_overlay, service_day_epoch
from mobility.timetable import Timetable, build_timetable

DATE = dt.date(2024, 3, 4)
STOPS = "ABCD"


def _hms(s: int) -> str:
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _write_line(d: Path, prefix: str = "L", stop_ids: str = STOPS) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "agency.txt").write_text(
        "agency_id,agency_name,agency_url,agency_timezone\nK,K,https://k.example,Europe/Berlin\n"
    )
    (d / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "WK,1,1,1,1,1,1,1,20240101,20241231\n"
    )
    (d / "routes.txt").write_text(
        "route_id,agency_id,route_short_name,route_long_name,route_type\nL,K,L,Line,3\n"
    )
    stops = "".join(f"{s},Stop {s},51.{i}0,7.{i}0\n" for i, s in enumerate(stop_ids))
    (d / "stops.txt").write_text("stop_id,stop_name,stop_lat,stop_lon\n" + stops)
    trips, times = [], []
    for k in range(4):  # L1 08:00, L2 08:15, L3 08:30, L4 08:45; 10 min between stops
        trips.append(f"L,WK,{prefix}{k + 1}\n")
        for i, s in enumerate(stop_ids):
            t = 8 * 3600 + k * 900 + i * 600
            times.append(f"{prefix}{k + 1},{_hms(t)},{_hms(t)},{s},{i + 1}\n")
    (d / "trips.txt").write_text("route_id,service_id,trip_id\n" + "".join(trips))
    (d / "stop_times.txt").write_text(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join(times)
    )
    return d


@pytest.fixture(scope="module")
def tt(tmp_path_factory: pytest.TempPathFactory) -> Timetable:
    return build_timetable([_write_line(tmp_path_factory.mktemp("line"))], DATE)


@pytest.fixture(scope="module")
def base(tt: Timetable) -> OverlayBase:
    return OverlayBase(tt)


def _route(tt: Timetable, transit: object, frm: str, to: str, t0_s: int) -> int:
    router = Router(tt, Footpaths.none(tt.n_stops), transit=transit)  # type: ignore[arg-type]
    arrival, _ = router.earliest_arrival(np.array([tt.stop_index(frm)]), np.array([tt.stop_index(to)]), t0_s)
    return arrival


def _delay(trip: str, stop: str, delay_s: int) -> TripUpdate:
    return TripUpdate(
        trip, trip, None, None, None, None, TripRelationship.SCHEDULED,
        (StopTimeUpdate(None, stop, arrival_delay_s=delay_s),),
    )  # fmt: skip


def test_delay_propagates_along_the_trip_and_shifts_arrivals(tt: Timetable, base: OverlayBase) -> None:
    plain = _route(tt, tt.transit, "A", "D", 8 * 3600)
    ov = build_overlay(base, [_delay("L1", "B", 240)])
    assert plain == 8 * 3600 + 1800
    assert _route(tt, ov.transit, "A", "D", 8 * 3600) == plain + 240
    # the stop before the delayed one keeps its time
    orig = base.instance(base.trip_index["L1"], 0)
    assert ov.delay_s(orig, 0) == 0 and ov.delay_s(orig, 3) == 240
    # the timetable itself is untouched
    assert _route(tt, tt.transit, "A", "D", 8 * 3600) == plain


def test_cancelled_trip_is_no_longer_offered(tt: Timetable, base: OverlayBase) -> None:
    cancel = TripUpdate("c", "L1", None, None, None, None, TripRelationship.CANCELED, ())
    ov = build_overlay(base, [cancel])
    assert _route(tt, ov.transit, "A", "D", 8 * 3600) == 8 * 3600 + 900 + 1800  # L2
    deps = ov.departures(tt.stop_index("A"), 8 * 3600, 8 * 3600 + 1200)
    assert [(d.trip_id, d.cancelled) for d in deps] == [("L1", True), ("L2", False)]


def test_skipped_stop_cannot_be_left_there(tt: Timetable, base: OverlayBase) -> None:
    skip = TripUpdate(
        "s", "L1", None, None, None, None, TripRelationship.SCHEDULED,
        (StopTimeUpdate(None, "C", relationship=StopRelationship.SKIPPED),),
    )  # fmt: skip
    ov = build_overlay(base, [skip])
    assert _route(tt, ov.transit, "A", "C", 8 * 3600) == 8 * 3600 + 900 + 1200  # L2 at C
    assert _route(tt, ov.transit, "A", "D", 8 * 3600) == 8 * 3600 + 1800  # L1 still runs to D


def test_added_trip_is_offered(tt: Timetable, base: OverlayBase) -> None:
    epoch = service_day_epoch(DATE, "Europe/Berlin")
    t = 8 * 3600 + 300
    added = TripUpdate(
        "a", "EXTRA", "L", None, None, None, TripRelationship.ADDED,
        (
            StopTimeUpdate(1, "A", departure_time=epoch + t),
            StopTimeUpdate(2, "D", arrival_time=epoch + t + 900),
        ),
    )  # fmt: skip
    ov = build_overlay(base, [added])
    assert _route(tt, ov.transit, "A", "D", 8 * 3600 + 60) == t + 900
    deps = ov.departures(tt.stop_index("A"), t, t)
    assert [(d.trip_id, d.added) for d in deps] == [("EXTRA", True)]


def test_overtaking_after_a_delay_keeps_routing_exact(tt: Timetable, base: OverlayBase) -> None:
    # L1 is 25 min late from B on: L2 (08:15) now overtakes it and must still be found
    ov = build_overlay(base, [_delay("L1", "B", 1500)])
    assert ov.transit.n_patterns > tt.transit.n_patterns
    assert _route(tt, ov.transit, "A", "D", 8 * 3600) == 8 * 3600 + 900 + 1800  # L2, not late L1
    assert _route(tt, ov.transit, "B", "D", 8 * 3600 + 600 + 1500) == 8 * 3600 + 1800 + 1500  # L1 late
    ids = {ov.trip_id(i) for i in range(len(ov.inst_orig))}
    assert ids == {"L1", "L2", "L3", "L4"}


def test_bad_update_is_skipped_the_rest_applies(tt: Timetable, base: OverlayBase) -> None:
    ov = build_overlay(base, [_delay("NOPE", "B", 60), _delay("L1", "Z", 60), _delay("L1", "B", 120)])
    assert ov.applied == 1
    assert [p.message for p in ov.problems] == [
        "unknown trip_id 'NOPE'",
        "stop_time_update/0: stop 'Z' is not on the trip",
    ]
    assert _route(tt, ov.transit, "A", "D", 8 * 3600) == 8 * 3600 + 1800 + 120


def test_empty_overlay_routes_like_the_timetable(tt: Timetable, base: OverlayBase) -> None:
    ov = RealtimeOverlay.empty(base)
    assert _route(tt, ov.transit, "A", "D", 8 * 3600 + 60) == _route(tt, tt.transit, "A", "D", 8 * 3600 + 60)


def test_added_trip_along_an_existing_pattern_joins_it(tt: Timetable, base: OverlayBase) -> None:
    epoch = service_day_epoch(DATE, "Europe/Berlin")
    t = 8 * 3600 + 300  # between L1 (08:00) and L2 (08:15), and faster: overtakes nothing
    updates = tuple(
        StopTimeUpdate(i + 1, s, arrival_time=epoch + t + 500 * i, departure_time=epoch + t + 500 * i)
        for i, s in enumerate(STOPS)
    )
    added = TripUpdate("a", "EXTRA2", "L", None, None, None, TripRelationship.ADDED, updates)
    ov = build_overlay(base, [added])
    assert ov.transit.n_patterns == tt.transit.n_patterns  # joined, no pattern of its own
    assert _route(tt, ov.transit, "A", "D", 8 * 3600 + 60) == t + 1500
    assert [d.trip_id for d in ov.departures(tt.stop_index("B"), t + 500, t + 500)] == ["EXTRA2"]


def test_merged_timetables_take_the_feeds_own_ids(tmp_path: Path) -> None:
    north = _write_line(tmp_path / "north", "N")
    south = _write_line(tmp_path / "south", "S", "AWXY")  # stop A is in both feeds
    merged = build_timetable([north, south], DATE)
    base = OverlayBase(merged)
    ov = build_overlay(base, [_delay("N1", "B", 120)])  # the realtime feed says N1 and B, not north:...
    assert ov.applied == 1 and ov.problems == ()
    orig = base.instance(base.trip_index["north:N1"], 0)
    assert ov.delay_s(orig, 3) == 120
    ambiguous = build_overlay(base, [_delay("N1", "A", 60)])  # stop A exists in both feeds
    assert ambiguous.applied == 0 and "stop 'A'" in ambiguous.problems[0].message
