"""OCPI 2.2.1: Locations client (token, Link pagination, date_from deltas) against a real server,
and the EVSE PATCH receiver (401 and 400 change nothing)."""

from __future__ import annotations

import base64
import calendar
import json
import threading
import time
from pathlib import Path

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from api.live import evse_receiver, ocpi_source
from api.routes.ocpi_push import create_ocpi_push_blueprint
from charging.ocpi import OcpiError, next_link
from mobility.live.http import HttpClient
from mobility.live.poller import FeedConfig, Poller
from mobility.live.state import LiveState
from mobility.live.store import Store
from tests.live.live_helpers import FeedServer

TOKEN = "secret-cpo-token"


def _location(i: int, status: str = "AVAILABLE", updated: str = "2026-12-01T10:00:00Z") -> dict:
    return {
        "country_code": "DE", "party_id": "KNO", "id": f"L{i}", "name": f"Hub {i}",
        "coordinates": {"latitude": "51.5", "longitude": f"7.{i}"}, "time_zone": "Europe/Berlin",
        "last_updated": updated,
        "evses": [{"uid": f"E{i}", "evse_id": f"DE*KNO*E{i}", "status": status, "last_updated": updated,
                   "connectors": [{"id": "1", "standard": "IEC_62196_T2", "format": "SOCKET",
                                   "power_type": "AC_3_PHASE", "max_voltage": 230, "max_amperage": 16}]}],
    }  # fmt: skip


def _cpo(server: FeedServer, locations: list[dict], per_page: int = 2) -> None:
    def handler(request: Request) -> Response:
        expected = "Token " + base64.b64encode(TOKEN.encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response(json.dumps({"status_code": 2001, "status_message": "bad token"}), status=401)
        items = locations
        if "date_from" in request.args:
            items = [loc for loc in locations if loc["last_updated"] >= request.args["date_from"]]
        offset = int(request.args.get("offset", 0))
        page = items[offset : offset + per_page]
        body = {"status_code": 1000, "timestamp": "2026-12-01T10:00:00Z", "data": page}
        resp = Response(json.dumps(body), content_type="application/json")
        resp.headers["X-Total-Count"] = str(len(items))
        if offset + per_page < len(items):
            query = f"offset={offset + per_page}" + (
                f"&date_from={request.args['date_from']}" if "date_from" in request.args else ""
            )
            resp.headers["Link"] = f'<{server.url("/ocpi/locations")}?{query}>; rel="next"'
        return resp

    server.routes["/ocpi/locations"] = handler


def test_next_link_parsing() -> None:
    assert (
        next_link('<https://x/l?offset=2>; rel="next", <https://x/l>; rel="first"') == "https://x/l?offset=2"
    )
    assert next_link('<https://x/l>; rel="prev"') is None and next_link(None) is None


def test_all_pages_then_only_changes(feed_server: FeedServer) -> None:
    locations = [_location(i) for i in range(5)]
    _cpo(feed_server, locations)
    state = LiveState()
    cfg = FeedConfig("cpo", "ocpi", feed_server.url("/ocpi/locations"), token=TOKEN, retries=0)
    poller = Poller(state, [cfg], sources={"ocpi": ocpi_source})
    first_poll = time.time()
    assert poller.poll("cpo")
    assert [loc.location_id for loc in state.chargers()] == ["L0", "L1", "L2", "L3", "L4"]
    assert sum("offset" in r.url for r in feed_server.requests) == 2  # 3 pages

    locations[3] = _location(3, "CHARGING", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5)))
    feed_server.requests.clear()
    assert poller.poll("cpo")
    # only changes since the last read: date_from is the time of the first poll
    (since,) = {r.args.get("date_from") for r in feed_server.requests}
    assert (
        since is not None
        and abs(calendar.timegm(time.strptime(since, "%Y-%m-%dT%H:%M:%SZ")) - first_poll) < 3
    )
    assert len(feed_server.requests) == 1
    statuses = {loc.location_id: loc.evses[0].status for loc in state.chargers()}
    assert statuses == {
        "L0": "AVAILABLE",
        "L1": "AVAILABLE",
        "L2": "AVAILABLE",
        "L3": "CHARGING",
        "L4": "AVAILABLE",
    }


def test_wrong_token_is_an_error_and_keeps_state(feed_server: FeedServer) -> None:
    _cpo(feed_server, [_location(1)])
    state = LiveState()
    good = FeedConfig("cpo", "ocpi", feed_server.url("/ocpi/locations"), token=TOKEN, retries=0)
    assert Poller(state, [good], sources={"ocpi": ocpi_source}).poll("cpo")
    bad = FeedConfig("cpo", "ocpi", feed_server.url("/ocpi/locations"), token="nope", retries=0)
    assert not Poller(state, [bad], sources={"ocpi": ocpi_source}).poll("cpo")
    assert [loc.location_id for loc in state.chargers()] == ["L1"]
    assert "HTTP 401" in (state.feed_status()[0].last_error or "")


