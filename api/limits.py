"""Every bound of the HTTP API in one place: :class:`Limits`, ``Settings.limits``.

Configured in ``knoten.toml`` under ``[limits]`` (or ``KNOTEN_LIMITS_<FIELD>`` variables); the
defaults are safe for a public server. The routes build their request models from these values, so
the OpenAPI document publishes them (``maxItems``, ``maximum``, ``exclusiveMinimum``, ...) and a
request beyond one is answered 413 (body) or 422 problem+json naming the field, the value and the
limit. The whole set is also published as ``x-knoten-limits`` in the OpenAPI document.

Sizing (measured on the charging plan, see ``benchmarks/fuzz.py``): a plan of 100,000
session-slots takes about 1 s and 150 MB; with ``charging_max_concurrent_solves`` of 2 a worker
stays well below 1 GiB whatever it is sent.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from charging import limits as charging_limits


class Limits(BaseModel):
    """Bounds on requests: body size, problem sizes, physical ranges and time budgets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- every request ------------------------------------------------------------------
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest request body (bytes); beyond it 413"
    )
    max_id_length: int = Field(
        default=128, ge=1, description="Longest identifier (session, EVSE, stop, hub ids)"
    )

    # -- charging plan: problem size ------------------------------------------------------
    charging_max_sessions: int = Field(default=2000, ge=1, description="Sessions per charging plan")
    charging_max_evses: int = Field(default=2000, ge=1, description="EVSEs listed in a charging plan")
    charging_max_horizon_s: int = Field(
        default=31 * 86_400, ge=3600, description="From the first slot to the last departure (s)"
    )
    charging_min_slot_minutes: int = Field(default=1, ge=1, le=1440, description="Shortest slot (min)")
    charging_max_slot_minutes: int = Field(default=1440, ge=1, le=1440, description="Longest slot (min)")
    charging_max_slots: int = Field(default=9000, ge=1, description="Slots of the plan's horizon")
    charging_max_session_slots: int = Field(
        default=100_000,
        ge=1,
        description="Slots x sessions: the sum over sessions of the slots each may charge in "
        "(the number of decision variables)",
    )
    charging_max_series_points: int = Field(
        default=10_000, ge=1, description="Entries of the price list and of the PV forecast"
    )
    charging_max_limit_windows: int = Field(default=1000, ge=0, description="Time-varying grid limits")

    # -- charging plan: physical ranges (also checked by the command line) -------------------
    charging_point_max_kw: float = Field(
        default=charging_limits.POINT_MAX_KW,
        gt=0,
        description="Largest power of a car or charging point (kW)",
    )
    charging_site_max_kw: float = Field(
        default=charging_limits.SITE_MAX_KW,
        gt=0,
        description="Largest grid connection, time-varying limit and PV forecast of a site (kW)",
    )
    charging_session_max_kwh: float = Field(
        default=charging_limits.SESSION_MAX_KWH, gt=0, description="Largest energy request of a session (kWh)"
    )
    charging_price_max_abs_eur_per_kwh: float = Field(
        default=charging_limits.PRICE_MAX_ABS_EUR_PER_KWH, gt=0, description="Largest |price| (EUR/kWh)"
    )

    # -- charging plan: budgets -------------------------------------------------------------
    charging_time_budget_s: float = Field(
        default=10.0, gt=0, description="Wall time of one plan; beyond it the solve stops and answers 503"
    )
    charging_max_concurrent_solves: int = Field(
        default=2,
        ge=1,
        description="Plans solved at once per worker; more wait up to the time budget, then 503",
    )

    # -- intermodal planner (/plan) -----------------------------------------------------------
    plan_max_search_window_s: int = Field(
        default=4 * 3600, ge=60, description="Longest departure (or arrival) window searched (s)"
    )
    plan_max_itineraries: int = Field(
        default=20, ge=1, description="Most itineraries one request may ask for"
    )
    plan_max_walk_m: float = Field(default=5000.0, gt=0, description="Longest walk a request may allow (m)")
    plan_max_transfers: int = Field(default=8, ge=0, description="Most transfers a request may allow")
    plan_time_budget_s: float = Field(
        default=5.0, gt=0, description="Wall time of one journey search; beyond it 503"
    )

    # -- departures, hubs and offers around a point ----------------------------------------------
    departures_max_limit: int = Field(
        default=100, ge=1, description="Most departures one request may ask for"
    )
    departures_max_window_s: int = Field(
        default=24 * 3600, ge=60, description="Longest window of departures one request may ask for (s)"
    )
    nearby_max_radius_m: float = Field(
        default=5000.0, gt=0, description="Largest radius of a search around a point (m)"
    )

    def physical_ranges(self) -> charging_limits.PhysicalRanges:
        """The charging package's ranges with these values."""
        return charging_limits.PhysicalRanges(
            point_max_kw=self.charging_point_max_kw,
            site_max_kw=self.charging_site_max_kw,
            session_max_kwh=self.charging_session_max_kwh,
            price_max_abs_eur_per_kwh=self.charging_price_max_abs_eur_per_kwh,
        )

    def charging_bounds(self) -> charging_limits.ProblemBounds:
        """The charging package's problem bounds with these values."""
        return charging_limits.ProblemBounds(
            max_sessions=self.charging_max_sessions,
            max_horizon_s=self.charging_max_horizon_s,
            max_slots=self.charging_max_slots,
            max_session_slots=self.charging_max_session_slots,
            min_slot_minutes=self.charging_min_slot_minutes,
            max_slot_minutes=self.charging_max_slot_minutes,
        )
