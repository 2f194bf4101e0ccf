"""The station display's page logic in real headless Chromium, fed by a local stand-in of the hub
endpoint whose answers the test controls (the real endpoint is driven in test_display.py).

The stand-in serves the real display blueprint beside a ``/api/v1/hubs/hbf`` that answers a
document the test writes, with ETag and 304 like the real one, or 503 when told to fail.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask, Response, request
from werkzeug.serving import make_server

from api.context import json_response
from api.display.views import create_display_blueprint
from api.settings import Settings
from tests.e2e.chromium import BrowserFactory

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

TZ = "Europe/Berlin"


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def hub_doc(now: datetime) -> dict[str, Any]:
    """A hub answer shaped as in the API contract, with times relative to ``now``."""

    def dep(minutes: float, line: str, color: str, text: str, direction: str, **extra: Any) -> dict[str, Any]:
        planned = now + timedelta(minutes=minutes)
        delay_s = extra.pop("delay_s", 0)
        return {
            "stop_id": "hbf:1",
            "stop_name": "Hauptbahnhof",
            "trip_id": f"{line}-{minutes}",
            "when": _iso(planned + timedelta(seconds=delay_s or 0)),
            "planned_when": _iso(planned),
            "delay_s": delay_s,
            "platform": extra.pop("platform", "1"),
            "planned_platform": extra.pop("planned_platform", "1"),
            "cancelled": extra.pop("cancelled", False),
            "direction": direction,
            "line": {"name": line, "mode": "BUS", "color": color, "text_color": text},
        }

    stamp = _iso(now)
    return {
        "id": "hbf",
        "name": "Teststadt Hauptbahnhof",
        "lat": 51.0,
        "lon": 7.0,
        "radius_m": 400,
        "languages": ["de", "en"],
        "as_of": stamp,
        "departures": {
            "as_of": stamp,
            "age_s": 3.0,
            "stale": False,
            "realtime": True,
            "items": [
                dep(4.5, "S1", "#E2001A", "#FFFFFF", "Nordstadt", delay_s=180),
                dep(7.5, "12", "#FFFF00", "#FFFFFF", "Gelbe Gasse"),  # white on yellow fails: black
                dep(9.5, "S2", "#0069B4", "#FFFFFF", "Südpark", cancelled=True),
                dep(12.5, "7", "#009640", "#FFFFFF", "Waldweg", platform="3", planned_platform="2"),
                dep(55.0, "RE5", "#6F2282", "#FFFFFF", "Fernstadt"),
            ],
        },
        "bikes": {
            "as_of": stamp,
            "age_s": 5.0,
            "stale": False,
            "stations": [
                {
                    "system_id": "rad",
                    "station_id": "r1",
                    "name": "Bahnhofsplatz",
                    "lat": 51.0,
                    "lon": 7.0,
                    "distance_m": 40.2,
                    "vehicles_available": 7,
                    "docks_available": 5,
                },
            ],
            "free_floating": 3,
        },
        "cars": {
            "as_of": stamp,
            "age_s": 5.0,
            "stale": True,
            "stations": [
                {
                    "system_id": "car",
                    "station_id": "c1",
                    "name": "Parkhaus Süd",
                    "lat": 51.0,
                    "lon": 7.0,
                    "distance_m": 120.0,
                    "vehicles_available": 2,
                    "docks_available": None,
                },
            ],
            "vehicles": [],
        },
        "chargers": {
            "as_of": stamp,
            "age_s": 30.0,
            "stale": False,
            "locations": [
                {
                    "location_id": "LOC-1",
                    "name": "Ladehof",
                    "lat": 51.0,
                    "lon": 7.0,
                    "distance_m": 80.0,
                    "evses": [
                        {
                            "evse_uid": "E1",
                            "evse_id": "DE*KN*E1",
                            "status": status,
                            "connectors": [{"standard": "IEC_62196_T2", "max_power_kw": 22.0}],
                        }
                        for status in ("AVAILABLE", "CHARGING", "OUTOFORDER")
                    ],
                }
            ],
        },
    }


@dataclass
class Stub:
    """What the stand-in hub endpoint answers, and what it saw."""

    base: str
    doc: dict[str, Any]
    fail: bool = False
    requests: list[str | None] = field(default_factory=list)
    not_modified: int = 0


@pytest.fixture()
def stub(tmp_path: Path) -> Iterator[Stub]:
    """The display blueprint and a stand-in ``/api/v1/hubs/hbf`` on a loopback port."""
    demo = tmp_path / "demo"
    demo.mkdir()
    manifest = {"hub": {"gtfs_stop_id": "hbf", "ocpi_location_id": "LOC-HBF"}}
    (demo / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    settings = Settings(data_dir=tmp_path, timezone=TZ)
    app = Flask(__name__)
    app.register_blueprint(create_display_blueprint(settings))
    holder: list[Stub] = []

    @app.get("/api/v1/hubs/<hub_id>")
    def hub(hub_id: str) -> Response:
        state = holder[0]
        state.requests.append(request.headers.get("If-None-Match"))
        if state.fail:
            return Response("down", status=503)
        response = json_response(state.doc, max_age_s=10)
        if response.status_code == 304:
            state.not_modified += 1
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    holder.append(Stub(f"http://127.0.0.1:{server.server_port}", hub_doc(datetime.now(UTC))))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll ``check`` until it holds; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


def rows(drv: Chrome) -> list[dict[str, str]]:
    """The departure rows as the page shows them."""
    script = """
      return Array.from(document.querySelectorAll('#departures tbody tr')).map(function (tr) {
        var b = tr.querySelector('.badge'); var cs = getComputedStyle(b);
        return {line: b.textContent, bg: cs.backgroundColor, fg: cs.color,
                dest: tr.querySelector('.dest').textContent, time: tr.querySelector('.time').textContent,
                platform: tr.querySelector('.platform').textContent,
                note: tr.querySelector('.note').textContent,
                cls: tr.className};
      });"""
    found: list[dict[str, str]] = drv.execute_script(script)
    return found


def test_board_shows_delays_cancellations_and_readable_badges(stub: Stub, browser: BrowserFactory) -> None:
    drv = browser()
    drv.get(f"{stub.base}/display/hbf")
    wait_until(lambda: drv.execute_script("return document.body.dataset.state") == "ok", 15, "the board")
    shown = {r["line"]: r for r in rows(drv)}
    assert list(shown) == ["S1", "12", "S2", "7", "RE5"]
    assert shown["S1"]["note"] == "+3 min"
    assert shown["S1"]["time"] == "7 min"  # expected departure: 4.5 min planned + 3 min delay
    assert shown["S2"]["note"] == "fällt aus"
    assert "cancelled" in shown["S2"]["cls"]
    assert shown["7"]["platform"] == "3" and shown["7"]["note"] == "pünktlich · Gleiswechsel"
    assert shown["RE5"]["time"].count(":") == 1  # later departures show their clock time
    # the feed's text colour is kept where it reads (white on red), replaced where it does not
    assert (shown["S1"]["bg"], shown["S1"]["fg"]) == ("rgb(226, 0, 26)", "rgb(255, 255, 255)")
    assert (shown["12"]["bg"], shown["12"]["fg"]) == ("rgb(255, 255, 0)", "rgb(0, 0, 0)")
    assert shown["7"]["fg"] == "rgb(0, 0, 0)"  # white on #009640 is 3.9:1; black is 5.4:1
    text = drv.find_element("tag name", "body").text
    assert "Teststadt Hauptbahnhof" in text
    assert "7 Räder" in text and "5 freie Plätze" in text and "3 frei abgestellte Fahrzeuge" in text
    assert "veraltet" in text  # the car feed is stale
    evses = drv.execute_script(
        "return Array.from(document.querySelectorAll('.evse')).map(function (e) {"
        " return [e.querySelector('.status').textContent, e.querySelector('use').getAttribute('href')]; });"
    )
    assert evses == [["frei", "#icon-available"], ["lädt", "#icon-charging"], ["außer Betrieb", "#icon-out"]]
    size = drv.execute_script(
        "var d = document.documentElement; return [d.scrollWidth, d.scrollHeight, innerWidth, innerHeight];"
    )
    assert size[0] <= size[2] and size[1] <= size[3], f"the board overflows 1920×1080: {size}"


def test_board_speaks_english_with_lang_en(stub: Stub, browser: BrowserFactory) -> None:
    drv = browser()
    drv.get(f"{stub.base}/display/hbf?lang=en")
    wait_until(lambda: drv.execute_script("return document.body.dataset.state") == "ok", 15, "the board")
    notes = [r["note"] for r in rows(drv)]
    assert notes[:3] == ["+3 min", "on time", "cancelled"]
    text = drv.find_element("tag name", "body").text
    assert "Departures" in text and "7 bikes" in text and "out of order" in text
    assert drv.find_element("tag name", "html").get_attribute("lang") == "en"


def test_polls_use_the_etag_and_keep_the_data_on_304(stub: Stub, browser: BrowserFactory) -> None:
    drv = browser()
    drv.get(f"{stub.base}/display/hbf?poll_s=0.5")
    wait_until(lambda: stub.not_modified >= 2, 15, "two conditional polls answered 304")
    assert stub.requests[0] is None and stub.requests[-1] is not None
    assert drv.execute_script("return document.body.dataset.state") == "ok"
    assert len(rows(drv)) == 5


def test_failed_polls_keep_the_last_data_then_show_unavailable(stub: Stub, browser: BrowserFactory) -> None:
    drv = browser()
    drv.get(f"{stub.base}/display/hbf?poll_s=0.5&stale_after_s=3")
    wait_until(lambda: drv.execute_script("return document.body.dataset.state") == "ok", 15, "the board")
    stub.fail = True
    failed_at = time.monotonic()
    seen = len(stub.requests)
    wait_until(lambda: len(stub.requests) >= seen + 2, 10, "polls that fail")
    assert drv.execute_script("return document.body.dataset.state") == "ok"  # last good data stays up
    assert len(rows(drv)) == 5
    wait_until(
        lambda: drv.execute_script("return document.body.dataset.state") == "unavailable", 10, "unavailable"
    )
    assert time.monotonic() - failed_at >= 2.0
    assert "Daten derzeit nicht verfügbar" in drv.find_element("tag name", "body").text
    assert not drv.find_element("id", "board").is_displayed()
    stub.fail = False  # the board comes back with the next good poll
    wait_until(lambda: drv.execute_script("return document.body.dataset.state") == "ok", 10, "recovery")


def test_badge_text_colour_is_black_or_white_when_the_feed_colour_fails(
    stub: Stub, browser: BrowserFactory
) -> None:
    drv = browser()
    drv.get(f"{stub.base}/display/hbf")
    pick = "return window.knotenDisplay.badgeColours(arguments[0], arguments[1]);"
    assert drv.execute_script(pick, "#000080", "#000000") == {"background": "#000080", "color": "#ffffff"}
    assert drv.execute_script(pick, "#F39200", "#000000") == {"background": "#f39200", "color": "#000000"}
    assert drv.execute_script(pick, "#00A3D9", "#FFFFFF") == {"background": "#00a3d9", "color": "#000000"}
    assert drv.execute_script(pick, "#E2001A", "") == {"background": "#e2001a", "color": "#ffffff"}
