"""``GET /api/v1/plan``: door-to-door itineraries (walk, transit, shared bikes and cars, own car)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from flask import Response
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from api.context import json_response
from api.errors import ApiProblem
from api.models import RequestModel
from api.params import LatLonText, parse_lat_lon, words_pattern
from api.planners import planners
from api.settings import Settings
from mobility.planner.query import MODES

plan_tag = Tag(name="plan", description="Door-to-door itineraries")
#: plans depend on the live state and the clock: clients may reuse one for this long
MAX_AGE_S = 15
#: longest access, egress and direct walk one may ask for
MAX_WALK_S = 3 * 3600
PLACE_NAMES = {"en": {"Origin": "Origin", "Destination": "Destination"},
               "de": {"Origin": "Start", "Destination": "Ziel"}}  # fmt: skip
#: ``modes``: known modes, lower case, comma-separated without spaces
MODES_PATTERN = words_pattern(MODES)


class PlanParams(RequestModel):
    """Query parameters of ``GET /api/v1/plan``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: LatLonText = Field(
        alias="from",
        description="Origin as lat,lon (WGS 84), for example 51.6802,7.7870",
        json_schema_extra={"example": "51.6802,7.7870"},
    )
    to: LatLonText = Field(
        description="Destination as lat,lon (WGS 84), for example 51.6800,7.8330",
        json_schema_extra={"example": "51.6800,7.8330"},
    )
    time: AwareDatetime | None = Field(
        default=None, description="Departure (or arrival with arrive_by) as RFC 3339 with offset; default now"
    )
    arrive_by: bool = Field(default=False, description="time is the latest arrival")
    modes: Annotated[str, WithJsonSchema({"type": "string", "pattern": MODES_PATTERN})] = Field(
        default="walk,transit", description=f"Comma-separated modes: {', '.join(MODES)}"
    )
    ev_connector: Literal["CCS", "TYPE2", "CHADEMO"] | None = Field(
        default=None, description="With mode car: drive to a free charger with this connector"
    )
    min_power_kw: float = Field(
        allow_inf_nan=False, default=0.0, ge=0, le=1000, description="Least charging power (kW)"
    )
    max_walk_s: int | None = Field(
        default=None, ge=0, le=MAX_WALK_S,
        description="Longest walk to or from transit (s; default 1500 m at the walking speed)",
    )  # fmt: skip
    walk_speed_mps: float = Field(
        allow_inf_nan=False, default=1.2, ge=0.3, le=3.0, description="Walking speed (m/s)"
    )
    max_itineraries: int = Field(default=6, ge=1, le=20)
    geometry: Literal["polyline", "geojson"] = Field(
        default="polyline", description="Leg geometry: encoded polyline (precision 6) or GeoJSON"
    )
    lang: Literal["de", "en"] = Field(default="en", description="Language of place names")

    @field_validator("modes")
    @classmethod
    def _modes(cls, value: str) -> str:
        """Known modes in the published form (``MODES_PATTERN``), else a malformed request (400)."""
        modes = value.split(",")
        if re.fullmatch(MODES_PATTERN, value) is None:
            choose = ", ".join(MODES)
            unknown = [m for m in modes if m and m not in MODES]
            if not unknown:
                raise PydanticCustomError(
                    "mode", "no mode given, or an empty one (choose from {choose})", {"choose": choose}
                )
            raise PydanticCustomError(
                "mode",
                "unknown mode {mode} (choose from {choose}; lower case, comma-separated)",
                {"mode": repr(unknown[0]), "choose": choose},
            )
        return ",".join(dict.fromkeys(modes))

    @field_validator("ev_connector", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class PlanResponse(BaseModel):
    """Itineraries (see the architecture notes, "API shape") and the query as understood."""

    itineraries: list[dict[str, Any]]
    query: dict[str, Any]


def _localise(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    """Name the query's own places (not stops) in ``lang``."""
    names = PLACE_NAMES[lang]
    if lang == "en":
        return doc
    for leg in doc["legs"]:
        for end in ("from", "to"):
            place = leg[end]
            if "stop_id" not in place and place.get("name") in names:
                place["name"] = names[place["name"]]
    return doc


def plan_itineraries(params: PlanParams) -> dict[str, Any]:
    """Plan the query and return the response document (ApiProblem on every failure)."""
    from mobility.errors import MobilityError, NoRouteError, QueryError
    from mobility.planner.query import PlanQuery

    cache = planners()
    frm, to = parse_lat_lon(params.from_), parse_lat_lon(params.to)
    when = params.time or dt.datetime.now(cache.tz).replace(microsecond=0)
    date = cache.check_date(when)
    modes = frozenset(params.modes.split(","))
    if params.ev_connector is not None and "car" not in modes:
        raise ApiProblem(
            422,
            "Invalid request",
            f"ev_connector = {params.ev_connector}: needs the mode car in modes",
            field="ev_connector",
            value=params.ev_connector,
            constraint="rule",
        )
    max_walk_m = 1500.0 if params.max_walk_s is None else params.max_walk_s * params.walk_speed_mps
    max_walk_m = min(max_walk_m, 20000.0)
    try:
        query = PlanQuery(
            frm[0], frm[1], to[0], to[1], when, arrive_by=params.arrive_by, modes=modes,
            walk_speed_mps=params.walk_speed_mps, max_walk_m=max_walk_m, ev_connector=params.ev_connector,
            min_power_kw=params.min_power_kw, max_itineraries=params.max_itineraries,
        )  # fmt: skip
    except QueryError as exc:  # the parameters were checked: a rule of the planner's own
        raise ApiProblem(422, "Invalid request", str(exc), constraint="rule") from exc
    try:
        its, realtime = cache.plan(date, query)
    except NoRouteError as exc:
        if exc.reason.startswith("outside the network"):
            raise ApiProblem(422, "Place outside the network", exc.reason) from exc
        raise ApiProblem(404, "No route", exc.reason) from exc
    except QueryError as exc:
        raise ApiProblem(422, "Invalid request", str(exc), constraint="rule") from exc
    except MobilityError as exc:
        raise ApiProblem(503, "Planner unavailable", str(exc)) from exc
    echo = {
        "from": {"lat": frm[0], "lon": frm[1]},
        "to": {"lat": to[0], "lon": to[1]},
        "time": when.isoformat(),
        "arrive_by": params.arrive_by,
        "modes": sorted(modes),
        "ev_connector": params.ev_connector,
        "min_power_kw": params.min_power_kw,
        "max_walk_s": round(max_walk_m / params.walk_speed_mps),
        "max_walk_m": round(max_walk_m, 1),
        "walk_speed_mps": params.walk_speed_mps,
        "max_itineraries": params.max_itineraries,
        "geometry": params.geometry,
        "lang": params.lang,
        "service_date": date.isoformat(),
        "realtime": realtime,
        "availability": cache.availability.source(),
    }
    return {"itineraries": [_localise(it.to_json(params.geometry), params.lang) for it in its], "query": echo}


def create_plan_blueprint() -> APIBlueprint:
    """``GET /api/v1/plan``."""
    bp = APIBlueprint("plan", __name__, url_prefix="/api/v1", abp_tags=[plan_tag])

    @bp.get("/plan", responses={200: PlanResponse})
    def plan_route(query: PlanParams) -> Response:
        """Door-to-door itineraries between two places, departing at or arriving by a time.

        Uses the live sharing and charger state (the graph folder's snapshot where the live
        state has none) and, when the realtime overlay can be used, realtime transit times.
        Errors: 400 parameters the schema rejects; 422 values of the right form that break a
        range or rule (a latitude beyond 90, ev_connector without the mode car, a time outside the
        service period, a place off the street network; field, value and limit named); 404 no
        route within the limits (the detail says why); 503 no graph.
        """
        return json_response(plan_itineraries(query), max_age_s=MAX_AGE_S)

    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach ``GET /api/v1/plan`` and announce the capability."""
    del settings
    app.register_api(create_plan_blueprint())
    app.config["KNOTEN_CAPABILITIES"].append("plan")
