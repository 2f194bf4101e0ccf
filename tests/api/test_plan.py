"""``GET /api/v1/plan`` on the demo city: itineraries per mode, live availability, every error."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from api import create_app, load_settings
from mobility.live.state import LiveState
from mobility.planner.itinerary import TRANSIT_MODES
from mobility.planner.query import EV_CONNECTORS
from mobility.streets.graph import haversine_m
from mobility.streets.polyline import decode
from scenarios.demo import DemoCity
from tests.api.graph_data import graph_data_dir as build_graph_data_dir

WEST = "51.6802,7.7870"
MARKT = "51.6801,7.8098"
EAST = "51.6800,7.8330"
TZ = ZoneInfo("Europe/Berlin")
BAD = 400  # malformed parameters: the schema rejects them
LIMIT = 422  # parameters of the published form beyond a limit, a range or a rule


@pytest.fixture(scope="module")
def graph_data_dir(demo_city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_graph_data_dir(demo_city, tmp_path_factory.mktemp("api-data"))


@pytest.fixture(scope="module")
def client(graph_data_dir: Path) -> FlaskClient:
    return create_app(load_settings(environ={}, data_dir=graph_data_dir)).test_client()


def _time(demo_city: DemoCity, hour: int = 8) -> str:
    return dt.datetime.combine(demo_city.build_date, dt.time(hour), tzinfo=TZ).isoformat()


def _get(client: FlaskClient, **params: Any) -> Any:
    return client.get("/api/v1/plan?" + urlencode(params))


def _plan(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = _get(client, **params)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/json"
    doc: dict[str, Any] = response.get_json()
    assert doc["itineraries"], doc
    return doc


def _lat_lon(text: str) -> tuple[float, float]:
    lat, lon = text.split(",")
    return float(lat), float(lon)


def _chained(it: dict[str, Any], frm: str, to: str) -> None:
    """Legs follow each other in time and place, from the origin to the destination."""
    legs = it["legs"]
    start = legs[0]["from"]
    end = legs[-1]["to"]
    assert haversine_m(start["lat"], start["lon"], *_lat_lon(frm)) < 1.0
    assert haversine_m(end["lat"], end["lon"], *_lat_lon(to)) < 1.0
    for a, b in itertools.pairwise(legs):
        assert dt.datetime.fromisoformat(a["end"]["scheduled"]) <= dt.datetime.fromisoformat(
            b["start"]["scheduled"]
        )
        assert haversine_m(a["to"]["lat"], a["to"]["lon"], b["from"]["lat"], b["from"]["lon"]) < 5.0
    assert dt.datetime.fromisoformat(it["start"]).utcoffset() is not None


def test_walk_and_transit_itineraries_leave_after_the_time_and_ride_a_line(
    client: FlaskClient, demo_city: DemoCity
) -> None:
    when = _time(demo_city)
    doc = _plan(client, **{"from": WEST, "to": EAST, "time": when, "modes": "walk,transit"})
    rides = [leg for it in doc["itineraries"] for leg in it["legs"] if leg["mode"] in TRANSIT_MODES]
    assert rides, "expected at least one itinerary with a bus or train"
    for leg in rides:
        assert leg["route"]["short_name"] and leg["trip_id"] and leg["from"]["stop_id"]
    for it in doc["itineraries"]:
        _chained(it, WEST, EAST)
        assert dt.datetime.fromisoformat(it["start"]) >= dt.datetime.fromisoformat(when)
        assert {leg["mode"] for leg in it["legs"]} <= {"WALK"} | TRANSIT_MODES
        for leg in it["legs"]:
            points = decode(leg["geometry"]["polyline"], leg["geometry"]["precision"])
            assert len(points) >= 2
    q = doc["query"]
    assert q["from"] == {"lat": 51.6802, "lon": 7.787} and q["modes"] == ["transit", "walk"]
    assert q["service_date"] == demo_city.build_date.isoformat() and q["arrive_by"] is False
    assert q["availability"] == {"sharing": "snapshot", "chargers": "snapshot"}


def test_arrive_by_itineraries_end_before_the_time(client: FlaskClient, demo_city: DemoCity) -> None:
    when = _time(demo_city, 9)
    doc = _plan(client, **{"from": WEST, "to": EAST, "time": when, "arrive_by": "true"})
    for it in doc["itineraries"]:
        _chained(it, WEST, EAST)
        assert dt.datetime.fromisoformat(it["end"]) <= dt.datetime.fromisoformat(when)
    assert doc["query"]["arrive_by"] is True


@pytest.mark.parametrize(("modes", "leg_mode"), [("bike_share", "BIKE_SHARE"), ("car_share", "CAR_SHARE")])
def test_sharing_itineraries_rent_a_vehicle_of_the_demo_systems(
    client: FlaskClient, demo_city: DemoCity, modes: str, leg_mode: str
) -> None:
    doc = _plan(client, **{"from": WEST, "to": EAST, "time": _time(demo_city), "modes": modes})
    rentals = [leg for it in doc["itineraries"] for leg in it["legs"] if leg["mode"] == leg_mode]
    assert rentals
    systems = json.loads(demo_city.manifest_path.read_text())["gbfs_systems"]
    for leg in rentals:
        assert leg["system_id"] in systems
        assert "station" in leg or "vehicle" in leg
    for it in doc["itineraries"]:
        _chained(it, WEST, EAST)


def test_car_with_ev_connector_ends_at_a_free_fitting_charger(
    client: FlaskClient, demo_city: DemoCity
) -> None:
    params = {"from": WEST, "to": MARKT, "time": _time(demo_city), "modes": "car", "ev_connector": "ccs",
              "min_power_kw": "50"}  # fmt: skip
    doc = _plan(client, **params)
    cars = [leg for it in doc["itineraries"] for leg in it["legs"] if leg["mode"] == "CAR"]
    assert cars and all("evse_id" in leg for leg in cars)
    for leg in cars:
        assert leg["status"] == "AVAILABLE"
        assert leg["connector"]["standard"] in EV_CONNECTORS["CCS"] and leg["max_power_kw"] >= 50
    assert doc["query"]["ev_connector"] == "CCS" and doc["query"]["min_power_kw"] == 50


def test_geojson_geometry_and_german_place_names(client: FlaskClient, demo_city: DemoCity) -> None:
    doc = _plan(client, **{"from": WEST, "to": EAST, "time": _time(demo_city), "geometry": "geojson",
                           "lang": "de"})  # fmt: skip
    first, last = doc["itineraries"][0]["legs"][0], doc["itineraries"][0]["legs"][-1]
    assert first["geometry"]["type"] == "LineString"
    lon, lat = first["geometry"]["coordinates"][0]
    assert haversine_m(lat, lon, *_lat_lon(WEST)) < 1.0
    assert first["from"]["name"] == "Start" and last["to"]["name"] == "Ziel"


def test_max_walk_s_is_converted_with_the_walking_speed(client: FlaskClient, demo_city: DemoCity) -> None:
    doc = _plan(client, **{"from": WEST, "to": EAST, "time": _time(demo_city), "max_walk_s": "600",
                           "walk_speed_mps": "1.5"})  # fmt: skip
    assert doc["query"]["max_walk_m"] == 900.0
    for it in doc["itineraries"]:
        legs = it["legs"]
        if any(leg["mode"] in TRANSIT_MODES for leg in legs):
            assert legs[0]["distance_m"] <= 900.0 and legs[-1]["distance_m"] <= 900.0


def test_same_answer_again_is_304_with_the_etag(client: FlaskClient, demo_city: DemoCity) -> None:
    url = "/api/v1/plan?" + urlencode({"from": WEST, "to": EAST, "time": _time(demo_city)})
    first = client.get(url)
    assert first.status_code == 200 and first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


def _problem(response: Any, status: int | set[int], *words: str) -> dict[str, Any]:
    allowed = status if isinstance(status, set) else {status}
    assert response.status_code in allowed, response.get_json()
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == response.status_code
    for word in words:
        assert word in body["detail"], body["detail"]
    return body


@pytest.mark.parametrize(
    ("params", "words", "status"),
    [
        ({"from": "91,7.8"}, ("from", "latitude 91"), LIMIT),
        ({"to": "51.68,181"}, ("to", "longitude 181"), LIMIT),
        ({"from": " 51.68,7.8"}, ("from", "is not lat,lon"), BAD),
        ({"from": "51.68,7.8,0"}, ("from", "is not lat,lon"), BAD),
        ({"from": "abc"}, ("from", "'abc' is not lat,lon"), BAD),
        ({"from": None}, ("from", "required"), BAD),
        ({"modes": "walk,plane"}, ("modes", "unknown mode 'plane'"), BAD),
        ({"modes": ","}, ("modes", "no mode"), BAD),
        ({"modes": "walk, transit"}, ("modes", "unknown mode ' transit'"), BAD),
        ({"arrive_by": "maybe"}, ("arrive_by",), BAD),
        ({"time": "2026-12-03T08:00:00"}, ("time", "timezone"), BAD),
        ({"time": "tomorrow"}, ("time",), BAD),
        ({"ev_connector": "SCHUKO", "modes": "car"}, ("ev_connector",), BAD),
        ({"ev_connector": "CCS"}, ("ev_connector", "car"), LIMIT),
        ({"walk_speed_mps": "9"}, ("walk_speed_mps",), LIMIT),
        ({"walk_speed_mps": "nan"}, ("walk_speed_mps", "finite"), BAD),
        ({"max_walk_s": "-1"}, ("max_walk_s",), LIMIT),
        ({"max_itineraries": "0"}, ("max_itineraries",), LIMIT),
        ({"geometry": "wkt"}, ("geometry",), BAD),
        ({"lang": "fr"}, ("lang",), BAD),
        ({"colour": "red"}, ("colour",), BAD),
    ],
)
def test_bad_parameters_are_400_or_422_naming_the_parameter(
    client: FlaskClient, demo_city: DemoCity, params: dict[str, Any], words: tuple[str, ...], status: int
) -> None:
    query = {"from": WEST, "to": EAST, "time": _time(demo_city)} | params
    _problem(_get(client, **{k: v for k, v in query.items() if v is not None}), status, *words)


def test_time_years_outside_the_feed_is_422_naming_the_service_period(
    client: FlaskClient, demo_city: DemoCity
) -> None:
    period = demo_city.manifest()["gtfs_feed_period"]
    when = dt.datetime(demo_city.build_date.year + 5, 1, 1, 8, tzinfo=TZ).isoformat()
    body = _problem(
        _get(client, **{"from": WEST, "to": EAST, "time": when}), 422, period["start"], period["end"]
    )
    assert body["service_period"] == period


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_time_at_the_ends_of_the_calendar_is_422_not_an_error(client: FlaskClient, when: str) -> None:
    _problem(
        _get(client, **{"from": WEST, "to": EAST, "time": when}),
        422,
        "outside the timetable's service period",
    )


def test_place_far_outside_the_network_is_422_naming_the_place(
    client: FlaskClient, demo_city: DemoCity
) -> None:
    response = _get(client, **{"from": WEST, "to": "52.5200,13.4050", "time": _time(demo_city)})
    _problem(response, 422, "outside the network", "destination", "52.520000,13.405000")


def test_no_route_within_the_limits_is_404_with_the_reason(client: FlaskClient, demo_city: DemoCity) -> None:
    params = {"from": WEST, "to": EAST, "time": _time(demo_city), "modes": "transit", "max_walk_s": "10"}
    _problem(_get(client, **params), 404, "no stop within 12 m walk of the origin")


def test_plan_uses_the_live_charger_state_over_the_snapshot(
    graph_data_dir: Path, demo_city: DemoCity
) -> None:
    live = LiveState()
    locations = json.loads(demo_city.ocpi_locations.read_text())
    for loc in locations:
        for evse in loc["evses"]:
            evse["status"] = "OUTOFORDER"
    live.accept("chargers", "ocpi", json.dumps(locations).encode())
    client = create_app(load_settings(environ={}, data_dir=graph_data_dir), live=live).test_client()
    params = {"from": WEST, "to": MARKT, "time": _time(demo_city), "modes": "car", "ev_connector": "CCS"}
    _problem(_get(client, **params), 404, "no AVAILABLE charger with a CCS connector")
    doc = _plan(client, **{"from": WEST, "to": EAST, "time": _time(demo_city)})
    assert doc["query"]["availability"] == {"sharing": "snapshot", "chargers": "live"}


def test_openapi_lists_the_plan_parameters(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/api/v1/plan"]["get"]["parameters"]}
    assert {"from", "to", "time", "arrive_by", "modes", "ev_connector", "min_power_kw", "max_walk_s",
            "walk_speed_mps", "max_itineraries", "geometry", "lang"} <= params  # fmt: skip


def test_min_power_kw_above_every_charger_is_404_naming_the_power(
    client: FlaskClient, demo_city: DemoCity
) -> None:
    params = {"from": WEST, "to": MARKT, "time": _time(demo_city), "modes": "car", "ev_connector": "CCS",
              "min_power_kw": "300"}  # fmt: skip
    _problem(_get(client, **params), 404, "CCS connector of at least 300 kW")


def test_max_itineraries_caps_the_answer(client: FlaskClient, demo_city: DemoCity) -> None:
    base = {"from": WEST, "to": EAST, "time": _time(demo_city)}
    assert len(_plan(client, **base)["itineraries"]) >= 3  # the demo offers several connections
    assert len(_plan(client, **base, max_itineraries=2)["itineraries"]) == 2


def _trip_updates(day: dt.date, delays: dict[str, int], cancel: tuple[str, ...] = ()) -> bytes:
    """A TripUpdates message: each trip late by its delay from its first stop on, or cancelled."""
    from google.transit import gtfs_realtime_pb2 as pb

    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = int(dt.datetime.now(dt.UTC).timestamp())
    for trip_id in (*delays, *cancel):
        tu = msg.entity.add(id=f"tu-{trip_id}").trip_update
        tu.trip.trip_id = trip_id
        tu.trip.start_date = day.strftime("%Y%m%d")
        if trip_id in cancel:
            tu.trip.schedule_relationship = pb.TripDescriptor.CANCELED
            continue
        stu = tu.stop_time_update.add(stop_sequence=1)
        stu.arrival.delay = stu.departure.delay = delays[trip_id]
    return bytes(msg.SerializeToString())


def _first_ride(doc: dict[str, Any]) -> dict[str, Any]:
    return next(leg for it in doc["itineraries"] for leg in it["legs"] if leg["mode"] in TRANSIT_MODES)


def test_realtime_delays_move_the_rides_of_todays_plans(graph_data_dir: Path, demo_city: DemoCity) -> None:
    today = dt.datetime.now(TZ).date()
    if demo_city.build_date != today:
        pytest.skip("the demo city was built on another day than today")
    params = {"from": WEST, "to": EAST, "time": _time(demo_city), "modes": "walk,transit"}
    live = LiveState()
    client = create_app(load_settings(environ={}, data_dir=graph_data_dir), live=live).test_client()
    planned = _plan(client, **params)
    assert planned["query"]["realtime"] is False
    ride = _first_ride(planned)
    live.accept("rt", "gtfs-rt", _trip_updates(today, {ride["trip_id"]: 600}))
    late = _plan(client, **params)
    assert late["query"]["realtime"] is True
    again = [leg for it in late["itineraries"] for leg in it["legs"] if leg.get("trip_id") == ride["trip_id"]]
    for leg in again:  # the delayed trip leaves 10 minutes later (or another connection is better)
        planned_start = dt.datetime.fromisoformat(ride["start"]["scheduled"])
        expected = leg["start"].get("estimated", leg["start"]["scheduled"])
        assert dt.datetime.fromisoformat(expected) - planned_start == dt.timedelta(minutes=10)
    assert again or _first_ride(late)["trip_id"] != ride["trip_id"]


def test_realtime_cancelled_trip_is_never_offered_as_realtime(
    graph_data_dir: Path, demo_city: DemoCity
) -> None:
    """A planner that routes on the overlay itself leaves the cancelled trip out; one that cannot
    name the renumbered trips keeps to the schedule and says so (``realtime`` false)."""
    today = dt.datetime.now(TZ).date()
    if demo_city.build_date != today:
        pytest.skip("the demo city was built on another day than today")
    params = {"from": WEST, "to": EAST, "time": _time(demo_city), "modes": "walk,transit"}
    live = LiveState()
    client = create_app(load_settings(environ={}, data_dir=graph_data_dir), live=live).test_client()
    planned = _plan(client, **params)
    cancelled = _first_ride(planned)["trip_id"]
    live.accept("rt", "gtfs-rt", _trip_updates(today, {}, cancel=(cancelled,)))
    doc = _plan(client, **params)
    if doc["query"]["realtime"]:
        assert cancelled not in {leg.get("trip_id") for it in doc["itineraries"] for leg in it["legs"]}
    else:
        assert doc["itineraries"] == planned["itineraries"]


def test_concurrent_plans_give_the_same_answers_as_one_by_one(
    client: FlaskClient, demo_city: DemoCity
) -> None:
    """Threads share one planner per date (one RAPTOR search state): its queries must not mix."""
    import random
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(5)
    urls = []
    for _ in range(40):
        a = (rng.uniform(51.672, 51.69), rng.uniform(7.79, 7.83))
        b = (rng.uniform(51.672, 51.69), rng.uniform(7.79, 7.83))
        when = _time(demo_city, rng.randrange(6, 20))
        params = {"from": f"{a[0]:.5f},{a[1]:.5f}", "to": f"{b[0]:.5f},{b[1]:.5f}", "time": when,
                  "modes": "walk,transit,bike_share"}  # fmt: skip
        urls.append("/api/v1/plan?" + urlencode(params))
    alone = [client.get(u).data for u in urls]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda u: client.get(u).data, urls * 3))
    assert together == alone * 3
