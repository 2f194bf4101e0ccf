"""The itinerary JSON shape: RFC 3339 with offset, polyline or GeoJSON, kind-specific fields."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from mobility.planner.itinerary import Itinerary, Leg, LegTime, Place
from mobility.streets.polyline import decode

BERLIN = ZoneInfo("Europe/Berlin")


def _leg(mode: str, start: dt.datetime, minutes: int, **extra: object) -> Leg:
    a, b = Place("A", 52.5, 13.4, "s1"), Place("B", 52.51, 13.41)
    return Leg(mode, a, b, LegTime(start), LegTime(start + dt.timedelta(minutes=minutes)), 1234.5,
               [(52.5, 13.4), (52.505, 13.402), (52.51, 13.41)], **extra)  # type: ignore[arg-type]  # fmt: skip


def test_json_times_have_offsets_and_geometry_decodes() -> None:
    start = dt.datetime(2026, 7, 1, 8, 0, tzinfo=BERLIN)
    bus = _leg(
        "BUS", start + dt.timedelta(minutes=7), 10, transit={"route": {"short_name": "7"}, "trip_id": "t1"}
    )
    it = Itinerary([_leg("WALK", start, 5), bus])
    doc = it.to_json()
    assert doc["start"] == "2026-07-01T08:00:00+02:00" and doc["end"] == "2026-07-01T08:17:00+02:00"
    assert doc["duration_s"] == 17 * 60 and doc["transfers"] == 0
    walk, bus = doc["legs"]
    assert (
        walk["from"] == {"name": "A", "lat": 52.5, "lon": 13.4, "stop_id": "s1"}
        and "stop_id" not in walk["to"]
    )
    assert decode(walk["geometry"]["polyline"], walk["geometry"]["precision"])[1] == (52.505, 13.402)
    assert bus["route"] == {"short_name": "7"} and bus["trip_id"] == "t1" and bus["realtime"] is False
    geo = it.to_json("geojson")["legs"][0]["geometry"]
    assert geo["type"] == "LineString" and geo["coordinates"][0] == [13.4, 52.5]


def test_realtime_estimates_and_naive_times() -> None:
    start = dt.datetime(2026, 1, 5, 8, 0, tzinfo=BERLIN)
    leg = _leg("TRAM", start, 10)
    leg.start = LegTime(start, start + dt.timedelta(seconds=90), 90)
    assert leg.to_json()["start"] == {"scheduled": "2026-01-05T08:00:00+01:00",
                                      "estimated": "2026-01-05T08:01:30+01:00", "delay_s": 90}  # fmt: skip
    naive = _leg("WALK", dt.datetime(2026, 1, 5, 8, 0), 3)
    with pytest.raises(ValueError, match="time-zone aware"):
        naive.to_json()
