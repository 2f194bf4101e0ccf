"""The station display end to end: ``knoten serve --workers 2`` over the demo city, its real hub
endpoint, and ``/display/hbf`` in real headless Chromium.

The server polls the demo city's own sharing and charger feeds and a GTFS-Realtime TripUpdates
file that the test writes: once the board is up, the test delays one of the next departures by
four minutes and cancels another, and the board must say so in words. Then the server is stopped:
the board keeps the last data for its grace time, then shows that the data is unavailable.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from google.transit import gtfs_realtime_pb2 as pb

from mobility.planner.graphdir import build_graph_dir
from scenarios.demo import DemoCity
from tests.e2e.chromium import ARTIFACTS, BrowserFactory
from tests.e2e.serving import free_port, get_json, start_server, wait_for

DELAY_S = 240
POLL_S = 1
STALE_AFTER_S = 8


def write_trip_updates(path: Path, updates: list[tuple[dict[str, Any], int | None]]) -> None:
    """A TripUpdates feed: each (departure item of the hub endpoint, delay) runs that many seconds
    late from its stop at the hub on, or is cancelled when the delay is None; written atomically."""
    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.incrementality = pb.FeedHeader.FULL_DATASET
    msg.header.timestamp = int(time.time())
    for item, delay_s in updates:
        entity = msg.entity.add(id=f"tu-{item['trip_id']}")
        tu = entity.trip_update
        tu.trip.trip_id = item["trip_id"]
        tu.trip.start_date = datetime.fromisoformat(item["planned_when"]).strftime("%Y%m%d")
        tu.timestamp = msg.header.timestamp
        if delay_s is None:
            tu.trip.schedule_relationship = pb.TripDescriptor.CANCELED
            continue
        stu = tu.stop_time_update.add(stop_id=item["stop_id"])
        stu.arrival.delay = delay_s
        stu.departure.delay = delay_s
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msg.SerializeToString())
    os.replace(tmp, path)


def write_config(path: Path, data_dir: Path, port: int, trip_updates: Path) -> None:
    """Settings polling the demo city's sharing and chargers from the server itself, and the
    test's TripUpdates file every second."""
    base = f"http://127.0.0.1:{port}/demo"
    path.write_text(
        f"""
data_dir = "{data_dir}"

[feeds.knotenrad]
kind = "gbfs"
url = "{base}/gbfs/knotenrad/gbfs.json"
min_interval_s = 2.0

[feeds.knotencar]
kind = "gbfs"
url = "{base}/gbfs/knotencar/gbfs.json"
min_interval_s = 2.0

[feeds.chargers]
kind = "ocpi"
url = "{base}/ocpi/locations.json"
interval_s = 5.0

[feeds.trips]
kind = "gtfs-rt"
url = "{trip_updates}"
interval_s = 1.0
min_interval_s = 1.0
""",
        encoding="utf-8",
    )


def board_state(drv: Any) -> dict[str, Any]:
    """What the board shows: its state, the departure rows, offers, chargers, poll bookkeeping."""
    found: dict[str, Any] = drv.execute_script(
        """
        var q = function (sel) { return Array.from(document.querySelectorAll(sel)); };
        var s = window.knotenDisplay.state;
        return {
          state: document.body.dataset.state,
          rows: q('#departures tbody tr').map(function (tr) {
            return {line: tr.querySelector('.badge').textContent, dest: tr.querySelector('.dest').textContent,
                    time: tr.querySelector('.time').textContent, note: tr.querySelector('.note').textContent};
          }),
          bikes: document.getElementById('bikes').innerText,
          chargers: q('.evse .status').map(function (e) { return e.textContent; }),
          sinceOk_ms: s.lastOkMs === null ? null : Date.now() - s.lastOkMs,
          lastError: s.lastError,
          overflow: [document.documentElement.scrollWidth - innerWidth,
                     document.documentElement.scrollHeight - innerHeight]
        };"""
    )
    return found


