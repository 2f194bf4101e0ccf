"""Fixed-time plans from measured flows: Webster cycle and splits (OR-Tools LP) and coordinated
offsets (OR-Tools CP-SAT). Pure functions over arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from signals.network import Intersection, transition_state

SATURATION_VEH_H_LANE = 1800.0


@dataclass(frozen=True)
class FixedPlan:
    """A fixed-time plan for one intersection (green phases in program order)."""

    tls_id: str
    cycle_s: int
    greens_s: list[int]
    offset_s: int = 0


def critical_ratios(inter: Intersection, lane_flow_veh_h: np.ndarray) -> np.ndarray:
    """Flow ratio y of each green phase: the largest flow/saturation of the lanes it mainly serves."""
    y = np.zeros(inter.n_phases)
    for lane in range(len(inter.in_lanes)):
        service = inter.served[:, lane]
        if service.max() <= 0:
            continue
        best = int(np.argmax(service))
        y[best] = max(y[best], lane_flow_veh_h[lane] / (SATURATION_VEH_H_LANE * service[best]))
    return y


def _webster_delay(y: np.ndarray, flows: np.ndarray, greens: np.ndarray, cycle_s: float) -> float:
    total = 0.0
    for yi, qi, gi in zip(y, flows, greens, strict=True):
        if qi <= 0:
            continue
        lam = gi / cycle_s
        x = min(0.98, yi * cycle_s / max(gi, 1e-6))
        q_s = qi / 3600.0
        total += qi * (cycle_s * (1 - lam) ** 2 / (2 * (1 - lam * x)) + x * x / (2 * q_s * (1 - x)))
    return total


def _split_lp(y: np.ndarray, cycle_s: int, lost_s: float, min_green_s: float) -> np.ndarray | None:
    """Greens for a given cycle maximising the smallest capacity margin g_p - y_p C (GLOP LP)."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:  # pragma: no cover - GLOP ships with ortools
        raise RuntimeError("OR-Tools GLOP solver unavailable")
    available = cycle_s - lost_s
    if available < min_green_s * len(y):
        return None
    g = [solver.NumVar(min_green_s, available, f"g{p}") for p in range(len(y))]
    mu = solver.NumVar(-available, available, "mu")
    solver.Add(sum(g) == available)
    for p, yp in enumerate(y):
        if yp > 0:
            solver.Add(g[p] - float(yp) * cycle_s >= mu * float(max(yp, 0.05)))
    solver.Maximize(mu)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    return np.array([v.solution_value() for v in g])


def webster_plan(
    inter: Intersection,
    lane_flow_veh_h: np.ndarray,
    min_green_s: float = 5.0,
    min_cycle_s: int = 30,
    max_cycle_s: int = 120,
    cycle_s: int | None = None,
) -> FixedPlan:
    """Cycle and splits minimising Webster's delay over the candidate cycles (splits by LP)."""
    y = critical_ratios(inter, lane_flow_veh_h)
    lost_s = inter.n_phases * (inter.yellow_s + inter.all_red_s)
    phase_flow = np.zeros(inter.n_phases)
    for lane in range(len(inter.in_lanes)):
        if inter.served[:, lane].max() > 0:
            phase_flow[int(np.argmax(inter.served[:, lane]))] += lane_flow_veh_h[lane]
    lo = max(min_cycle_s, math.ceil(lost_s + min_green_s * inter.n_phases))
    candidates = [cycle_s] if cycle_s is not None else list(range(lo, max(lo, max_cycle_s) + 1, 2))
    best: tuple[float, int, np.ndarray] | None = None
    for c in candidates:
        greens = _split_lp(y, int(c), lost_s, min_green_s)
        if greens is None:
            continue
        d = _webster_delay(y, phase_flow, greens, float(c))
        if best is None or d < best[0]:
            best = (d, int(c), greens)
    if best is None:
        raise ValueError(f"traffic light {inter.tls_id}: no feasible cycle up to {max_cycle_s} s")
    _, c, greens = best
    ints = np.floor(greens).astype(int)
    rest = round(c - lost_s) - int(ints.sum())
    for idx in np.argsort(-(greens - ints))[: max(0, rest)]:
        ints[idx] += 1
    return FixedPlan(inter.tls_id, round(ints.sum() + lost_s), [int(v) for v in ints])


def plan_phases(inter: Intersection, plan: FixedPlan) -> list[tuple[float, str, float, float]]:
    """SUMO phases (duration, state, minDur, maxDur) of a plan, transitions included."""
    phases: list[tuple[float, str, float, float]] = []
    n = inter.n_phases
    for p in range(n):
        a, b = inter.green_states[p], inter.green_states[(p + 1) % n]
        g = float(plan.greens_s[p])
        phases.append((g, a, g, g))
        phases.append((inter.yellow_s, transition_state(a, b, "y"), inter.yellow_s, inter.yellow_s))
        if inter.all_red_s > 0:
            phases.append((inter.all_red_s, transition_state(a, b, "r"), inter.all_red_s, inter.all_red_s))
    return phases


@dataclass(frozen=True)
class Link:
    """A coordination link: traffic leaving ``up`` in green phase ``up_phase`` reaches ``down``'s
    stop line after ``travel_s`` and is served there by ``down_phase``; weighted by flow."""

    up: int
    up_phase: int
    down: int
    down_phase: int
    travel_s: float
    weight: float


def green_start_s(plan: FixedPlan, inter: Intersection, phase: int) -> float:
    """Start of ``phase``'s green within the cycle (without offset)."""
    step = inter.yellow_s + inter.all_red_s
    return float(sum(plan.greens_s[:phase]) + phase * step)


def coordinate_offsets(
    plans: list[FixedPlan], inters: list[Intersection], links: list[Link], time_limit_s: float = 5.0
) -> list[FixedPlan]:
    """Offsets (CP-SAT) minimising the flow-weighted mismatch between upstream green start plus
    travel time and downstream green start, modulo the common cycle of the plans."""
    from ortools.sat.python import cp_model

    if not plans:
        return plans
    cycle = max(p.cycle_s for p in plans)
    model = cp_model.CpModel()
    offs = [model.new_int_var(0, cycle - 1, f"o{i}") for i in range(len(plans))]
    terms = []
    for e, link in enumerate(links):
        s_up = green_start_s(plans[link.up], inters[link.up], link.up_phase)
        s_down = green_start_s(plans[link.down], inters[link.down], link.down_phase)
        const = round(s_down - s_up - link.travel_s)
        k = model.new_int_var(-4, 4, f"k{e}")
        dev = model.new_int_var(-5 * cycle, 5 * cycle, f"d{e}")
        model.add(dev == offs[link.down] + const - offs[link.up] + k * cycle)
        absdev = model.new_int_var(0, 5 * cycle, f"a{e}")
        model.add_abs_equality(absdev, dev)
        terms.append(max(1, round(link.weight)) * absdev)
    if terms:
        model.minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    ok = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return [
        FixedPlan(p.tls_id, p.cycle_s, p.greens_s, int(solver.value(offs[i])) if ok else 0)
        for i, p in enumerate(plans)
    ]
