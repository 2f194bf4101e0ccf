"""Publish the built demo city's feeds over HTTP, as a real city's feed servers would.

``/demo/gbfs/<system>/gbfs.json`` and its feeds, ``/demo/ocpi/locations.json`` and
``/demo/gtfs/<file>.zip`` are read from ``<data_dir>/demo`` (written by ``knoten demo build``).
Feed URLs inside ``gbfs.json`` are rewritten to the address the request came in on, so the
discovery file stays right on any host and port. Conditional requests (ETag) are answered by Flask.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_from_directory
from flask_openapi3 import OpenAPI

from api.errors import ApiProblem
from api.settings import Settings
from scenarios.demo.gbfs import DEMO_GBFS_BASE_URL

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")  # bounded: a longer name is no file of ours


def _checked(name: str) -> str:
    if not _SAFE_NAME.fullmatch(name) or name.startswith("."):
        raise ApiProblem(404, "Not Found", f"no demo feed named {name!r}")
    return name


def create_demo_blueprint(demo_dir: Path) -> Blueprint:
    """Routes that serve the demo city's GBFS, OCPI and GTFS files from ``demo_dir``."""
    demo_dir = demo_dir.resolve()  # Flask would take a relative folder as relative to the package
    bp = Blueprint("demo_feeds", __name__, url_prefix="/demo")

    def _require_build() -> None:
        if not (demo_dir / "manifest.json").is_file():
            raise ApiProblem(
                503, "Demo city not built", f"no demo city in {demo_dir}; run 'knoten demo build' first"
            )

    def _send(folder: Path, filename: str, mimetype: str) -> Response:
        _require_build()
        if not (folder / filename).is_file():
            raise ApiProblem(404, "Not Found", f"no demo feed {request.path}")
        # absolute: Flask takes a relative folder as relative to the package, not the working directory
        return send_from_directory(folder.resolve(), filename, mimetype=mimetype, max_age=10)

    @bp.get("/")
    def index() -> Response:
        """What the demo city publishes, with absolute URLs."""
        _require_build()
        manifest: dict[str, Any] = json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))
        base = request.host_url.rstrip("/") + "/demo"
        systems = sorted(p.name for p in (demo_dir / "gbfs").iterdir() if (p / "gbfs.json").is_file())
        return jsonify(
            {
                "note": manifest.get("note", "fictional demo city"),
                "gbfs": {s: f"{base}/gbfs/{s}/gbfs.json" for s in systems},
                "ocpi_locations": f"{base}/ocpi/locations.json",
                "gtfs": [f"{base}/gtfs/{p.name}" for p in sorted((demo_dir / "gtfs").glob("*.zip"))],
                "gtfs_rt": f"{base}/gtfs-rt/trip-updates.pb",
            }
        )

    @bp.get("/gbfs/<system>/<feed>.json")
    def gbfs_feed(system: str, feed: str) -> Response:
        """A GBFS 3.0 file of one demo sharing system."""
        folder = demo_dir / "gbfs" / _checked(system)
        filename = f"{_checked(feed)}.json"
        if feed != "gbfs":
            return _send(folder, filename, "application/json")
        _require_build()
        path = folder / filename
        if not path.is_file():
            raise ApiProblem(404, "Not Found", f"no demo sharing system {system!r}")
        served_base = request.host_url.rstrip("/") + "/demo/gbfs"
        text = path.read_text(encoding="utf-8").replace(DEMO_GBFS_BASE_URL, served_base)
        return Response(text, mimetype="application/json")

    @bp.get("/ocpi/locations.json")
    def ocpi_locations() -> Response:
        """OCPI 2.2.1 Locations of the demo city's charging points."""
        return _send(demo_dir / "ocpi", "locations.json", "application/json")

    @bp.get("/gtfs/<name>")
    def gtfs_zip(name: str) -> Response:
        """The demo city's GTFS feed."""
        if not name.endswith(".zip"):
            raise ApiProblem(404, "Not Found", f"no demo feed {request.path}")
        return _send(demo_dir / "gtfs", _checked(name), "application/zip")

    from api.routes.demo_live import add_live_routes

    add_live_routes(bp, demo_dir)  # status files, Locations and TripUpdates move with the clock
    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Serve the demo city built in ``<data_dir>/demo`` under ``/demo`` and announce the capability."""
    app.register_blueprint(create_demo_blueprint(settings.data_dir / "demo"))
    app.config["KNOTEN_CAPABILITIES"].append("demo-feeds")
