"""``GET /api/v1/sharing/stations`` and ``/vehicles`` on the demo city's moving GBFS feeds: the live
counts, the bbox, system and form factor filters, freshness and stale flags, and bad filters."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mobility.live.state import LiveState
from scenarios.demo.live import moving_station_status, moving_vehicle_status
from tests.api.live_api_helpers import Clock, DemoFeeds, client_on, gbfs_at, morning

BBOX = (7.805, 51.672, 7.815, 51.680)  # around the main station


def _expected_stations(demo: Path, seed: int, now: dt.datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """Station positions and live counts straight from the demo's files, moved to ``now``."""
    out = {}
    for system in ("knotenrad", "knotencar"):
        info = json.loads((demo / "gbfs" / system / "station_information.json").read_text())
        status = moving_station_status(
            json.loads((demo / "gbfs" / system / "station_status.json").read_text()), seed, now
        )
        counts = {s["station_id"]: s for s in status["data"]["stations"]}
        for s in info["data"]["stations"]:
            live = counts[s["station_id"]]
            out[(system, s["station_id"])] = {
                "lat": s["lat"],
                "lon": s["lon"],
                "vehicles_available": live["num_vehicles_available"],
                "docks_available": live.get("num_docks_available"),
            }
    return out


def _inside(lat: float, lon: float) -> bool:
    return BBOX[0] <= lon <= BBOX[2] and BBOX[1] <= lat <= BBOX[3]


@pytest.fixture()
def fed(api_data_dir: Path, demo_feeds: DemoFeeds) -> tuple[Any, Clock, dt.datetime]:
    now = morning(9, 17)
    clock = Clock(now)
    state = LiveState(clock=clock)
    demo_feeds.feed(state, now)
    return client_on(api_data_dir, state), clock, now


def test_stations_carry_the_live_counts(fed: tuple[Any, Clock, dt.datetime], demo_feeds: DemoFeeds) -> None:
    client, _, now = fed
    body = client.get("/api/v1/sharing/stations").get_json()
    expected = _expected_stations(demo_feeds.demo_dir, demo_feeds.seed, now)
    got = {(s["system_id"], s["station_id"]): s for s in body["stations"]}
    assert set(got) == set(expected)
    for key, want in expected.items():
        assert {k: got[key][k] for k in want} == want, key


def test_bbox_system_and_form_factor_filter_stations(
    fed: tuple[Any, Clock, dt.datetime], demo_feeds: DemoFeeds
) -> None:
    client, _, now = fed
    expected = _expected_stations(demo_feeds.demo_dir, demo_feeds.seed, now)
    bbox = ",".join(str(x) for x in BBOX)
    inside = {k for k, v in expected.items() if _inside(v["lat"], v["lon"])}
    assert inside and inside != set(expected)
    body = client.get(f"/api/v1/sharing/stations?bbox={bbox}").get_json()
    assert {(s["system_id"], s["station_id"]) for s in body["stations"]} == inside
    cars = client.get("/api/v1/sharing/stations?form_factor=car").get_json()["stations"]
    assert cars and {s["system_id"] for s in cars} == {"knotencar"}
    bikes = client.get("/api/v1/sharing/stations?form_factor=bicycle").get_json()["stations"]
    assert bikes and {s["system_id"] for s in bikes} == {"knotenrad"}
    rad = client.get("/api/v1/sharing/stations?system_id=knotenrad").get_json()["stations"]
    assert {(s["system_id"], s["station_id"]) for s in rad} == {k for k in expected if k[0] == "knotenrad"}
    none = client.get("/api/v1/sharing/stations?system_id=knotenrad&form_factor=car").get_json()["stations"]
    assert none == []


def test_vehicles_are_where_the_feed_puts_them_now(
    fed: tuple[Any, Clock, dt.datetime], demo_feeds: DemoFeeds
) -> None:
    client, _, now = fed
    demo, seed = demo_feeds.demo_dir, demo_feeds.seed
    expected = {}
    for system in ("knotenscoot", "knotencar"):
        doc = json.loads((demo / "gbfs" / system / "vehicle_status.json").read_text())
        for v in moving_vehicle_status(doc, seed, now)["data"]["vehicles"]:
            if "lat" in v:
                expected[(system, v["vehicle_id"])] = (v["lat"], v["lon"])
    body = client.get("/api/v1/sharing/vehicles").get_json()
    got = {(v["system_id"], v["vehicle_id"]): (v["lat"], v["lon"]) for v in body["vehicles"]}
    assert {k: got[k] for k in expected} == expected
    stations = {(s["system_id"], s["station_id"]): (s["lat"], s["lon"]) for s in client.get(
        "/api/v1/sharing/stations").get_json()["stations"]}  # fmt: skip
    for v in body["vehicles"]:  # parked cars stand at their station
        if (v["system_id"], v["vehicle_id"]) not in expected:
            assert (v["lat"], v["lon"]) == stations[(v["system_id"], v["station_id"])]
    bbox = ",".join(str(x) for x in BBOX)
    inside = client.get(f"/api/v1/sharing/vehicles?bbox={bbox}&form_factor=scooter_standing").get_json()
    want = {k for k, (lat, lon) in expected.items() if k[0] == "knotenscoot" and _inside(lat, lon)}
    assert want and {(v["system_id"], v["vehicle_id"]) for v in inside["vehicles"]} == want
    cars = client.get("/api/v1/sharing/vehicles?form_factor=car").get_json()["vehicles"]
    assert cars and all(v["form_factor"] == "car" for v in cars)


