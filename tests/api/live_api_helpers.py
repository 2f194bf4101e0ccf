"""Helpers of the live API tests: the demo city's feeds as they are at a given moment, handed to a
real :class:`~mobility.live.state.LiveState` (the same payloads the pollers store), and an app on it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from api import create_app, load_settings
from mobility.live.state import LiveState, gbfs_payload
from mobility.sharing.gbfs import read_source
from scenarios.demo.live import DemoRealtime, moving_locations, moving_station_status, moving_vehicle_status

TZ = ZoneInfo("Europe/Berlin")
SYSTEMS = ("knotenrad", "knotenscoot", "knotencar")
FEEDS = ("demo-knotenrad", "demo-knotenscoot", "demo-knotencar", "demo-chargers", "demo-trip-updates")
_MOVING: dict[str, Callable[[dict[str, Any], int, dt.datetime], dict[str, Any]]] = {
    "station_status": moving_station_status,
    "vehicle_status": moving_vehicle_status,
}


def morning(hour: int = 8, minute: int = 5) -> dt.datetime:
    """Today at ``hour:minute`` in the demo city."""
    return dt.datetime.combine(dt.date.today(), dt.time(hour, minute), tzinfo=TZ)


def gbfs_at(demo_dir: Path, system: str, seed: int, now: dt.datetime) -> tuple[str, bytes]:
    """The discovery URL and the stored payload of one demo GBFS system as served at ``now``."""
    folder = demo_dir / "gbfs" / system
    files: dict[str, bytes] = {}

    def fetch(url: str) -> bytes:
        name = url.rsplit("/", 1)[-1]
        raw = (folder / name).read_bytes()
        moving = _MOVING.get(name.removesuffix(".json"))
        if moving is not None:
            raw = json.dumps(moving(json.loads(raw), seed, now)).encode()
        files[url] = raw
        return raw

    url = json.loads((folder / "gbfs.json").read_text())["data"]["feeds"][0]["url"]
    read_source(url, fetch)
    return url, gbfs_payload(url, files)


def ocpi_at(demo_dir: Path, seed: int, now: dt.datetime) -> bytes:
    """The demo's OCPI Locations as served at ``now``."""
    doc = json.loads((demo_dir / "ocpi" / "locations.json").read_text())
    return json.dumps(moving_locations(doc, seed, now)).encode()


@dataclass
class DemoFeeds:
    """Feeds the demo city's moving data into a live state."""

    demo_dir: Path
    seed: int
    realtime: DemoRealtime

    def trip_updates(self, now: dt.datetime) -> bytes:
        """The demo's GTFS-Realtime TripUpdates at ``now``."""
        return self.realtime.trip_updates(now)

    def feed(self, state: LiveState, now: dt.datetime, *, skip: tuple[str, ...] = ()) -> None:
        """Accept every demo feed (but ``skip``) as polled at ``now``, under the names
        ``knoten serve`` gives them."""
        for system in SYSTEMS:
            if f"demo-{system}" not in skip:
                _, payload = gbfs_at(self.demo_dir, system, self.seed, now)
                state.accept(f"demo-{system}", "gbfs", payload, fetched_at=now.timestamp())
        if "demo-chargers" not in skip:
            state.accept(
                "demo-chargers", "ocpi", ocpi_at(self.demo_dir, self.seed, now), fetched_at=now.timestamp()
            )
        if "demo-trip-updates" not in skip:
            state.accept("demo-trip-updates", "gtfs-rt", self.trip_updates(now), fetched_at=now.timestamp())


class Clock:
    """A settable clock for a LiveState (POSIX seconds)."""

    def __init__(self, t: dt.datetime) -> None:
        self.t = t.timestamp()

    def __call__(self) -> float:
        return self.t

    def set(self, t: dt.datetime) -> None:
        """Move the clock to ``t``."""
        self.t = t.timestamp()


def client_on(data_dir: Path, state: LiveState, **settings: Any) -> FlaskClient:
    """A test client of an app on ``data_dir`` (the demo city and its graph) reading ``state``."""
    config = load_settings(environ={}, data_dir=data_dir, **settings)
    return create_app(config, live=state).test_client()
