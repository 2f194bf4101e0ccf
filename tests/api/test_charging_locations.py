"""``GET /api/v1/charging/locations`` on the demo city's moving OCPI feed (filters, freshness, bad
filters) and the OCPI push receiver mounted in the app: a pushed EVSE status shows in the
locations and in the hub, a wrong token or a malformed body changes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mobility.live.state import LiveState
from scenarios.demo.live import moving_locations
from tests.api.live_api_helpers import Clock, DemoFeeds, client_on, morning

TOKEN = "cpo-push-token"
AUTH = {"Authorization": "Token " + base64.b64encode(TOKEN.encode()).decode()}
EVSE_URL = "/ocpi/2.2.1/locations/DE/KNO/LOC-HBF/DE*KNO*EHBF03"


def _expected(demo_feeds: DemoFeeds, now: dt.datetime) -> dict[str, dict[str, Any]]:
    doc = json.loads((demo_feeds.demo_dir / "ocpi" / "locations.json").read_text())
    return {loc["id"]: loc for loc in moving_locations(doc, demo_feeds.seed, now)}


def _statuses(body: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (loc["location_id"], e["evse_uid"]): e["status"] for loc in body["locations"] for e in loc["evses"]
    }


@pytest.fixture()
def fed(api_data_dir: Path, demo_feeds: DemoFeeds) -> tuple[Any, Clock, dt.datetime, LiveState]:
    now = morning(10, 2)
    clock = Clock(now)
    state = LiveState(clock=clock)
    demo_feeds.feed(state, now)
    return client_on(api_data_dir, state, ocpi_push_tokens=(TOKEN,)), clock, now, state


def test_locations_carry_every_evse_with_its_live_status(fed: Any, demo_feeds: DemoFeeds) -> None:
    client, _, now, _ = fed
    body = client.get("/api/v1/charging/locations").get_json()
    expected = _expected(demo_feeds, now)
    assert _statuses(body) == {
        (lid, e["uid"]): e["status"] for lid, loc in expected.items() for e in loc["evses"]
    }
    hbf = next(loc for loc in body["locations"] if loc["location_id"] == "LOC-HBF")
    assert (hbf["lat"], hbf["lon"]) == (51.674161, 7.81)
    first = expected["LOC-HBF"]["evses"][0]
    assert hbf["evses"][0]["connectors"][0]["standard"] == first["connectors"][0]["standard"]
    assert (
        hbf["evses"][0]["connectors"][0]["max_power_kw"]
        == first["connectors"][0]["max_electric_power"] / 1000
    )


def test_status_connector_power_and_bbox_filter(fed: Any, demo_feeds: DemoFeeds) -> None:
    client, _, now, _ = fed
    expected = _expected(demo_feeds, now)
    evses = [(lid, e) for lid, loc in expected.items() for e in loc["evses"]]
    for status in ("AVAILABLE", "CHARGING", "OUTOFORDER"):
        body = client.get(f"/api/v1/charging/locations?status={status}").get_json()
        assert set(_statuses(body)) == {(lid, e["uid"]) for lid, e in evses if e["status"] == status}
    combo = client.get("/api/v1/charging/locations?connector=IEC_62196_T2_COMBO").get_json()
    want = {
        (lid, e["uid"])
        for lid, e in evses
        if any(c["standard"] == "IEC_62196_T2_COMBO" for c in e["connectors"])
    }
    assert want and set(_statuses(combo)) == want
    fast = client.get("/api/v1/charging/locations?min_power_kw=100").get_json()
    want = {
        (lid, e["uid"])
        for lid, e in evses
        if max(c["max_electric_power"] for c in e["connectors"]) >= 100_000
    }
    assert want and set(_statuses(fast)) == want
    near_hbf = client.get("/api/v1/charging/locations?bbox=7.805,51.672,7.815,51.676").get_json()
    assert [loc["location_id"] for loc in near_hbf["locations"]] == ["LOC-HBF"]


def test_freshness_of_the_ocpi_feed_turns_stale(fed: Any) -> None:
    client, clock, now, _ = fed
    body = client.get("/api/v1/charging/locations").get_json()
    assert body["stale"] is False and body["age_s"] == 0.0
    assert dt.datetime.fromisoformat(body["as_of"]) == now
    clock.set(now + dt.timedelta(minutes=10))
    body = client.get("/api/v1/charging/locations").get_json()
    assert body["stale"] is True and body["age_s"] == 600.0
    assert [f["name"] for f in body["feeds"]] == ["demo-chargers"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=FREE", "status"),
        ("connector=SCHUKO", "connector"),
        ("min_power_kw=lots", "min_power_kw"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=", "bbox"),
        ("operator=x", "operator"),
    ],
)
def test_malformed_filters_are_400_problems(api_data_dir: Path, query: str, field: str) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/charging/locations?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("query", "field", "value", "constraint"),
    [
        ("min_power_kw=-1", "min_power_kw", "-1", "minimum"),
        ("min_power_kw=20000", "min_power_kw", "20000", "maximum"),
        ("bbox=7.8,51.6,7.9,91", "bbox", "7.8,51.6,7.9,91", "range"),
        ("bbox=7.9,51.6,7.8,51.7", "bbox", "7.9,51.6,7.8,51.7", "rule"),
    ],
)
def test_filters_beyond_their_range_are_422_problems_naming_filter_and_value(
    api_data_dir: Path, query: str, field: str, value: str, constraint: str
) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/charging/locations?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["field"], body["value"], body["constraint"]) == (field, value, constraint)
    assert body["detail"].startswith(f"{field} = {value}:")


def _hbf03(client: Any) -> tuple[str, str]:
    locations = client.get("/api/v1/charging/locations").get_json()
    hub = client.get("/api/v1/hubs/hbf").get_json()
    in_hub = {e["evse_uid"]: e["status"] for loc in hub["chargers"]["locations"] for e in loc["evses"]}
    return _statuses(locations)[("LOC-HBF", "DE*KNO*EHBF03")], in_hub["DE*KNO*EHBF03"]


def test_a_pushed_evse_status_shows_in_the_locations_and_the_hub(fed: Any) -> None:
    client, _, now, _ = fed
    before = _hbf03(client)
    new = "OUTOFORDER" if before[0] != "OUTOFORDER" else "AVAILABLE"
    patch = {"status": new, "last_updated": (now + dt.timedelta(seconds=5)).isoformat()}
    response = client.patch(EVSE_URL, data=json.dumps(patch), headers=AUTH)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status_code"] == 1000
    assert _hbf03(client) == (new, new)


@pytest.mark.parametrize("auth", [None, "Token wrong", "Bearer " + TOKEN])
def test_a_push_with_a_wrong_token_is_401_and_changes_nothing(fed: Any, auth: str | None) -> None:
    client, _, now, state = fed
    before, payload = _hbf03(client), state.payload("demo-chargers")
    headers = {} if auth is None else {"Authorization": auth}
    patch = {"status": "OUTOFORDER", "last_updated": now.isoformat()}
    response = client.patch(EVSE_URL, data=json.dumps(patch), headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert _hbf03(client) == before and state.payload("demo-chargers") == payload


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", json.dumps({"status": "OUTOFORDER"}).encode(),
     json.dumps({"status": "BROKEN", "last_updated": "2026-01-01T00:00:00Z"}).encode(), b"x" * 70_000],
)  # fmt: skip
def test_a_malformed_push_is_400_problem_and_changes_nothing(fed: Any, body: bytes) -> None:
    client, _, _, state = fed
    before, payload = _hbf03(client), state.payload("demo-chargers")
    response = client.patch(EVSE_URL, data=body, headers=AUTH)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert _hbf03(client) == before and state.payload("demo-chargers") == payload


def test_a_push_to_an_unknown_evse_is_404(fed: Any) -> None:
    client, _, now, _ = fed
    patch = {"status": "AVAILABLE", "last_updated": now.isoformat()}
    response = client.patch(
        "/ocpi/2.2.1/locations/DE/KNO/LOC-HBF/NO-SUCH-EVSE", data=json.dumps(patch), headers=AUTH
    )
    assert response.status_code == 404


def test_without_push_tokens_the_receiver_is_not_mounted(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    patch = {"status": "AVAILABLE", "last_updated": "2026-01-01T00:00:00Z"}
    response = client.patch(EVSE_URL, data=json.dumps(patch), headers=AUTH)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
