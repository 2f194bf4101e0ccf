"""``POST /api/v1/charging/plan``: the offline charging plan of ``knoten charging plan`` over JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.errors import ApiProblem
from api.settings import Settings
from charging.errors import ChargingError

charging_tag = Tag(name="charging", description="Smart charging: optimal plans and charging profiles")


class SessionIn(BaseModel):
    """A charging session (as a row of the sessions CSV)."""

    model_config = ConfigDict(extra="forbid")
    session_id: str = Field(min_length=1)
    evse_id: str = Field(min_length=1)
    arrival: AwareDatetime
    departure: AwareDatetime
    energy_kwh: float = Field(ge=0, description="Requested energy (kWh)")
    max_kw: float = Field(gt=0, description="Highest charging power of the car (kW)")


class PriceIn(BaseModel):
    """Price from ``slot_start`` until the next entry."""

    slot_start: AwareDatetime
    price_eur_per_kwh: float


class PvIn(BaseModel):
    """PV forecast from ``slot_start`` until the next entry."""

    slot_start: AwareDatetime
    pv_kw: float = Field(ge=0)


class LimitWindowIn(BaseModel):
    """A time-varying grid limit, e.g. a §14a EnWG reduction."""

    start: AwareDatetime
    end: AwareDatetime
    limit_kw: float = Field(ge=0)


class EvseIn(BaseModel):
    """A known EVSE; sessions naming another EVSE are rejected when this list is given."""

    evse_id: str = Field(min_length=1)
    max_kw: float = Field(gt=0)
    min_kw: float = Field(default=0.0, ge=0)
    phases: str = "L1L2L3"


class PlanRequest(BaseModel):
    """Inputs of a charging plan (the same as ``knoten charging plan``)."""

    model_config = ConfigDict(extra="forbid")
    sessions: list[SessionIn] = Field(min_length=1)
    site_limit_kw: float = Field(gt=0)
    slot_minutes: int = Field(gt=0, le=1440)
    objective: Literal["max-energy", "min-peak", "min-cost"]
    prices: list[PriceIn] | None = None
    pv: list[PvIn] | None = None
    limit_windows: list[LimitWindowIn] = Field(default_factory=list)
    evses: list[EvseIn] = Field(default_factory=list)
    profiles: Literal["ocpp201", "ocpp16", "ocpi"] | None = Field(
        default=None, description="Also return charging profiles in this format"
    )
    rate_unit: Literal["W", "A"] = "W"


class PlanRow(BaseModel):
    """Constant power of a session during one slot."""

    session_id: str
    slot_start: str
    power_kw: float


class PlanResponse(BaseModel):
    """The plan, its headline figures and (when asked) the charging profiles."""

    summary: dict[str, Any]
    plan: list[PlanRow]
    profiles: list[dict[str, Any]] | dict[str, Any] | None = None


def create_charging_blueprint() -> APIBlueprint:
    """Routes of the charging capability under ``/api/v1/charging``."""
    bp = APIBlueprint("charging", __name__, url_prefix="/api/v1/charging", abp_tags=[charging_tag])

    @bp.post("/plan", responses={200: PlanResponse})
    def plan_route(body: PlanRequest) -> Response:
        """Plan charging offline: as much energy as the limits allow, then the objective."""
        from charging.csvio import plan_rows
        from charging.model import LimitWindow, Session, SiteEvse, StepSeries
        from charging.ocpp import profiles_for
        from charging.plan import plan

        def series(items: list[Any], attr: str) -> StepSeries:
            starts: tuple[datetime, ...] = tuple(x.slot_start for x in items)
            return StepSeries(starts, tuple(float(getattr(x, attr)) for x in items))

        try:
            sessions = [
                Session(s.session_id, s.evse_id, s.arrival, s.departure, s.energy_kwh, s.max_kw)
                for s in body.sessions
            ]
            result = plan(
                sessions,
                body.site_limit_kw,
                body.slot_minutes,
                body.objective,
                prices=series(body.prices, "price_eur_per_kwh") if body.prices else None,
                pv_kw=series(body.pv, "pv_kw") if body.pv else None,
                limit_windows=[LimitWindow(w.start, w.end, w.limit_kw) for w in body.limit_windows],
                evses=[SiteEvse(e.evse_id, e.max_kw, e.min_kw, e.phases) for e in body.evses],
            )
            profiles: Any = None
            if body.profiles is not None:
                profiles = profiles_for(
                    body.profiles,
                    result.schedule,
                    result.grid,
                    result.session_ids,
                    result.evse_ids,
                    unit=body.rate_unit,
                )
        except ChargingError as exc:
            raise ApiProblem(400, "Invalid charging request", str(exc)) from exc
        rows = [
            {"session_id": sid, "slot_start": start, "power_kw": power}
            for sid, start, power in plan_rows(result.schedule, result.grid, result.session_ids)
        ]
        return jsonify({"summary": result.summary(), "plan": rows, "profiles": profiles})

    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach the charging routes to ``app`` and announce the capability."""
    del settings  # the charging routes need no settings yet
    app.register_api(create_charging_blueprint())
    app.config["KNOTEN_CAPABILITIES"].append("charging")