def test_freshness_follows_the_feeds_and_turns_stale(fed: tuple[Any, Clock, dt.datetime]) -> None:
    client, clock, now = fed
    body = client.get("/api/v1/sharing/stations").get_json()
    minute = now.replace(second=0, microsecond=0)
    assert dt.datetime.fromisoformat(body["as_of"]) == minute
    assert body["age_s"] == (now - minute).total_seconds() and body["stale"] is False
    assert {f["name"] for f in body["feeds"]} == {"demo-knotenrad", "demo-knotenscoot", "demo-knotencar"}
    clock.set(now + dt.timedelta(hours=1))
    later = client.get("/api/v1/sharing/vehicles").get_json()
    assert later["stale"] is True and later["age_s"] == 3600.0 + (now - minute).total_seconds()
    assert all(f["stale"] for f in later["feeds"])


def test_without_any_gbfs_feed_the_lists_are_empty_and_stale(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    body = client.get("/api/v1/sharing/stations").get_json()
    assert (
        body["stations"] == [] and body["stale"] is True and body["as_of"] is None and body["age_s"] is None
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=7.8,51.6,7.9", "bbox"),
        ("bbox=7.8", "bbox"),
        ("bbox=", "bbox"),
        ("bbox=7.8,51.6,east,51.7", "bbox"),
        ("bbox=nan,51.6,7.9,51.7", "bbox"),
        ("bbox=%207.8,51.6,7.9,51.7", "bbox"),  # float() would take the space; the pattern does not
        ("form_factor=boat", "form_factor"),
        ("near=hbf", "near"),
    ],
)
@pytest.mark.parametrize("what", ["stations", "vehicles"])
def test_malformed_filters_are_400_problems(api_data_dir: Path, query: str, field: str, what: str) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/sharing/{what}?{query}")
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("query", "constraint", "limit"),
    [
        ("bbox=7.9,51.6,7.8,51.7", "rule", None),  # four numbers, but no box
        ("bbox=7.8,-91,7.9,51.7", "range", "lon [-180, 180], lat [-90, 90]"),
        ("bbox=1e999,51.6,7.9,51.7", "finite", None),
        ("system_id=", "minLength", 1),
    ],
)
@pytest.mark.parametrize("what", ["stations", "vehicles"])
def test_filters_of_the_right_form_beyond_a_limit_are_422_naming_value_and_limit(
    api_data_dir: Path, query: str, constraint: str, limit: object, what: str
) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/sharing/{what}?{query}")
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    field, value = query.split("=")
    assert (body["field"], body["value"], body["constraint"]) == (field, value, constraint)
    assert body.get("limit") == limit
    assert body["detail"].startswith(f"{field} = {value}:")


def test_a_new_snapshot_shows_at_once_even_within_the_same_second(
    api_data_dir: Path, demo_feeds: DemoFeeds
) -> None:
    now = morning(9, 17)
    state = LiveState(clock=Clock(now))  # the clock stands still
    demo_feeds.feed(state, now)
    client = client_on(api_data_dir, state)
    later = now + dt.timedelta(minutes=7)
    first = client.get("/api/v1/sharing/stations?system_id=knotenrad").get_json()["stations"]
    _, payload = gbfs_at(demo_feeds.demo_dir, "knotenrad", demo_feeds.seed, later)
    state.accept("demo-knotenrad", "gbfs", payload)
    second = client.get("/api/v1/sharing/stations?system_id=knotenrad").get_json()["stations"]
    expected = _expected_stations(demo_feeds.demo_dir, demo_feeds.seed, later)
    assert [s["vehicles_available"] for s in first] != [s["vehicles_available"] for s in second]
    assert all(
        s["vehicles_available"] == expected[("knotenrad", s["station_id"])]["vehicles_available"]
        for s in second
    )
