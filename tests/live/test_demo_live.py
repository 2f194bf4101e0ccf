"""The demo city comes alive: its TripUpdates shift departures and routes, a cancelled trip is no
longer offered, and sharing and chargers change with the clock."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import numpy as np

from mobility.footpaths import gtfs_footpaths
from mobility.raptor import Router
from mobility.realtime.gtfs_rt import TripRelationship, parse_feed
from mobility.realtime.overlay import OverlayBase, build_overlay
from mobility.sharing.gbfs import validate_document
from mobility.timetable import build_timetable
from scenarios.demo import DemoCity
from scenarios.demo.live import DemoRealtime, moving_locations, moving_station_status, moving_vehicle_status

TZ = ZoneInfo("Europe/Berlin")


def test_demo_trip_updates_shift_departures_and_drop_the_cancelled_trip(demo_city: DemoCity) -> None:
    day = demo_city.build_date
    now = dt.datetime.combine(day, dt.time(8, 5), tzinfo=TZ)
    feed = parse_feed(DemoRealtime(demo_city.gtfs, demo_city.seed).trip_updates(now), "demo")
    tt = build_timetable([demo_city.gtfs], day)
    base = OverlayBase(tt)
    overlay = build_overlay(base, feed)
    assert feed.skipped == 0 and overlay.problems == () and overlay.applied == len(feed.trip_updates)

    delayed = [
        tu for tu in feed.trip_updates if tu.stop_time_updates and tu.stop_time_updates[0].arrival_delay_s
    ]
    assert len(delayed) >= 5
    for tu in delayed:
        inst = base.instance(base.trip_index[tu.trip_id or ""], 0)
        p, start, n = base.rows(inst)
        stops = base.transit.pat_stops[base.transit.pat_stop_off[p] :][:n]
        at = int(np.flatnonzero(stops == tt.stop_index(tu.stop_time_updates[0].stop_id or ""))[0])
        assert [overlay.delay_s(inst, i) for i in range(n)] == [0] * at + [
            tu.stop_time_updates[0].arrival_delay_s
        ] * (n - at)
        deps = overlay.departures(int(stops[at]), 0, 48 * 3600)
        mine = [d for d in deps if d.trip_id == tu.trip_id]
        assert mine and mine[0].delay_s == tu.stop_time_updates[0].arrival_delay_s

    (cancelled,) = [tu for tu in feed.trip_updates if tu.relationship == TripRelationship.CANCELED]
    inst = base.instance(base.trip_index[cancelled.trip_id or ""], 0)
    p, start, n = base.rows(inst)
    stops = base.transit.pat_stops[base.transit.pat_stop_off[p] :][:n]
    t0 = int(base.transit.dep_s[start])
    fp = gtfs_footpaths(tt)
    plain = Router(tt, fp).pareto(np.array([stops[0]]), np.array([stops[1]]), t0)
    live = Router(tt, fp, transit=overlay.transit).pareto(np.array([stops[0]]), np.array([stops[1]]), t0)
    plain_trips = {str(tt.trip_ids[tt.inst_trip[r.trip]]) for j in plain for r in j.rides}
    live_trips = {overlay.trip_id(r.trip) for j in live for r in j.rides}
    assert cancelled.trip_id in plain_trips
    assert cancelled.trip_id not in live_trips
    assert min(j.arrival_s for j in live) > min(j.arrival_s for j in plain)
    deps = overlay.departures(int(stops[0]), t0, t0)
    assert [(d.trip_id, d.cancelled) for d in deps if d.trip_id == cancelled.trip_id] == [
        (cancelled.trip_id, True)
    ]


def test_demo_sharing_and_chargers_move_with_the_clock_and_stay_valid(demo_city: DemoCity) -> None:
    t1 = dt.datetime.combine(demo_city.build_date, dt.time(9, 0), tzinfo=TZ)
    t2 = t1 + dt.timedelta(minutes=10)
    status = json.loads((demo_city.gbfs_dir / "knotenrad" / "station_status.json").read_text())
    a, b = (
        moving_station_status(status, demo_city.seed, t1),
        moving_station_status(status, demo_city.seed, t2),
    )
    assert validate_document("station_status", "3.0", a) == []
    counts = [[s["num_vehicles_available"] for s in d["data"]["stations"]] for d in (a, b)]
    assert counts[0] != counts[1]
    for s in a["data"]["stations"]:
        assert s["num_vehicles_available"] == sum(x["count"] for x in s["vehicle_types_available"])
    assert moving_station_status(status, demo_city.seed, t1) == a  # a function of clock and seed

    cars = json.loads((demo_city.gbfs_dir / "knotencar" / "vehicle_status.json").read_text())
    moved = moving_vehicle_status(cars, demo_city.seed, t2)
    assert validate_document("vehicle_status", "3.0", moved) == []
    before = {v["vehicle_id"]: v for v in cars["data"]["vehicles"]}
    for v in moved["data"]["vehicles"]:
        if v.get("station_id"):
            assert "lat" not in v or (v["lat"], v["lon"]) == (
                before[v["vehicle_id"]]["lat"],
                before[v["vehicle_id"]]["lon"],
            )
    assert any(
        v.get("lat") != before[v["vehicle_id"]].get("lat") for v in moved["data"]["vehicles"] if "lat" in v
    )

    locations = json.loads((demo_city.root / "ocpi" / "locations.json").read_text())
    s1 = [e["status"] for loc in moving_locations(locations, demo_city.seed, t1) for e in loc["evses"]]
    s2 = [e["status"] for loc in moving_locations(locations, demo_city.seed, t2) for e in loc["evses"]]
    assert s1 != s2 and {"CHARGING", "AVAILABLE"} <= set(s1) | set(s2)
