"""``GET /api/v1/charging/locations``: charging locations and their EVSE statuses, live (OCPI).

Filters: ``bbox`` (``min_lon,min_lat,max_lon,max_lat``) on the location; ``status``,
``connector`` (OCPI connector standard) and ``min_power_kw`` on the EVSEs: a location is listed
with the EVSEs that match, and left out when none does. Freshness (``as_of``, ``age_s``,
``stale``) is that of the OCPI feeds (pushed EVSE updates included).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from flask import Response
from flask_openapi3 import APIBlueprint, OpenAPI
from pydantic import BaseModel, ConfigDict, Field

from api.context import json_response, services
from api.live_views import (
    SecondCache,
    charger_index,
    filter_evses,
    freshness,
    in_bbox,
    rfc3339,
    second_of,
)
from api.models import RequestModel, problems
from api.params import BBoxText, parse_bbox
from api.routes.charging import charging_tag
from api.routes.sharing import BBOX_DESCRIPTION, BBOX_EXAMPLE, FeedOut
from api.settings import Settings
from charging.ocpi import EvseStatus

#: OCPI 2.2.1 ConnectorType values
ConnectorStandard = Literal[
    "CHADEMO", "CHAOJI", "DOMESTIC_A", "DOMESTIC_B", "DOMESTIC_C", "DOMESTIC_D", "DOMESTIC_E", "DOMESTIC_F",
    "DOMESTIC_G", "DOMESTIC_H", "DOMESTIC_I", "DOMESTIC_J", "DOMESTIC_K", "DOMESTIC_L", "DOMESTIC_M",
    "DOMESTIC_N", "DOMESTIC_O", "GBT_AC", "GBT_DC", "IEC_60309_2_single_16", "IEC_60309_2_three_16",
    "IEC_60309_2_three_32", "IEC_60309_2_three_64", "IEC_62196_T1", "IEC_62196_T1_COMBO", "IEC_62196_T2",
    "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C", "NEMA_5_20", "NEMA_6_30", "NEMA_6_50",
    "NEMA_10_30", "NEMA_10_50", "NEMA_14_30", "NEMA_14_50", "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN",
    "TESLA_R", "TESLA_S",
]  # fmt: skip


class LocationsQuery(RequestModel):
    """Filters of the charging locations."""

    model_config = ConfigDict(extra="forbid")
    bbox: BBoxText | None = Field(default=None, description=BBOX_DESCRIPTION, json_schema_extra=BBOX_EXAMPLE)
    status: EvseStatus | None = Field(default=None, description="Only EVSEs in this OCPI status")
    connector: ConnectorStandard | None = Field(
        default=None, description="Only EVSEs with this connector standard"
    )
    min_power_kw: float | None = Field(
        default=None, ge=0, le=10_000, description="Only EVSEs at least this powerful"
    )


class ConnectorOut(BaseModel):
    """A connector of an EVSE."""

    connector_id: str
    standard: str
    format: str
    power_type: str
    max_power_kw: float


class EvseOut(BaseModel):
    """An EVSE with its live status."""

    evse_uid: str
    evse_id: str | None
    status: str
    max_power_kw: float
    connectors: list[ConnectorOut]


class LocationOut(BaseModel):
    """A charging location."""

    location_id: str
    name: str | None
    lat: float
    lon: float
    evses: list[EvseOut]


class LocationsResponse(BaseModel):
    """Charging locations, with the freshness of the OCPI feeds."""

    as_of: str | None
    age_s: float | None
    stale: bool
    feeds: list[FeedOut]
    locations: list[LocationOut]


def create_locations_blueprint(settings: Settings) -> APIBlueprint:
    """``GET /api/v1/charging/locations``."""
    bp = APIBlueprint("charging_locations", __name__, url_prefix="/api/v1/charging", abp_tags=[charging_tag])
    tz = ZoneInfo(settings.timezone)
    answers = SecondCache()

    @bp.get("/locations", responses={200: LocationsResponse, **problems(400, 422)})
    def locations(query: LocationsQuery) -> Response:
        """Charging locations with the live status of every EVSE."""
        bbox = None if query.bbox is None else parse_bbox(query.bbox)
        state = services().live_state()
        index = charger_index(state.chargers(dt.datetime.now(dt.UTC)))
        key = (second_of(state.clock), query.bbox, query.status, query.connector, query.min_power_kw)
        cached = answers.get(key, (index,))
        if cached is not None:
            return json_response(cached, max_age_s=10)
        rows = []
        for i in np.flatnonzero(in_bbox(index.lat, index.lon, bbox)).tolist():
            row = filter_evses(index.rows[i], query.status, query.connector, query.min_power_kw)
            if row is not None:
                rows.append(row)
        statuses = state.feed_status()
        doc = {
            **freshness(statuses, ("ocpi",), tz),
            "feeds": [{**s.to_json(), "as_of": rfc3339(s.as_of, tz)} for s in statuses if s.kind == "ocpi"],
            "locations": rows,
        }
        answers.put(key, (index,), doc)
        return json_response(doc, max_age_s=10)

    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach ``GET /charging/locations`` to ``app``."""
    app.register_api(create_locations_blueprint(settings))
    app.config["KNOTEN_CAPABILITIES"].append("charging-locations")
