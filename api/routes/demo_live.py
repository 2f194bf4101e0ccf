"""The demo city's moving feeds: the served GBFS status files, OCPI Locations and a GTFS-Realtime
TripUpdates feed change with the clock (see :mod:`scenarios.demo.live`).

:func:`add_live_routes` hooks into the demo blueprint: status files and Locations are answered
from the built files moved to the current time; ``/demo/gtfs-rt/trip-updates.pb`` is new.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, request

from api.errors import ApiProblem
from scenarios.demo.live import DemoRealtime, moving_locations, moving_station_status, moving_vehicle_status

_SAFE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}")  # a system id that can be a folder name
_MOVING = {"station_status": moving_station_status, "vehicle_status": moving_vehicle_status}


def _seed(demo_dir: Path) -> int:
    manifest: dict[str, Any] = json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))
    return int(manifest.get("seed", 42))


def _conditional(body: bytes, mimetype: str) -> Response:
    """A response with an ETag, answering 304 to a matching If-None-Match."""
    response = Response(body, mimetype=mimetype)
    response.add_etag()
    response.headers["Cache-Control"] = "public, max-age=10"
    response.make_conditional(request)  # in place: 304 without a body when the ETag matches
    return response


def add_live_routes(bp: Blueprint, demo_dir: Path) -> None:
    """Serve the demo's status files, Locations and TripUpdates as they are now."""
    realtime: dict[str, DemoRealtime] = {}
    lock = threading.Lock()

    def now() -> datetime:
        return datetime.now(UTC)

    @bp.before_request
    def moving() -> Response | None:
        if not (demo_dir / "manifest.json").is_file():
            return None  # the blueprint answers 503
        parts = request.path.strip("/").split("/")
        if (
            len(parts) == 4
            and parts[1] == "gbfs"
            and parts[3].removesuffix(".json") in _MOVING
            and _SAFE_NAME.fullmatch(parts[2])
        ):
            path = demo_dir / "gbfs" / parts[2] / parts[3]
            if path.is_file() and path.parent.parent == demo_dir / "gbfs":
                doc = json.loads(path.read_text(encoding="utf-8"))
                moved = _MOVING[parts[3].removesuffix(".json")](doc, _seed(demo_dir), now())
                return _conditional(json.dumps(moved).encode(), "application/json")
        if request.path == "/demo/ocpi/locations.json":
            path = demo_dir / "ocpi" / "locations.json"
            if path.is_file():
                doc = json.loads(path.read_text(encoding="utf-8"))
                moved_locations = moving_locations(doc, _seed(demo_dir), now())
                return _conditional(json.dumps(moved_locations).encode(), "application/json")
        return None

    @bp.get("/gtfs-rt/trip-updates.pb")
    def trip_updates() -> Response:
        """GTFS-Realtime TripUpdates of the demo city's buses and trains, now."""
        zips = sorted((demo_dir / "gtfs").glob("*.zip")) if (demo_dir / "gtfs").is_dir() else []
        if not (demo_dir / "manifest.json").is_file() or not zips:
            detail = f"no demo city in {demo_dir}; run 'knoten demo build' first"
            raise ApiProblem(503, "Demo city not built", detail)
        key = f"{zips[0]}:{zips[0].stat().st_mtime_ns}"
        with lock:
            if key not in realtime:
                realtime.clear()
                realtime[key] = DemoRealtime(zips[0], _seed(demo_dir))
            source = realtime[key]
        return _conditional(source.trip_updates(now()), "application/x-protobuf")
