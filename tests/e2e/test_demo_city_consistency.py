"""The demo city's datasets agree with each other, each read from its own file.

SUMO's buses are the GTFS weekday bus trips of the simulated hour (same lines, same stop order),
SUMO's bus stops are GTFS stops at the right place, the station hub's GTFS station, sharing
stations and charging site lie together, and the timetable knows North Rhine-Westphalia's public
holidays (checked against the independent ``holidays`` package).
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import holidays
import pytest

SUMO_BEGIN_S = 7 * 3600  # README: buses.rou.xml holds the weekday GTFS buses departing 07:00-08:00
SUMO_END_S = 8 * 3600
HUB_RADIUS_M = 150.0


def _table(zip_path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(zip_path) as zf:
        return list(csv.DictReader(io.StringIO(zf.read(name).decode("utf-8-sig"))))


def _seconds(hms: str) -> int:
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


def _gtfs_weekday_buses(gtfs: Path, begin_s: int, end_s: int) -> list[tuple[int, str, tuple[str, ...]]]:
    """(first departure, route_id, stop_ids) of every weekday bus trip instance starting in the window."""
    weekday_services = {
        r["service_id"]
        for r in _table(gtfs, "calendar.txt")
        if all(r[d] == "1" for d in ("monday", "tuesday", "wednesday", "thursday", "friday"))
    }
    bus_routes = {r["route_id"] for r in _table(gtfs, "routes.txt") if r["route_type"] == "3"}
    trips = {
        r["trip_id"]: r["route_id"]
        for r in _table(gtfs, "trips.txt")
        if r["service_id"] in weekday_services and r["route_id"] in bus_routes
    }
    calls: dict[str, list[tuple[int, str, str]]] = {}
    for r in _table(gtfs, "stop_times.txt"):
        if r["trip_id"] in trips:
            calls.setdefault(r["trip_id"], []).append(
                (int(r["stop_sequence"]), r["stop_id"], r["departure_time"])
            )
    frequencies: dict[str, list[tuple[int, int, int]]] = {}
    for r in _table(gtfs, "frequencies.txt"):
        frequencies.setdefault(r["trip_id"], []).append(
            (_seconds(r["start_time"]), _seconds(r["end_time"]), int(r["headway_secs"]))
        )
    out = []
    for trip_id, route_id in trips.items():
        ordered = sorted(calls[trip_id])
        stops = tuple(stop for _, stop, _ in ordered)
        starts = [_seconds(ordered[0][2])]
        if trip_id in frequencies:  # exact_times=1: one instance every headway from start_time
            starts = [t for a, b, h in frequencies[trip_id] for t in range(a, b, h)]
        out += [(t, route_id, stops) for t in starts if begin_s <= t < end_s]
    return sorted(out)


def test_sumo_buses_are_the_gtfs_weekday_buses_of_the_hour(demo_city: Any) -> None:
    expected = _gtfs_weekday_buses(demo_city.gtfs, SUMO_BEGIN_S, SUMO_END_S)
    routes = ET.parse(demo_city.sumo_dir / "buses.rou.xml").getroot()
    simulated = sorted(
        (
            round(float(v.get("depart", "nan"))),
            v.get("line", ""),
            tuple(s.get("busStop", "") for s in v.iter("stop")),
        )
        for v in routes.iter("vehicle")
    )
    assert len(expected) >= 30
    assert simulated == expected
    assert demo_city.manifest()["counts"]["sumo"]["buses"] == len(expected)


def test_sumo_bus_stops_are_the_gtfs_stops_at_their_place(demo_city: Any) -> None:
    import sumolib

    stops = {r["stop_id"]: r for r in _table(demo_city.gtfs, "stops.txt")}
    bus_routes = {r["route_id"] for r in _table(demo_city.gtfs, "routes.txt") if r["route_type"] == "3"}
    bus_trips = {r["trip_id"] for r in _table(demo_city.gtfs, "trips.txt") if r["route_id"] in bus_routes}
    served_by_bus = {
        r["stop_id"] for r in _table(demo_city.gtfs, "stop_times.txt") if r["trip_id"] in bus_trips
    }
    net = sumolib.net.readNet(str(demo_city.sumo_net))
    bus_stops = list(ET.parse(demo_city.sumo_dir / "bus_stops.add.xml").getroot().iter("busStop"))
    assert {b.get("id") for b in bus_stops} == served_by_bus
    worst = 0.0
    for b in bus_stops:
        gtfs_stop = stops[b.get("id", "")]
        assert gtfs_stop["location_type"] in ("", "0") and b.get("name") == gtfs_stop["stop_name"]
        lane = net.getLane(b.get("lane"))
        middle = (float(b.get("startPos", "0")) + float(b.get("endPos", "0"))) / 2
        x, y = sumolib.geomhelper.positionAtShapeOffset(lane.getShape(), min(middle, lane.getLength()))
        lon, lat = net.convertXY2LonLat(x, y)
        worst = max(worst, _distance_m(lat, lon, float(gtfs_stop["stop_lat"]), float(gtfs_stop["stop_lon"])))
    assert worst < 40.0


def test_the_hub_station_sharing_stations_and_chargers_lie_together(demo_city: Any) -> None:
    hub = demo_city.manifest()["hub"]
    stops = {r["stop_id"]: r for r in _table(demo_city.gtfs, "stops.txt")}
    station = stops[hub["gtfs_stop_id"]]
    assert station["location_type"] == "1"
    places = {"gtfs": (float(station["stop_lat"]), float(station["stop_lon"]))}
    for system, station_id in hub["gbfs_station_ids"].items():
        info = json.loads((demo_city.gbfs_dir / system / "station_information.json").read_text())
        match = [s for s in info["data"]["stations"] if s["station_id"] == station_id]
        assert len(match) == 1, (system, station_id)
        places[system] = (float(match[0]["lat"]), float(match[0]["lon"]))
    locations = json.loads(demo_city.ocpi_locations.read_text())
    site = [loc for loc in locations if loc["id"] == hub["ocpi_location_id"]]
    assert len(site) == 1
    places["ocpi"] = (float(site[0]["coordinates"]["latitude"]), float(site[0]["coordinates"]["longitude"]))
    assert set(places) == {"gtfs", "knotenrad", "knotencar", "ocpi"}
    for a, (lat1, lon1) in places.items():
        for b, (lat2, lon2) in places.items():
            assert _distance_m(lat1, lon1, lat2, lon2) <= HUB_RADIUS_M, (a, b)
    # and no other sharing station or charging site claims that spot
    others = [
        (float(loc["coordinates"]["latitude"]), float(loc["coordinates"]["longitude"]))
        for loc in locations
        if loc["id"] != hub["ocpi_location_id"]
    ]
    assert all(_distance_m(*places["gtfs"], *o) > HUB_RADIUS_M for o in others)


def _check_nrw_holidays(gtfs: Path) -> dict[str, int]:
    """calendar_dates.txt holds exactly the NRW holidays of the feed period: on a weekday or a
    Saturday the regular service is removed and the Sunday service added; Sundays need nothing."""
    calendar = _table(gtfs, "calendar.txt")
    start = min(datetime.strptime(r["start_date"], "%Y%m%d").date() for r in calendar)
    end = max(datetime.strptime(r["end_date"], "%Y%m%d").date() for r in calendar)
    by_day = {
        r["service_id"]: [
            d
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
            if r[d] == "1"
        ]
        for r in calendar
    }
    sunday = next(s for s, days in by_day.items() if days == ["sunday"])
    nrw = holidays.country_holidays("DE", subdiv="NW", years=range(start.year, end.year + 1))
    expected: set[tuple[str, str, str]] = set()
    kinds = {"weekday": 0, "saturday": 0, "sunday": 0}
    for day in sorted(d for d in nrw if start <= d <= end):
        name = day.strftime("%A").lower()
        if name == "sunday":
            kinds["sunday"] += 1
            continue
        kinds["saturday" if name == "saturday" else "weekday"] += 1
        regular = next(s for s, days in by_day.items() if name in days)
        expected |= {(regular, day.strftime("%Y%m%d"), "2"), (sunday, day.strftime("%Y%m%d"), "1")}
    rows = {(r["service_id"], r["date"], r["exception_type"]) for r in _table(gtfs, "calendar_dates.txt")}
    assert rows == expected
    return kinds


def test_timetable_runs_the_sunday_service_on_every_nrw_holiday(demo_city: Any) -> None:
    kinds = _check_nrw_holidays(demo_city.gtfs)
    assert sum(kinds.values()) >= 10  # a year of holidays


def test_holidays_on_saturdays_and_sundays_of_a_fixed_feed_period(tmp_path: Path) -> None:
    """A build dated 2026-03-01 covers 1 Nov 2026 (a Sunday) and 3 Oct and 26 Dec 2026 (Saturdays)."""
    knoten = Path(sys.executable).parent / "knoten"
    out = tmp_path / "city"
    proc = subprocess.run(
        [str(knoten), "demo", "build", "--seed", "42", "--date", "2026-03-01", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    kinds = _check_nrw_holidays(out / "gtfs" / "demo-city.gtfs.zip")
    assert kinds["sunday"] >= 1 and kinds["saturday"] >= 2 and kinds["weekday"] >= 7
    assert date(2026, 11, 1).weekday() == 6


@pytest.mark.parametrize("system", ["knotenrad", "knotencar"])
def test_hub_sharing_station_is_named_after_the_station(demo_city: Any, system: str) -> None:
    hub = demo_city.manifest()["hub"]
    info = json.loads((demo_city.gbfs_dir / system / "station_information.json").read_text())
    station = next(s for s in info["data"]["stations"] if s["station_id"] == hub["gbfs_station_ids"][system])
    stops = {r["stop_id"]: r for r in _table(demo_city.gtfs, "stops.txt")}
    assert "Hauptbahnhof" in station["name"][0]["text"]
    assert (
        "Hauptbahnhof" in stops[hub["gtfs_stop_id"]]["stop_name"]
        or "Hbf" in stops[hub["gtfs_stop_id"]]["stop_name"]
    )
