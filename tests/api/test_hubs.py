"""Hubs: ``[hubs.ID]`` settings (and the demo city's hub without them), ``GET /api/v1/hubs`` and the
hub aggregate ``GET /api/v1/hubs/{hub_id}`` in the shape of the API contract, on the demo city's
moving feeds: departures of its stops, bikes, cars and chargers near it, freshness and errors."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from api.settings import SettingsError, load_settings, resolved_hubs
from mobility.live.state import LiveState
from scenarios.demo import DemoCity
from scenarios.demo.live import moving_locations, moving_station_status
from tests.api.live_api_helpers import Clock, DemoFeeds, client_on

HBF = (51.674161, 7.81)
HBF_PLATFORMS = {"hbf-bus-a", "hbf-bus-b", "hbf-bus-c", "hbf-bus-d", "hbf-rail-1", "hbf-rail-2"}
EVSE_STATUSES = {"AVAILABLE", "CHARGING", "OUTOFORDER", "BLOCKED", "RESERVED", "INOPERATIVE", "PLANNED",
                 "REMOVED", "UNKNOWN"}  # fmt: skip


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance, written out independently of the code under test."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "knoten.toml"
    path.write_text(text)
    return path


# -- settings -------------------------------------------------------------------------------------


def test_hubs_are_read_from_their_tables(tmp_path: Path) -> None:
    config = _toml(
        tmp_path,
        '[knoten]\nport = 9000\n\n[hubs.markt]\nname = "Markt"\nstops = ["bus-004", "bus-010"]\n'
        'radius_m = 250\nchargers = ["LOC-MARKT"]\nlanguages = ["de"]\n\n'
        '[hubs.east]\nname = "Ost"\nlat = 51.68\nlon = 7.83\n',
    )
    settings = load_settings(config, environ={})
    assert set(settings.hubs) == {"markt", "east"}
    markt = settings.hubs["markt"]
    assert (
        markt.stops == ("bus-004", "bus-010") and markt.radius_m == 250 and markt.chargers == ("LOC-MARKT",)
    )
    assert markt.languages == ("de",) and markt.lat is None
    assert settings.hubs["east"].languages == ("de", "en") and settings.hubs["east"].radius_m == 400


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'name = "X"\nstops = ["hbf"]\nlanguages = ["de", "fr"]',
            "invalid setting hubs.x.languages: Value error, unknown language 'fr'",
        ),
        ('name = "X"\nstops = ["hbf"]\nradius_m = -5', "invalid setting hubs.x.radius_m"),
        ('name = "X"', "a hub needs stops or lat/lon"),
        ('name = "X"\nlat = 51.6', "give both lat and lon"),
        ('name = "X"\nstops = ["hbf"]\ncolour = "red"', "invalid setting hubs.x.colour"),
        ('stops = ["hbf"]', "invalid setting hubs.x.name"),
        ('name = "X"\nstops = ["hbf"]\nstations = ["kr-01"]', "SYSTEM_ID:STATION_ID"),
    ],
)
def test_bad_hub_tables_are_one_line_settings_errors(tmp_path: Path, table: str, message: str) -> None:
    config = _toml(tmp_path, f"[hubs.x]\n{table}\n")
    with pytest.raises(SettingsError) as err:
        load_settings(config, environ={})
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_hub_id_must_be_url_safe(tmp_path: Path) -> None:
    config = _toml(tmp_path, '[hubs."a b"]\nname = "X"\nstops = ["hbf"]\n')
    with pytest.raises(SettingsError, match="hub id 'a b'"):
        load_settings(config, environ={})


def test_without_hubs_the_demo_city_brings_its_main_station(api_data_dir: Path, tmp_path: Path) -> None:
    hubs = resolved_hubs(load_settings(environ={}, data_dir=api_data_dir))
    assert list(hubs) == ["hbf"]
    assert hubs["hbf"].stops == ("hbf",) and hubs["hbf"].chargers == ("LOC-HBF",)
    assert set(hubs["hbf"].stations) == {"knotenrad:kr-01", "knotencar:kc-01"}
    assert resolved_hubs(load_settings(environ={}, data_dir=tmp_path)) == {}


# -- the aggregate --------------------------------------------------------------------------------


@pytest.fixture()
def fed(api_data_dir: Path, demo_feeds: DemoFeeds) -> tuple[Any, Clock, dt.datetime]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock = Clock(now)
    state = LiveState(clock=clock)
    demo_feeds.feed(state, now)
    return client_on(api_data_dir, state), clock, now


def test_hub_list_has_the_demo_hub_at_its_station(fed: Any) -> None:
    client, _, _ = fed
    response = client.get("/api/v1/hubs")
    assert response.status_code == 200
    assert response.get_json() == {
        "hubs": [
            {"id": "hbf", "name": "Knotenstadt Hauptbahnhof", "lat": HBF[0], "lon": HBF[1], "radius_m": 400.0,
             "languages": ["de", "en"]}
        ]
    }  # fmt: skip


def test_hub_answer_has_the_contract_shape(fed: Any) -> None:
    client, _, _ = fed
    response = client.get("/api/v1/hubs/hbf?window_s=86400")  # departures at any time of day
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=10" and response.headers["ETag"]
    hub = response.get_json()
    assert {"id", "name", "lat", "lon", "radius_m", "languages", "as_of", "departures", "bikes", "cars",
            "chargers"} <= set(hub)  # fmt: skip
    assert dt.datetime.fromisoformat(hub["as_of"]).utcoffset() is not None
    for block in ("departures", "bikes", "cars", "chargers"):
        assert {"as_of", "age_s", "stale"} <= set(hub[block]), block
    assert {"realtime", "items"} <= set(hub["departures"])
    item_keys = {"stop_id", "stop_name", "trip_id", "when", "planned_when", "delay_s", "platform",
                 "planned_platform", "cancelled", "direction", "line"}  # fmt: skip
    assert hub["departures"]["items"]
    for item in hub["departures"]["items"]:
        assert item_keys <= set(item) and {"name", "mode", "color", "text_color"} <= set(item["line"])
    station_keys = {"system_id", "station_id", "name", "lat", "lon", "distance_m", "vehicles_available",
                    "docks_available"}  # fmt: skip
    assert {"stations", "free_floating"} <= set(hub["bikes"])
    assert all(station_keys <= set(s) for s in hub["bikes"]["stations"] + hub["cars"]["stations"])
    vehicle_keys = {
        "system_id",
        "vehicle_id",
        "lat",
        "lon",
        "distance_m",
        "form_factor",
        "propulsion",
        "range_m",
    }
    assert all(vehicle_keys <= set(v) for v in hub["cars"]["vehicles"])
    for loc in hub["chargers"]["locations"]:
        assert {"location_id", "name", "lat", "lon", "distance_m", "evses"} <= set(loc)
        for evse in loc["evses"]:
            assert {"evse_uid", "evse_id", "status", "connectors"} <= set(evse) and evse[
                "status"
            ] in EVSE_STATUSES
            assert all({"standard", "max_power_kw"} <= set(c) for c in evse["connectors"])


def test_hub_departures_are_its_platforms_next(fed: Any) -> None:
    client, _, now = fed
    hub = client.get("/api/v1/hubs/hbf?limit=5&window_s=86400").get_json()
    items = hub["departures"]["items"]
    board = client.get("/api/v1/stops/hbf/departures?limit=5&window_s=86400").get_json()["departures"]
    assert len(items) == 5 and {d["stop_id"] for d in items} <= HBF_PLATFORMS
    assert [(d["trip_id"], d["when"]) for d in items] == [(d["trip_id"], d["when"]) for d in board]
    assert all(now - dt.timedelta(minutes=1) <= dt.datetime.fromisoformat(d["when"]) for d in items)


def test_hub_bikes_cars_and_chargers_are_those_near_it_now(fed: Any, demo_feeds: DemoFeeds) -> None:
    client, _, now = fed
    demo, seed = demo_feeds.demo_dir, demo_feeds.seed
    hub = client.get("/api/v1/hubs/hbf").get_json()

    info = json.loads((demo / "gbfs" / "knotenrad" / "station_information.json").read_text())
    status = moving_station_status(
        json.loads((demo / "gbfs" / "knotenrad" / "station_status.json").read_text()), seed, now
    )
    live = {s["station_id"]: s for s in status["data"]["stations"]}
    near = {s["station_id"] for s in info["data"]["stations"] if _metres(HBF, (s["lat"], s["lon"])) <= 400}
    bikes = {s["station_id"]: s for s in hub["bikes"]["stations"]}
    assert set(bikes) == near | {"kr-01"}
    for sid, s in bikes.items():
        assert s["vehicles_available"] == live[sid]["num_vehicles_available"]
        assert s["docks_available"] == live[sid]["num_docks_available"]
        assert s["distance_m"] == pytest.approx(_metres(HBF, (s["lat"], s["lon"])), abs=0.5)
    distances = [s["distance_m"] for s in hub["bikes"]["stations"]]
    assert distances == sorted(distances)

    assert "kc-01" in {s["station_id"] for s in hub["cars"]["stations"]}
    assert all(s["system_id"] == "knotencar" for s in hub["cars"]["stations"])
    vehicles = client.get("/api/v1/sharing/vehicles?form_factor=car").get_json()["vehicles"]
    free_near = {
        v["vehicle_id"] for v in vehicles
        if v["is_free_floating"] and not v["is_reserved"] and not v["is_disabled"]
        and _metres(HBF, (v["lat"], v["lon"])) <= 400
    }  # fmt: skip
    assert {v["vehicle_id"] for v in hub["cars"]["vehicles"]} == free_near
    scooters = client.get("/api/v1/sharing/vehicles?form_factor=scooter_standing").get_json()["vehicles"]
    assert hub["scooters"]["free_floating"] == sum(
        1 for v in scooters if v["is_free_floating"] and not v["is_reserved"] and not v["is_disabled"]
        and _metres(HBF, (v["lat"], v["lon"])) <= 400
    )  # fmt: skip

    locations = moving_locations(json.loads((demo / "ocpi" / "locations.json").read_text()), seed, now)
    (hbf,) = [loc for loc in locations if loc["id"] == "LOC-HBF"]
    assert [loc["location_id"] for loc in hub["chargers"]["locations"]] == ["LOC-HBF"]
    got = hub["chargers"]["locations"][0]["evses"]
    assert [(e["evse_uid"], e["status"]) for e in got] == [(e["uid"], e["status"]) for e in hbf["evses"]]


def test_a_configured_hub_without_listed_chargers_shows_those_within_its_radius(
    api_data_dir: Path, demo_feeds: DemoFeeds, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    state = LiveState(clock=Clock(now))
    demo_feeds.feed(state, now)
    config = _toml(tmp_path, '[hubs.markt]\nname = "Markt"\nstops = ["bus-004", "bus-010"]\nradius_m = 500\n')
    client = client_on(api_data_dir, state, config_file=config)
    assert [h["id"] for h in client.get("/api/v1/hubs").get_json()["hubs"]] == ["markt"]
    hub = client.get("/api/v1/hubs/markt").get_json()
    stops = {s["stop_id"]: s for s in (client.get(f"/api/v1/stops/{sid}/departures").get_json()["stop"]
                                        for sid in ("bus-004", "bus-010"))}  # fmt: skip
    point = (sum(s["lat"] for s in stops.values()) / 2, sum(s["lon"] for s in stops.values()) / 2)
    assert (hub["lat"], hub["lon"]) == pytest.approx(point, abs=1e-6)
    locations = json.loads((demo_feeds.demo_dir / "ocpi" / "locations.json").read_text())
    near = sorted(
        (
            _metres(point, (float(loc["coordinates"]["latitude"]), float(loc["coordinates"]["longitude"]))),
            loc["id"],
        )
        for loc in locations
    )
    want = [lid for d, lid in near if d <= 500]
    assert want and len(want) < len(locations)
    assert [loc["location_id"] for loc in hub["chargers"]["locations"]] == want
    assert {d["stop_id"] for d in hub["departures"]["items"]} <= {"bus-004", "bus-010"}


def test_every_block_turns_stale_when_its_feed_is_old(fed: Any) -> None:
    client, clock, now = fed
    hub = client.get("/api/v1/hubs/hbf").get_json()
    assert [hub[b]["stale"] for b in ("departures", "bikes", "cars", "chargers")] == [False] * 4
    clock.set(now + dt.timedelta(hours=1))
    hub = client.get("/api/v1/hubs/hbf").get_json()
    assert [hub[b]["stale"] for b in ("departures", "bikes", "cars", "chargers")] == [True] * 4
    assert hub["chargers"]["age_s"] == 3600.0


def test_a_poll_with_the_etag_is_304_until_the_data_changes_not_merely_its_age(fed: Any) -> None:
    """The answer's own time and the data ages grow every second; the ETag must not follow them."""
    client, clock, now = fed
    first = client.get("/api/v1/hubs/hbf")
    etag = first.headers["ETag"]
    clock.set(now + dt.timedelta(seconds=3))  # every age_s is 3 s larger, nothing else changed
    again = client.get("/api/v1/hubs/hbf", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    clock.set(now + dt.timedelta(hours=1))  # now every block is stale: a new answer
    changed = client.get("/api/v1/hubs/hbf", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["chargers"]["stale"] is True


def test_a_missing_feed_leaves_its_block_without_data_and_stale(
    api_data_dir: Path, demo_feeds: DemoFeeds
) -> None:
    now = dt.datetime.now(dt.UTC)
    state = LiveState(clock=Clock(now))
    demo_feeds.feed(state, now, skip=("demo-chargers", "demo-trip-updates"))
    hub = client_on(api_data_dir, state).get("/api/v1/hubs/hbf?window_s=86400").get_json()
    assert hub["chargers"] == {"as_of": None, "age_s": None, "stale": True, "locations": []}
    assert hub["departures"]["realtime"] is False and hub["departures"]["as_of"] is None
    assert hub["departures"]["items"] and hub["bikes"]["stale"] is False


def test_unknown_hub_is_404_naming_the_known_ones(fed: Any) -> None:
    client, _, _ = fed
    response = client.get("/api/v1/hubs/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "no hub 'nowhere' (known: hbf)"


@pytest.mark.parametrize(("query", "field"), [("x=1", "x"), ("limit=many", "limit")])
def test_malformed_hub_parameters_are_400(fed: Any, query: str, field: str) -> None:
    client, _, _ = fed
    response = client.get(f"/api/v1/hubs/hbf?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("query", "field", "value", "limit"),
    [("limit=0", "limit", "0", 1), ("limit=101", "limit", "101", 100), ("window_s=10", "window_s", "10", 60)],
)
def test_hub_parameters_beyond_their_range_are_422_naming_parameter_value_and_limit(
    fed: Any, query: str, field: str, value: str, limit: int
) -> None:
    client, _, _ = fed
    response = client.get(f"/api/v1/hubs/hbf?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["field"], body["value"], body["limit"]) == (field, value, limit)  # value as sent
    assert body["detail"].startswith(f"{field} = {value}:")


def test_without_any_hub_the_list_is_empty_and_every_hub_unknown(tmp_path: Path) -> None:
    client = client_on(tmp_path, LiveState())
    assert client.get("/api/v1/hubs").get_json() == {"hubs": []}
    response = client.get("/api/v1/hubs/hbf")
    assert response.status_code == 404 and "none configured" in response.get_json()["detail"]


def test_without_a_timetable_a_placed_hub_still_shows_sharing_and_chargers(
    demo_feeds: DemoFeeds, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    state = LiveState(clock=Clock(now))
    demo_feeds.feed(state, now)
    config = _toml(tmp_path, f'[hubs.hbf]\nname = "Hbf"\nlat = {HBF[0]}\nlon = {HBF[1]}\n')
    client = client_on(tmp_path / "empty", state, config_file=config)  # no graph folder there
    response = client.get("/api/v1/hubs/hbf")
    assert response.status_code == 200
    hub = response.get_json()
    assert hub["departures"]["items"] == [] and hub["departures"]["stale"] is True
    assert "no graph folder" in hub["departures"]["problem"]
    assert "kr-01" in {s["station_id"] for s in hub["bikes"]["stations"]}
    assert "LOC-HBF" in {loc["location_id"] for loc in hub["chargers"]["locations"]}


def test_an_unknown_hub_is_404_even_without_a_timetable(demo_city: DemoCity, tmp_path: Path) -> None:
    shutil.copytree(demo_city.root, tmp_path / "demo")  # the demo's hub, but no graph folder
    client = client_on(tmp_path, LiveState())
    response = client.get("/api/v1/hubs/nowhere")
    assert response.status_code == 404 and response.get_json()["detail"] == "no hub 'nowhere' (known: hbf)"
    assert client.get("/api/v1/hubs/hbf").status_code == 503  # it is known, but cannot be placed yet
