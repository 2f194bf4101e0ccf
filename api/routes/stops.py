"""``GET /api/v1/stops``: stops near a place (``near=lat,lon``) or by name (``q=``), or both.

Stops come from the graph folder's timetable: stations (location_type 1) and the stops and
platforms where vehicles halt (0), each with its parent station. Entrances, generic nodes and
boarding areas are left out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import Response
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from api.context import json_response
from api.errors import ApiProblem
from api.models import RequestModel
from api.params import LatLonText, parse_lat_lon
from api.planners import planners
from api.settings import Settings

stops_tag = Tag(name="stops", description="Public transport stops")
#: stops change with the timetable only
MAX_AGE_S = 300


def fold(text: str) -> str:
    """Lower case without accents (``Bahnhofstraße`` and ``bahnhofstrasse`` match)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class StopsParams(RequestModel):
    """Query parameters of ``GET /api/v1/stops`` (give ``near``, ``q`` or both)."""

    model_config = ConfigDict(extra="forbid")

    near: LatLonText | None = Field(
        default=None,
        description="lat,lon to search around, for example 51.6801,7.8098",
        json_schema_extra={"example": "51.6801,7.8098"},
    )
    radius_m: float = Field(
        allow_inf_nan=False, default=500.0, gt=0, le=5000, description="Search radius around near (m)"
    )
    q: str | None = Field(default=None, min_length=1, max_length=100, description="Part of the stop name")
    limit: int = Field(default=20, ge=1, le=200)

    @field_validator("q")
    @classmethod
    def _words(cls, value: str | None) -> str | None:
        """A name of spaces only is of the published form (minLength 1) but names nothing: 422."""
        if value is not None and not value.strip():
            raise PydanticCustomError("rule", "the name to search for is blank")
        return value


class StopsResponse(BaseModel):
    """Matching stops, nearest (or best name match) first."""

    stops: list[dict[str, Any]]


@dataclass
class StopIndex:
    """The stops of a timetable as arrays, with folded names for searching."""

    ids: list[str]
    names: list[str]
    folded: list[str]
    lat: np.ndarray
    lon: np.ndarray
    location_type: np.ndarray
    parent: list[str | None]
    keep: np.ndarray  # stations and stops/platforms

    @classmethod
    def of(cls, tt: Any) -> StopIndex:
        """Index the stops of timetable ``tt``."""
        ids = [str(s) for s in tt.stop_ids]
        names = [str(s) for s in tt.stop_names]
        parent = [ids[int(p)] if int(p) >= 0 else None for p in tt.stop_parent]
        kinds = np.asarray(tt.stop_location_type, dtype=np.int64)
        return cls(
            ids, names, [fold(n) for n in names], np.asarray(tt.stop_lat, dtype=np.float64),
            np.asarray(tt.stop_lon, dtype=np.float64), kinds, parent, (kinds == 0) | (kinds == 1),
        )  # fmt: skip

    def search(
        self, near: tuple[float, float] | None, radius_m: float, q: str | None, limit: int
    ) -> list[int]:
        """Indices of the matching stops, best first."""
        from mobility.streets.graph import haversine_m

        ok = self.keep.copy()
        dist = None
        if near is not None:
            dist = np.asarray(haversine_m(near[0], near[1], self.lat, self.lon), dtype=np.float64)
            ok &= dist <= radius_m
        words = fold(q).split() if q else []
        if words:
            ok &= np.fromiter((all(w in name for w in words) for name in self.folded), bool, len(self.folded))
        found = np.flatnonzero(ok).tolist()
        if dist is not None:
            found.sort(key=lambda i: (float(dist[i]), self.names[i], self.ids[i]))
        else:
            whole = " ".join(words)  # names starting with the words first, stations before platforms
            found.sort(
                key=lambda i: (not self.folded[i].startswith(whole), int(self.location_type[i]) != 1,
                               self.folded[i] != whole, self.names[i], self.ids[i])
            )  # fmt: skip
        return found[:limit]

    def to_json(self, i: int, distance_m: float | None) -> dict[str, Any]:
        """One stop in the API shape."""
        return {
            "stop_id": self.ids[i],
            "name": self.names[i],
            "lat": round(float(self.lat[i]), 7),
            "lon": round(float(self.lon[i]), 7),
            "distance_m": None if distance_m is None else round(distance_m, 1),
            "location_type": int(self.location_type[i]),
            "parent_station": self.parent[i],
        }


#: the last timetable indexed and its index (the timetable is held, so its id stays unique)
_last: list[tuple[Any, StopIndex]] = []


def stop_index() -> StopIndex:
    """The stop index of the current timetable (built once per timetable)."""
    tt = planners().timetable()
    held = _last[0] if _last else None
    if held is not None and held[0] is tt:
        return held[1]
    index = StopIndex.of(tt)
    _last[:] = [(tt, index)]
    return index


def create_stops_blueprint() -> APIBlueprint:
    """``GET /api/v1/stops``."""
    bp = APIBlueprint("stops", __name__, url_prefix="/api/v1", abp_tags=[stops_tag])

    @bp.get("/stops", responses={200: StopsResponse})
    def stops_route(query: StopsParams) -> Response:
        """Stops within ``radius_m`` of ``near`` (nearest first), or whose name contains ``q``.

        Errors: 400 parameters the schema rejects (``near`` not two numbers); 422 values of the
        right form that break a range or rule (a latitude beyond 90, neither ``near`` nor ``q``,
        a blank ``q``); 503 no graph.
        """
        from mobility.streets.graph import haversine_m

        if query.near is None and query.q is None:  # each is optional, one of them is needed
            raise ApiProblem(
                422,
                "Invalid request",
                "near, q: give near=lat,lon, q=name or both",
                field="near",
                constraint="rule",
            )
        index = stop_index()
        near = parse_lat_lon(query.near) if query.near is not None else None
        found = index.search(near, query.radius_m, query.q, query.limit)
        out = []
        for i in found:
            d = None
            if near is not None:
                d = float(haversine_m(near[0], near[1], index.lat[i], index.lon[i]))
            out.append(index.to_json(i, d))
        return json_response({"stops": out}, max_age_s=MAX_AGE_S)

    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach ``GET /api/v1/stops`` and announce the capability."""
    del settings
    app.register_api(create_stops_blueprint())
    app.config["KNOTEN_CAPABILITIES"].append("stops")
