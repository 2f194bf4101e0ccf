"""``GET /api/v1/sharing/stations`` and ``GET /api/v1/sharing/vehicles``: the live GBFS state.

Both filter by ``bbox`` (``min_lon,min_lat,max_lon,max_lat``), ``system_id`` and ``form_factor``
and say how fresh the data is (``as_of``, ``age_s``, ``stale`` over the GBFS feeds, and each
feed's status under ``feeds``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
from flask import Response
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import BaseModel, ConfigDict, Field

from api.context import json_response, services
from api.live_views import (
    SecondCache,
    SharingIndex,
    freshness,
    in_bbox,
    rfc3339,
    second_of,
    sharing_index,
)
from api.models import RequestModel, problems
from api.params import BBoxText, parse_bbox
from api.settings import Settings

sharing_tag = Tag(name="sharing", description="Shared bikes, scooters and cars (GBFS), live")

FormFactor = Literal[
    "bicycle", "cargo_bicycle", "car", "moped", "scooter_standing", "scooter_seated", "other"
]
BBOX_DESCRIPTION = "min_lon,min_lat,max_lon,max_lat (WGS84)"
#: a box around the demo city's centre
BBOX_EXAMPLE: dict[str, Any] = {"example": "7.78,51.67,7.84,51.69"}


class SharingQuery(RequestModel):
    """Filters of the sharing lists."""

    model_config = ConfigDict(extra="forbid")
    bbox: BBoxText | None = Field(default=None, description=BBOX_DESCRIPTION, json_schema_extra=BBOX_EXAMPLE)
    system_id: str | None = Field(default=None, min_length=1, max_length=200, description="One GBFS system")
    form_factor: FormFactor | None = Field(default=None, description="GBFS form factor")


class FeedOut(BaseModel):
    """One feed's status."""

    name: str
    kind: str
    age_s: float | None
    stale: bool
    errors: int
    consecutive_errors: int
    last_error: str | None
    as_of: str | None


class StationOut(BaseModel):
    """A station with its current availability."""

    system_id: str
    station_id: str
    name: str
    lat: float
    lon: float
    vehicles_available: int
    docks_available: int | None
    capacity: int | None
    vehicle_types_available: dict[str, int]
    form_factors: list[str]
    is_renting: bool
    is_returning: bool
    is_installed: bool
    is_virtual: bool
    last_reported: str | None


class VehicleOut(BaseModel):
    """A vehicle with its position."""

    system_id: str
    vehicle_id: str
    lat: float
    lon: float
    form_factor: str
    propulsion: str
    vehicle_type_id: str | None
    range_m: float | None
    station_id: str | None
    is_free_floating: bool
    is_reserved: bool
    is_disabled: bool
    last_reported: str | None


class StationsResponse(BaseModel):
    """Stations, with the freshness of the GBFS feeds."""

    as_of: str | None
    age_s: float | None
    stale: bool
    feeds: list[FeedOut]
    stations: list[StationOut]


class VehiclesResponse(BaseModel):
    """Vehicles, with the freshness of the GBFS feeds."""

    as_of: str | None
    age_s: float | None
    stale: bool
    feeds: list[FeedOut]
    vehicles: list[VehicleOut]


def _feeds_block(tz: ZoneInfo) -> dict[str, Any]:
    statuses = services().live_state().feed_status()
    block = freshness(statuses, ("gbfs",), tz)
    block["feeds"] = [{**s.to_json(), "as_of": rfc3339(s.as_of, tz)} for s in statuses if s.kind == "gbfs"]
    return block


def create_sharing_blueprint(settings: Settings) -> APIBlueprint:
    """Routes of the sharing capability under ``/api/v1/sharing``."""
    bp = APIBlueprint("sharing", __name__, url_prefix="/api/v1/sharing", abp_tags=[sharing_tag])
    tz = ZoneInfo(settings.timezone)
    answers = SecondCache()

    def answer(
        query: SharingQuery, kind: str, rows_of: Callable[[SharingIndex, np.ndarray], list[Any]]
    ) -> Response:
        """The live answer of ``kind`` (stations or vehicles) in the query's box and filters, made
        once per second of the same sharing state."""
        bbox = None if query.bbox is None else parse_bbox(query.bbox)
        state = services().live_state()
        index = sharing_index(state.sharing(dt.datetime.now(dt.UTC)), tz)
        key = (second_of(state.clock), kind, query.bbox, query.system_id, query.form_factor)
        cached = answers.get(key, (index,))
        if cached is not None:
            return json_response(cached, max_age_s=10)
        lat, lon, system = (
            (index.station_lat, index.station_lon, index.station_system)
            if kind == "stations"
            else (index.vehicle_lat, index.vehicle_lon, index.vehicle_system)
        )
        mask = in_bbox(lat, lon, bbox)
        if query.system_id is not None:
            mask &= system == query.system_id
        doc = {**_feeds_block(tz), kind: rows_of(index, mask)}
        answers.put(key, (index,), doc)
        return json_response(doc, max_age_s=10)

    @bp.get("/stations", responses={200: StationsResponse, **problems(400, 422)})
    def stations(query: SharingQuery) -> Response:
        """Sharing stations with vehicles and docks available, live."""

        def rows(index: SharingIndex, mask: np.ndarray) -> list[Any]:
            return [
                index.stations[i]
                for i in np.flatnonzero(mask).tolist()
                if query.form_factor is None or query.form_factor in index.station_forms[i]
            ]

        return answer(query, "stations", rows)

    @bp.get("/vehicles", responses={200: VehiclesResponse, **problems(400, 422)})
    def vehicles(query: SharingQuery) -> Response:
        """Vehicles with a position (free-floating and parked at stations), live."""

        def rows(index: SharingIndex, mask: np.ndarray) -> list[Any]:
            if query.form_factor is not None:
                mask = mask & (index.vehicle_form == query.form_factor)
            return [index.vehicles[i] for i in np.flatnonzero(mask).tolist()]

        return answer(query, "vehicles", rows)

    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach the sharing routes to ``app``."""
    app.register_api(create_sharing_blueprint(settings))
    app.config["KNOTEN_CAPABILITIES"].append("sharing")
