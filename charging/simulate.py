"""Replay sessions slot by slot under an online policy and report what happened.

The simulator reveals a session only from its arrival slot on (with its declared departure) and
keeps track of the energy still wanted; the policy's powers are clipped to each session's rate
and remaining energy. Limits are not enforced by the simulator: a policy that exceeds them is
counted in ``limit_violations``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from charging.policies import Mpc, NetworkHeadroom, OnlineView, Policy, make_policy
from charging.problem import FloatArray, IntArray, Problem, Schedule, variable_layout


@dataclass(frozen=True)
class Metrics:
    """Outcome of a replay."""

    policy: str
    n_sessions: int
    energy_requested_kwh: float
    energy_delivered_kwh: float
    energy_delivered_pct: float
    demands_met_pct: float
    peak_kw: float
    energy_cost_eur: float
    demand_charge_eur: float
    limit_violations: int
    n_solves: int
    solve_time_p50_s: float
    solve_time_p95_s: float

    def to_dict(self) -> dict[str, float | int | str]:
        """Plain JSON-ready dictionary."""
        return asdict(self)


def simulate(
    problem: Problem,
    policy: str | Policy,
    *,
    declared_departure: IntArray | None = None,
    demand_charge_eur_per_kw: float = 0.0,
    demand_met_threshold_kwh: float = 0.1,
    progress: Callable[[int, int], None] | None = None,
    **policy_options: object,
) -> tuple[Schedule, Metrics]:
    """Replay ``problem`` under ``policy``; returns the realised schedule and its metrics.

    A session counts as met when it received all but ``demand_met_threshold_kwh`` of its request.
    """
    name = policy if isinstance(policy, str) else getattr(policy, "__name__", type(policy).__name__)
    pol = make_policy(policy, **policy_options) if isinstance(policy, str) else policy
    n = problem.n_sessions
    departure = problem.last.copy() if declared_departure is None else np.asarray(declared_departure)
    remaining = problem.energy_kwh.astype(float).copy()
    offset, _sess, _slot = variable_layout(problem)
    power = np.zeros(_sess.shape[0])
    headroom = NetworkHeadroom(problem)
    order = np.argsort(problem.first, kind="stable")
    violations = 0
    peak = 0.0
    ptr = 0
    active: list[int] = []
    t_end = int(problem.last.max(initial=0))
    t = int(problem.first.min(initial=0))
    while t < t_end:
        while ptr < n and problem.first[order[ptr]] <= t:
            active.append(int(order[ptr]))
            ptr += 1
        active = [i for i in active if problem.last[i] > t and remaining[i] > 1e-9]
        if not active:
            if ptr >= n:
                break
            t = int(problem.first[order[ptr]])
            continue
        idx = np.array(active, dtype=np.int64)
        view = OnlineView(problem, t, idx, remaining, departure, peak)
        rates = np.asarray(pol(view), dtype=float)
        rates = np.clip(rates, 0.0, np.minimum(problem.max_kw[idx], remaining[idx] / problem.slot_h))
        evse_power = np.zeros(problem.network.n_evse)
        np.add.at(evse_power, problem.evse[idx], rates)
        violations += headroom.violations(t, evse_power)
        power[offset[idx] + t - problem.first[idx]] = rates
        remaining[idx] -= rates * problem.slot_h
        peak = max(peak, float(rates.sum() - problem.pv_kw[t]))
        if progress is not None:
            progress(t, t_end)
        t += 1
    sched = Schedule(problem, power, offset)
    delivered = sched.delivered_kwh()
    requested = float(problem.energy_kwh.sum())
    times = pol.solve_times_s if isinstance(pol, Mpc) else []
    metrics = Metrics(
        policy=name,
        n_sessions=n,
        energy_requested_kwh=requested,
        energy_delivered_kwh=float(delivered.sum()),
        energy_delivered_pct=100.0 * float(delivered.sum()) / requested if requested > 0 else 100.0,
        demands_met_pct=100.0 * float((problem.energy_kwh - delivered < demand_met_threshold_kwh).mean())
        if n
        else 100.0,
        peak_kw=sched.peak_kw(),
        energy_cost_eur=sched.energy_cost_eur(),
        demand_charge_eur=sched.peak_kw() * demand_charge_eur_per_kw,
        limit_violations=violations,
        n_solves=len(times),
        solve_time_p50_s=float(np.percentile(times, 50)) if times else math.nan,
        solve_time_p95_s=float(np.percentile(times, 95)) if times else math.nan,
    )
    return sched, metrics


def percent_of(value: float, reference: float) -> float:
    """``value`` as a percentage of ``reference`` (100 when the reference is 0)."""
    return 100.0 * value / reference if reference > 0 else 100.0


def schedule_energy(schedule: Schedule) -> FloatArray:
    """Delivered energy per session (kWh)."""
    return schedule.delivered_kwh()
