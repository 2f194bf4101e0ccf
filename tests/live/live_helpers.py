"""Helpers of the live-feed tests: a real HTTP server on 127.0.0.1 (werkzeug, in a thread) whose
answers the tests switch, and a small GBFS system to serve."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    delay_s: float = 0.0
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class FeedServer:
    """Serves ``routes`` on 127.0.0.1; :meth:`down` stops listening, :meth:`up` listens again."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | Callable[[Request], Response]] = {}
        self.requests: list[Request] = []
        self._server: BaseWSGIServer | None = None
        self.port = 0
        self.up()

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path``."""
        return self.base + path

    def _app(self, environ: dict, start_response: Callable) -> object:  # type: ignore[type-arg]
        request = Request(environ)
        self.requests.append(request)
        route = self.routes.get(request.path)
        if route is None:
            response = Response("not found", status=404)
        elif callable(route):
            response = route(request)
        else:
            if route.delay_s:
                time.sleep(route.delay_s)
            response = Response(route.body, status=route.status, content_type=route.content_type)
            response.headers.update(route.headers)
        return response(environ, start_response)

    def up(self) -> None:
        """Start listening (on the same port as before, if there was one)."""
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def gbfs_system(server: FeedServer, last_updated: int, *, bikes_at_s1: int = 3, ttl: int = 60) -> None:
    """Publish a small, schema-valid GBFS 2.3 system (two stations, a car at a station, a bike)."""
    import json

    def doc(data: object) -> bytes:
        return json.dumps({"last_updated": last_updated, "ttl": ttl, "version": "2.3", "data": data}).encode()

    names = [
        "system_information",
        "vehicle_types",
        "station_information",
        "station_status",
        "free_bike_status",
    ]
    feeds = [{"name": n, "url": server.url(f"/gbfs/{n}.json")} for n in names]
    server.routes["/gbfs/gbfs.json"] = Route(doc({"en": {"feeds": feeds}}))
    server.routes["/gbfs/system_information.json"] = Route(
        doc({"system_id": "knotenrad", "language": "en", "name": "Knotenrad", "timezone": "Europe/Berlin"})
    )
    server.routes["/gbfs/vehicle_types.json"] = Route(
        doc(
            {
                "vehicle_types": [
                    {"vehicle_type_id": "bike", "form_factor": "bicycle", "propulsion_type": "human"},
                    {
                        "vehicle_type_id": "car",
                        "form_factor": "car",
                        "propulsion_type": "electric",
                        "max_range_meters": 300000,
                    },
                ]
            }
        )
    )
    stations = [
        {"station_id": "s1", "name": "Markt", "lat": 51.5, "lon": 7.4, "capacity": 10},
        {"station_id": "s2", "name": "Bahnhof", "lat": 51.51, "lon": 7.41, "capacity": 5},
    ]
    server.routes["/gbfs/station_information.json"] = Route(doc({"stations": stations}))
    status = [
        {
            "station_id": sid,
            "num_bikes_available": n,
            "num_docks_available": cap - n,
            "is_installed": True,
            "is_renting": True,
            "is_returning": True,
            "last_reported": last_updated,
            "vehicle_types_available": [{"vehicle_type_id": "bike", "count": n}],
        }
        for sid, n, cap in (("s1", bikes_at_s1, 10), ("s2", 1, 5))
    ]
    server.routes["/gbfs/station_status.json"] = Route(doc({"stations": status}))
    bikes = [
        {"bike_id": "b1", "lat": 51.502, "lon": 7.402, "is_reserved": False, "is_disabled": False,
         "vehicle_type_id": "bike", "last_reported": last_updated},
        {"bike_id": "c1", "station_id": "s2", "is_reserved": False, "is_disabled": False,
         "vehicle_type_id": "car", "current_range_meters": 120000, "last_reported": last_updated},
    ]  # fmt: skip
    server.routes["/gbfs/free_bike_status.json"] = Route(doc({"bikes": bikes}))
