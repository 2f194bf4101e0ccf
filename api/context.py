"""What the routes read, held once per process: the prepared graph folder and the live state.

``create_app`` puts one :class:`Services` into ``app.extensions["knoten.services"]``; routes get it
with :func:`services`. The graph folder is loaded on first use (a worker that never plans does not
pay for it); the live state is the one the pollers write, refreshed from the shared store at most
once per ``refresh_interval_s`` so that every worker process sees what the one poller wrote.

:func:`json_response` is the one way routes answer JSON: orjson, an ETag, ``Cache-Control`` and a
304 to a matching ``If-None-Match``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from flask import Flask, Response, current_app, request

from api.errors import ApiProblem
from api.settings import Settings

if TYPE_CHECKING:
    from mobility.live.state import LiveState
    from mobility.planner.graphdir import GraphDir

EXTENSION = "knoten.services"


def graph_folder(settings: Settings) -> Path | None:
    """The graph folder to plan on: ``<data_dir>/graph``, else the demo city's, else None."""
    for candidate in (settings.data_dir / "graph", settings.data_dir / "demo" / "graph"):
        if (candidate / "manifest.json").is_file():
            return candidate
    return None


@dataclass
class Services:
    """The process-wide state behind the routes."""

    settings: Settings
    live: LiveState
    refresh_interval_s: float = 1.0
    _graph: GraphDir | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _refreshed_at: float = 0.0

    def graph(self) -> GraphDir:
        """The loaded graph folder; 503 problem when none is built."""
        if self._graph is None:
            with self._lock:
                if self._graph is None:
                    folder = graph_folder(self.settings)
                    if folder is None:
                        raise ApiProblem(
                            503,
                            "No graph",
                            f"no graph folder in {self.settings.data_dir} "
                            "(run 'knoten demo build' or 'knoten build --osm ... --out data/graph')",
                        )
                    from mobility.planner.graphdir import GraphDir

                    self._graph = GraphDir.load(folder)
        return self._graph

    def live_state(self) -> LiveState:
        """The live state, with what other processes stored taken in (throttled)."""
        now = time.monotonic()
        if now - self._refreshed_at >= self.refresh_interval_s:
            self._refreshed_at = now
            self.live.refresh()
        return self.live


def services(app: Flask | None = None) -> Services:
    """The :class:`Services` of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    found: Services = target.extensions[EXTENSION]
    return found


def json_response(doc: Any, *, max_age_s: int, status: int = 200, etag_of: Any = None) -> Response:
    """``doc`` as JSON (orjson) with an ETag and ``Cache-Control: max-age``; 304 when unchanged.

    ``etag_of``: what the ETag is computed from when not the whole answer, e.g. the answer without
    its own time and the data ages that grow every second (see :func:`without_keys`), so that a
    client polling with ``If-None-Match`` gets 304 until the data itself changes.
    """
    body = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS)
    response = Response(body, status=status, mimetype="application/json")
    if etag_of is not None:
        stable = orjson.dumps(etag_of, option=orjson.OPT_NON_STR_KEYS)
        response.set_etag(hashlib.sha1(stable, usedforsecurity=False).hexdigest())
    else:
        response.add_etag()
    response.headers["Cache-Control"] = f"public, max-age={max_age_s}"
    if status == 200:
        response.make_conditional(request)
    return response


def without_keys(doc: Any, keys: frozenset[str]) -> Any:
    """``doc`` without the entries named ``keys`` in any of its objects."""
    if isinstance(doc, dict):
        return {k: without_keys(v, keys) for k, v in doc.items() if k not in keys}
    if isinstance(doc, list):
        return [without_keys(v, keys) for v in doc]
    return doc
