"""``POST /api/v1/charging/plan``: the offline charging plan of ``knoten charging plan`` over JSON."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Literal

from flask import Response, jsonify
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from api.bounds import json_value
from api.errors import ApiProblem
from api.limits import Limits
from api.settings import Settings
from charging.errors import BudgetExceededError, ChargingError, LimitExceededError

charging_tag = Tag(name="charging", description="Smart charging: optimal plans and charging profiles")


def plan_request_model(limits: Limits) -> type[BaseModel]:
    """The request model of ``POST /api/v1/charging/plan`` with ``limits`` as its constraints.

    Built per app so that the configured limits are what the OpenAPI document publishes and what
    the validation enforces (422 problem+json naming the field, the value and the limit).
    """
    max_id = limits.max_id_length
    point_kw = limits.charging_point_max_kw
    site_kw = limits.charging_site_max_kw
    price = limits.charging_price_max_abs_eur_per_kwh

    class SessionIn(BaseModel):
        """A charging session (as a row of the sessions CSV); departure after arrival."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        session_id: str = Field(min_length=1, max_length=max_id)
        evse_id: str = Field(min_length=1, max_length=max_id)
        arrival: AwareDatetime
        departure: AwareDatetime
        energy_kwh: float = Field(
            ge=0, le=limits.charging_session_max_kwh, description="Requested energy (kWh)"
        )
        max_kw: float = Field(gt=0, le=point_kw, description="Highest charging power of the car (kW)")

    class PriceIn(BaseModel):
        """Price from ``slot_start`` until the next entry."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        slot_start: AwareDatetime
        price_eur_per_kwh: float = Field(ge=-price, le=price)

    class PvIn(BaseModel):
        """PV forecast from ``slot_start`` until the next entry."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        slot_start: AwareDatetime
        pv_kw: float = Field(ge=0, le=site_kw)

    class LimitWindowIn(BaseModel):
        """A time-varying grid limit, e.g. a §14a EnWG reduction."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        start: AwareDatetime
        end: AwareDatetime
        limit_kw: float = Field(ge=0, le=site_kw)

    class EvseIn(BaseModel):
        """A known EVSE; sessions naming another EVSE are rejected when this list is given."""

        model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
        evse_id: str = Field(min_length=1, max_length=max_id)
        max_kw: float = Field(gt=0, le=point_kw)
        min_kw: float = Field(default=0.0, ge=0, le=point_kw)
        phases: Literal["L1L2L3", "L1", "L2", "L3"] = "L1L2L3"

    class PlanRequest(BaseModel):
        """Inputs of a charging plan (the same as ``knoten charging plan``).

        ``min-cost`` needs ``prices``. Rules the schema cannot express are answered 422: departure
        after arrival, one session at a time per EVSE, prices and PV covering every slot, and the
        size of the problem (slots, session-slots, horizon; see ``x-knoten-limits``).
        """

        model_config = ConfigDict(
            extra="forbid",
            allow_inf_nan=False,
            json_schema_extra={
                "example": {
                    "sessions": [
                        {
                            "session_id": "a",
                            "evse_id": "E1",
                            "arrival": "2026-11-27T08:00:00+01:00",
                            "departure": "2026-11-27T10:00:00+01:00",
                            "energy_kwh": 10,
                            "max_kw": 11,
                        },
                        {
                            "session_id": "b",
                            "evse_id": "E2",
                            "arrival": "2026-11-27T08:10:00+01:00",
                            "departure": "2026-11-27T09:00:00+01:00",
                            "energy_kwh": 10,
                            "max_kw": 11,
                        },
                    ],
                    "site_limit_kw": 12,
                    "slot_minutes": 15,
                    "objective": "min-cost",
                    "prices": [{"slot_start": "2026-11-27T00:00:00+01:00", "price_eur_per_kwh": 0.3}],
                    "profiles": "ocpp201",
                },
                "anyOf": [
                    {"properties": {"objective": {"enum": ["max-energy", "min-peak"]}}},
                    {
                        "required": ["prices"],
                        "properties": {"prices": {"type": "array", "minItems": 1}},
                    },
                ],
            },
        )
        sessions: list[SessionIn] = Field(min_length=1, max_length=limits.charging_max_sessions)
        site_limit_kw: float = Field(gt=0, le=site_kw)
        slot_minutes: int = Field(ge=limits.charging_min_slot_minutes, le=limits.charging_max_slot_minutes)
        objective: Literal["max-energy", "min-peak", "min-cost"]
        prices: list[PriceIn] | None = Field(default=None, max_length=limits.charging_max_series_points)
        pv: list[PvIn] | None = Field(default=None, max_length=limits.charging_max_series_points)
        limit_windows: list[LimitWindowIn] = Field(
            default_factory=list, max_length=limits.charging_max_limit_windows
        )
        evses: list[EvseIn] = Field(default_factory=list, max_length=limits.charging_max_evses)
        profiles: Literal["ocpp201", "ocpp16", "ocpi"] | None = Field(
            default=None, description="Also return charging profiles in this format"
        )
        rate_unit: Literal["W", "A"] = "W"

        @model_validator(mode="after")
        def _min_cost_needs_prices(self) -> PlanRequest:
            if self.objective == "min-cost" and not self.prices:
                raise PydanticCustomError(
                    "cross_field", "objective min-cost needs prices (a non-empty list)", {"field": "prices"}
                )
            return self

    return PlanRequest


class ChargingPlanRow(BaseModel):
    """Constant power of a session during one slot."""

    session_id: str
    slot_start: str
    power_kw: float


class ChargingPlanResponse(BaseModel):
    """The plan, its headline figures and (when asked) the charging profiles."""

    summary: dict[str, Any]
    plan: list[ChargingPlanRow]
    profiles: list[dict[str, Any]] | dict[str, Any] | None = None


def create_charging_blueprint(limits: Limits | None = None) -> APIBlueprint:
    """Routes of the charging capability under ``/api/v1/charging``, bounded by ``limits``."""
    limits = limits or Limits()
    plan_request = plan_request_model(limits)
    solving = threading.BoundedSemaphore(limits.charging_max_concurrent_solves)
    bp = APIBlueprint("charging", __name__, url_prefix="/api/v1/charging", abp_tags=[charging_tag])

    def plan_route(body: BaseModel) -> Response:
        """Plan charging offline: as much energy as the limits allow, then the objective.

        422 when the request breaks a limit or a rule (the problem names field, value and limit);
        503 when the solve exceeds its time budget or the worker is busy with other plans.
        """
        from charging.limits import check_size, problem_size
        from charging.model import LimitWindow, Session, SiteEvse, StepSeries

        req: Any = body

        def series(items: list[Any], attr: str) -> StepSeries:
            starts: tuple[datetime, ...] = tuple(x.slot_start for x in items)
            return StepSeries(starts, tuple(float(getattr(x, attr)) for x in items))

        try:
            sessions = [
                Session(s.session_id, s.evse_id, s.arrival, s.departure, s.energy_kwh, s.max_kw)
                for s in req.sessions
            ]
            check_size(problem_size(sessions, req.slot_minutes), limits.charging_bounds())
            if not solving.acquire(timeout=limits.charging_time_budget_s):
                raise ApiProblem(
                    503,
                    "Busy",
                    f"{limits.charging_max_concurrent_solves} charging plans are being solved; try again",
                    limit=limits.charging_max_concurrent_solves,
                    field="limits.charging_max_concurrent_solves",
                )
            try:
                return _solve(
                    req,
                    sessions,
                    prices=series(req.prices, "price_eur_per_kwh") if req.prices else None,
                    pv_kw=series(req.pv, "pv_kw") if req.pv else None,
                    limit_windows=[LimitWindow(w.start, w.end, w.limit_kw) for w in req.limit_windows],
                    evses=[SiteEvse(e.evse_id, e.max_kw, e.min_kw, e.phases) for e in req.evses],
                    limits=limits,
                )
            finally:
                solving.release()
        except LimitExceededError as exc:
            raise ApiProblem(
                422,
                "Limit exceeded",
                str(exc),
                field=exc.field,
                value=json_value(exc.value),
                limit=json_value(exc.limit),
                constraint=exc.constraint,
            ) from exc
        except BudgetExceededError as exc:
            raise ApiProblem(
                503,
                "Time budget exceeded",
                f"the plan took longer than {limits.charging_time_budget_s:g} s; "
                "send fewer sessions, a shorter horizon or longer slots",
                field="limits.charging_time_budget_s",
                limit=limits.charging_time_budget_s,
            ) from exc
        except ChargingError as exc:
            raise ApiProblem(422, "Invalid charging request", str(exc)) from exc

    plan_route.__annotations__ = {"body": plan_request, "return": Response}
    bp.post("/plan", responses={200: ChargingPlanResponse})(plan_route)
    return bp


def _solve(req: Any, sessions: list[Any], *, limits: Limits, **inputs: Any) -> Response:
    """Plan, write rows and (when asked) profiles."""
    from charging.csvio import plan_rows
    from charging.ocpp import profiles_for
    from charging.plan import plan

    result = plan(
        sessions,
        req.site_limit_kw,
        req.slot_minutes,
        req.objective,
        ranges=limits.physical_ranges(),
        time_limit_s=limits.charging_time_budget_s,
        **inputs,
    )
    profiles: Any = None
    if req.profiles is not None:
        profiles = profiles_for(
            req.profiles,
            result.schedule,
            result.grid,
            result.session_ids,
            result.evse_ids,
            unit=req.rate_unit,
        )
    rows = [
        {"session_id": sid, "slot_start": start, "power_kw": power}
        for sid, start, power in plan_rows(result.schedule, result.grid, result.session_ids)
    ]
    return jsonify({"summary": result.summary(), "plan": rows, "profiles": profiles})


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach the charging routes to ``app`` and announce the capability."""
    app.register_api(create_charging_blueprint(settings.limits))
    app.config["KNOTEN_CAPABILITIES"].append("charging")