def test_ocpi_error_is_a_value_error() -> None:
    assert issubclass(OcpiError, ValueError)


@pytest.fixture
def pushed_state(tmp_path: Path) -> LiveState:
    state = LiveState.open(f"sqlite:///{tmp_path / 'live.sqlite'}")
    state.accept("cpo", "ocpi", json.dumps([_location(1), _location(2)]).encode())
    return state


def _patch(state: LiveState, auth: str | None, body: bytes, evse: str = "E1") -> tuple[int, dict, str]:
    receiver = evse_receiver(state, [TOKEN])
    resp = receiver.handle_patch(auth, "DE", "KNO", "L1" if evse == "E1" else "L2", evse, body)
    return resp.status, resp.body, resp.content_type


GOOD = json.dumps({"status": "CHARGING", "last_updated": "2026-12-01T12:00:00Z"}).encode()
AUTH = "Token " + base64.b64encode(TOKEN.encode()).decode()


@pytest.mark.parametrize(
    "auth", [None, "Token wrong", "Bearer " + TOKEN, "Token " + base64.b64encode(b"x").decode()]
)
def test_push_with_wrong_token_is_401_and_changes_nothing(pushed_state: LiveState, auth: str | None) -> None:
    before = pushed_state.payload("cpo")
    status, body, ctype = _patch(pushed_state, auth, GOOD)
    assert status == 401 and ctype == "application/problem+json" and body["status"] == 401
    assert pushed_state.payload("cpo") == before
    assert pushed_state.chargers()[0].evses[0].status == "AVAILABLE"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"status": "CHARGING"}).encode(), "last_updated"),
        (json.dumps({"status": "FLYING", "last_updated": "2026-12-01T12:00:00Z"}).encode(), "status must be"),
        (json.dumps({"status": "CHARGING", "last_updated": "yesterday"}).encode(), "RFC 3339"),
    ],
)
def test_malformed_push_is_400_problem_and_changes_nothing(
    pushed_state: LiveState, body: bytes, why: str
) -> None:
    before = pushed_state.payload("cpo")
    status, problem, ctype = _patch(pushed_state, AUTH, body)
    assert status == 400 and ctype == "application/problem+json" and why in problem["detail"]
    assert pushed_state.payload("cpo") == before


def test_good_push_changes_status_persists_and_logs_history(pushed_state: LiveState, tmp_path: Path) -> None:
    status, body, _ = _patch(pushed_state, AUTH, GOOD)
    assert status == 200 and body["status_code"] == 1000
    assert pushed_state.chargers()[0].evses[0].status == "CHARGING"
    assert pushed_state.chargers()[1].evses[0].status == "AVAILABLE"
    restored = LiveState.open(f"sqlite:///{tmp_path / 'live.sqlite'}")
    assert restored.chargers()[0].evses[0].status == "CHARGING"
    rows = Store(f"sqlite:///{tmp_path / 'live.sqlite'}").history("cpo", "L1/E1")
    assert [r[3] for r in rows] == ["AVAILABLE", "CHARGING"]


def test_push_to_unknown_evse_is_404(pushed_state: LiveState) -> None:
    status, _, _ = _patch(pushed_state, AUTH, GOOD, evse="E9")
    assert status == 404


def test_spec_location_example_loads(shared_data: Path) -> None:
    state = LiveState()
    state.accept(
        "spec", "ocpi", (shared_data / "standards" / "ocpi-2.2.1" / "location_example.json").read_bytes()
    )
    (loc,) = state.chargers()
    assert loc.location_id == "LOC1" and [e.status for e in loc.evses] == ["AVAILABLE", "RESERVED"]


def test_http_client_sends_no_token_unless_asked(feed_server: FeedServer) -> None:
    feed_server.routes["/x"] = lambda request: Response(request.headers.get("Authorization", "none"))
    assert HttpClient().fetch(feed_server.url("/x")) == b"none"


def test_push_over_http_401_400_and_200(pushed_state: LiveState) -> None:
    app = Flask("push")
    app.register_blueprint(create_ocpi_push_blueprint(evse_receiver(pushed_state, [TOKEN])))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/ocpi/2.2.1/locations/DE/KNO/L1/E1"
    try:
        before = pushed_state.payload("cpo")
        wrong = requests.patch(url, data=GOOD, headers={"Authorization": "Token nope"}, timeout=5)
        bad = requests.patch(url, data=b"{", headers={"Authorization": AUTH}, timeout=5)
        assert (wrong.status_code, bad.status_code) == (401, 400)
        assert bad.headers["Content-Type"] == "application/problem+json"
        assert pushed_state.payload("cpo") == before
        good = requests.patch(url, data=GOOD, headers={"Authorization": AUTH}, timeout=5)
        assert good.status_code == 200 and pushed_state.chargers()[0].evses[0].status == "CHARGING"
    finally:
        server.shutdown()
