"""Planning and replay entry points over domain objects (used by the CLI and the HTTP API)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from charging.errors import InvalidInputError
from charging.limits import PhysicalRanges, check_ranges
from charging.model import LimitWindow, Session, Site, SiteEvse, SlotGrid, StepSeries, build_problem
from charging.optimize import OBJECTIVES, optimize_decomposed
from charging.problem import Schedule, check_schedule
from charging.simulate import Metrics, simulate


@dataclass(frozen=True)
class PlanResult:
    """A schedule with the grid and ids needed to write it out."""

    schedule: Schedule
    grid: SlotGrid
    session_ids: list[str]
    evse_ids: list[str]

    def summary(self) -> dict[str, Any]:
        """Headline figures of the plan."""
        s = self.schedule
        requested = float(s.problem.energy_kwh.sum())
        delivered = float(s.delivered_kwh().sum())
        return {
            "sessions": len(self.session_ids),
            "slots": self.grid.n_slots,
            "slot_minutes": self.grid.slot_minutes,
            "energy_requested_kwh": round(requested, 6),
            "energy_delivered_kwh": round(delivered, 6),
            "energy_delivered_pct": round(100.0 * delivered / requested, 4) if requested > 0 else 100.0,
            "peak_kw": round(s.peak_kw(), 6),
            "energy_cost_eur": round(s.energy_cost_eur(), 6),
            "solve_time_s": round(s.solve_time_s, 4),
        }


def _site(site_limit_kw: float, evses: Sequence[SiteEvse]) -> Site:
    if not site_limit_kw > 0:
        raise InvalidInputError(f"site limit must be > 0 kW, got {site_limit_kw:g}")
    return Site(float(site_limit_kw), tuple(evses))


def plan(  # noqa: PLR0913  the entry point of the CLI and the API: options keyword-only, as they are there
    sessions: Sequence[Session],
    site_limit_kw: float,
    slot_minutes: int,
    objective: str,
    *,
    prices: StepSeries | None = None,
    pv_kw: StepSeries | None = None,
    limit_windows: Sequence[LimitWindow] = (),
    evses: Sequence[SiteEvse] = (),
    site: Site | None = None,
    progress: Callable[[int, int], None] | None = None,
    ranges: PhysicalRanges | None = None,
    time_limit_s: float | None = None,
) -> PlanResult:
    """The optimal offline schedule of ``sessions`` (see :mod:`charging.optimize`).

    Every number must be finite and within ``ranges`` (default :class:`PhysicalRanges`);
    ``time_limit_s`` bounds the solve (:class:`~charging.errors.BudgetExceededError` beyond it).
    """
    if objective not in OBJECTIVES:
        raise InvalidInputError(f"unknown objective {objective!r} (expected one of {', '.join(OBJECTIVES)})")
    if objective == "min-cost" and prices is None:
        raise InvalidInputError("objective min-cost needs prices")
    deadline = None if time_limit_s is None else time.monotonic() + time_limit_s
    check_ranges(
        sessions,
        site.limit_kw if site is not None else site_limit_kw,
        prices=prices,
        pv_kw=pv_kw,
        limit_windows=limit_windows,
        evses=site.evses if site is not None else evses,
        ranges=ranges,
    )
    site = site or _site(site_limit_kw, evses)
    problem, grid, evse_ids = build_problem(
        site, sessions, slot_minutes, prices=prices, pv_kw=pv_kw, limit_windows=limit_windows
    )
    schedule = optimize_decomposed(
        problem, objective, progress=progress, tie_break_early=False, deadline=deadline
    )
    problems = check_schedule(schedule, tol_kw=1e-5)
    if problems:  # pragma: no cover - the repair step makes this unreachable
        raise InvalidInputError("internal: infeasible schedule: " + "; ".join(problems))
    return PlanResult(schedule, grid, [s.session_id for s in sessions], evse_ids)


def replay(  # noqa: PLR0913  the entry point of the CLI and the API: options keyword-only, as they are there
    sessions: Sequence[Session],
    site_limit_kw: float,
    policy: str,
    *,
    slot_minutes: int = 5,
    objective: str = "max-energy",
    prices: StepSeries | None = None,
    pv_kw: StepSeries | None = None,
    limit_windows: Sequence[LimitWindow] = (),
    evses: Sequence[SiteEvse] = (),
    demand_charge_eur_per_kw: float = 0.0,
    progress: Callable[[int, int], None] | None = None,
    ranges: PhysicalRanges | None = None,
) -> tuple[PlanResult, Metrics]:
    """Replay ``sessions`` under the online ``policy``; the realised schedule and its metrics.

    Every number must be finite and within ``ranges`` (default :class:`PhysicalRanges`).
    """
    check_ranges(
        sessions,
        site_limit_kw,
        prices=prices,
        pv_kw=pv_kw,
        limit_windows=limit_windows,
        evses=evses,
        ranges=ranges,
    )
    site = _site(site_limit_kw, evses)
    problem, grid, evse_ids = build_problem(
        site, sessions, slot_minutes, prices=prices, pv_kw=pv_kw, limit_windows=limit_windows
    )
    schedule, metrics = simulate(
        problem,
        policy,
        demand_charge_eur_per_kw=demand_charge_eur_per_kw,
        progress=progress,
        objective=objective,
    )
    return PlanResult(schedule, grid, [s.session_id for s in sessions], evse_ids), metrics