def test_display_shows_the_hub_live_and_then_that_data_is_unavailable(
    browser: BrowserFactory, demo_city: DemoCity, tmp_path: Path, knoten_exe: Path
) -> None:
    drv = browser(1920, 1080)  # skips here when chromium cannot be had
    demo = tmp_path / "demo"
    shutil.copytree(demo_city.root, demo)
    build_graph_dir(
        [demo / "gtfs" / "demo-city.gtfs.zip"],
        demo / "osm" / "demo-city.osm",
        demo / "graph",
        gbfs_dirs=sorted(p for p in (demo / "gbfs").iterdir() if p.is_dir()),
        ocpi_files=[demo / "ocpi" / "locations.json"],
    )
    trip_updates = tmp_path / "trip-updates.pb"
    write_trip_updates(trip_updates, [])
    port = free_port()
    config = tmp_path / "knoten.toml"
    write_config(config, tmp_path, port, trip_updates)
    server = start_server(knoten_exe, tmp_path, workers=2, port=port, config=config)
    try:
        api = f"{server.base}/api/v1/hubs/hbf"

        def hub_ready() -> dict[str, Any] | None:
            doc = get_json(api)
            ready = (
                len(doc["departures"]["items"]) >= 4
                and doc["bikes"]["stations"]
                and doc["chargers"]["locations"]
            )
            return doc if ready else None

        wait_for(hub_ready, 90, "departures, bikes and chargers at the hub")
        # first every listed departure on time: those the realtime overlay matches answer delay_s 0
        # (trips of frequencies.txt carry no realtime here); then one late, another cancelled
        listed = get_json(api)["departures"]["items"]
        write_trip_updates(trip_updates, [(item, 0) for item in listed])

        def matched() -> list[dict[str, Any]]:
            """On-time departures with realtime, three minutes away or more (still listed later)."""
            soon = time.time() + 180
            items = get_json(api)["departures"]["items"]
            on_time = [i for i in items if i["delay_s"] == 0]
            return [i for i in on_time if datetime.fromisoformat(i["when"]).timestamp() >= soon]

        def two_matched() -> list[dict[str, Any]] | None:
            found = matched()
            return found if len(found) >= 2 else None

        delayed, cancelled = wait_for(two_matched, 60, "on-time realtime for two departures")[:2]
        write_trip_updates(trip_updates, [(delayed, DELAY_S), (cancelled, None)])

        def applied() -> bool:
            now_items = {i["trip_id"]: i for i in get_json(api)["departures"]["items"]}
            d, c = now_items.get(delayed["trip_id"]), now_items.get(cancelled["trip_id"])
            return bool(d and d["delay_s"] == DELAY_S and c and c["cancelled"])

        wait_for(applied, 60, "the hub endpoint to show the delay and the cancellation")

        drv.get(f"{server.base}/display/hbf?poll_s={POLL_S}&stale_after_s={STALE_AFTER_S}")
        wait_for(lambda: board_state(drv)["state"] == "ok", 20, "the board")

        def shows_realtime() -> bool:
            notes = {(r["line"], r["dest"], r["note"]) for r in board_state(drv)["rows"]}
            d_row = (delayed["line"]["name"], delayed["direction"], "+4 min")
            c_row = (cancelled["line"]["name"], cancelled["direction"], "fällt aus")
            return d_row in notes and c_row in notes

        wait_for(shows_realtime, 20, "'+4 min' and 'fällt aus' on the board")
        shown = board_state(drv)
        assert len(shown["rows"]) >= 4
        assert "Räder" in shown["bikes"] and "freie Plätze" in shown["bikes"]
        assert shown["chargers"] and set(shown["chargers"]) <= {"frei", "lädt", "außer Betrieb", "reserviert"}
        assert shown["overflow"][0] <= 0 and shown["overflow"][1] <= 0, "the board scrolls at 1920×1080"
        ARTIFACTS.mkdir(exist_ok=True)
        assert drv.save_screenshot(str(ARTIFACTS / "display-hbf.png"))

        # the server goes away (its sockets close at once; the processes end in the background):
        # the last data stays up while the polls fail ...
        server.proc.terminate()
        wait_for(lambda: board_state(drv)["lastError"] is not None, 10, "a failed poll")
        kept = board_state(drv)
        assert kept["sinceOk_ms"] < STALE_AFTER_S * 1000
        assert kept["state"] == "ok" and len(kept["rows"]) >= 4, kept
        # ... until the grace time has passed since the last good answer
        wait_for(lambda: board_state(drv)["state"] == "unavailable", 30, "the unavailable state")
        gone = board_state(drv)
        assert gone["sinceOk_ms"] >= STALE_AFTER_S * 1000
        assert drv.find_element("id", "unavailable").is_displayed()
        assert not drv.find_element("id", "board").is_displayed()
        assert "Daten derzeit nicht verfügbar" in drv.find_element("tag name", "body").text
        drv.save_screenshot(str(ARTIFACTS / "display-hbf-unavailable.png"))
    finally:
        server.stop()
