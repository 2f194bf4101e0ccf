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


def _phase_delay(y: float, flow_veh_h: float, green_s: float, cycle_s: float) -> float:
    """Webster's delay (vehicle-seconds per second) of one phase; steep beyond capacity."""
    if flow_veh_h <= 0:
        return 0.0
    lam = green_s / cycle_s
    x = y * cycle_s / max(green_s, 1e-6)
    q_s = flow_veh_h / 3600.0
    x_c = min(x, 0.95)
    delay = cycle_s * (1 - lam) ** 2 / (2 * (1 - lam * x_c)) + x_c * x_c / (2 * q_s * (1 - x_c))
    return q_s * (delay + 2000.0 * max(0.0, x - x_c))


def _split_cp(
    y: np.ndarray, phase_flow: np.ndarray, cycle_s: int, lost_s: float, min_green_s: float
) -> tuple[float, np.ndarray] | None:
    """Integer greens for a given cycle minimising the summed Webster delay (CP-SAT: one green per
    phase, greens adding up to the cycle minus the lost time)."""
    from ortools.sat.python import cp_model

    available = round(cycle_s - lost_s)
    lo = math.ceil(min_green_s)
    n = len(y)
    if available < lo * n:
        return None
    model = cp_model.CpModel()
    options = range(lo, available - lo * (n - 1) + 1)
    choice = {}
    terms = []
    for p in range(n):
        for g in options:
            v = model.new_bool_var(f"g{p}_{g}")
            choice[p, g] = v
            terms.append(round(100.0 * _phase_delay(float(y[p]), float(phase_flow[p]), g, cycle_s)) * v)
        model.add_exactly_one(choice[p, g] for g in options)
    model.add(sum(g * choice[p, g] for p in range(n) for g in options) == available)
    model.minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 2.0
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    greens = np.array([next(g for g in options if solver.value(choice[p, g])) for p in range(n)], dtype=float)
    return solver.objective_value / 100.0, greens


def webster_plan(
    inter: Intersection,
    lane_flow_veh_h: np.ndarray,
    min_green_s: float = 7.0,
    min_cycle_s: int = 30,
    max_cycle_s: int = 120,
    cycle_s: int | None = None,
) -> FixedPlan:
    """Cycle and splits minimising Webster's delay over the candidate cycles (splits by CP-SAT)."""
    y = critical_ratios(inter, lane_flow_veh_h)
    lost_s = sum(sum(inter.clearance_s(p)) for p in range(inter.n_phases))
    phase_flow = np.zeros(inter.n_phases)
    for lane in range(len(inter.in_lanes)):
        if inter.served[:, lane].max() > 0:
            phase_flow[int(np.argmax(inter.served[:, lane]))] += lane_flow_veh_h[lane]
    lo = max(min_cycle_s, math.ceil(lost_s + min_green_s * inter.n_phases))
    candidates = [cycle_s] if cycle_s is not None else list(range(lo, max(lo, max_cycle_s) + 1, 5))
    best: tuple[float, int, np.ndarray] | None = None
    for c in candidates:
        found = _split_cp(y, phase_flow, int(c), lost_s, min_green_s)
        if found is not None and (best is None or found[0] < best[0]):
            best = (found[0], int(c), found[1])
    if best is None:
        raise ValueError(f"traffic light {inter.tls_id}: no feasible cycle up to {max_cycle_s} s")
    _, c, greens = best
    ints = greens.astype(int)
    return FixedPlan(inter.tls_id, round(ints.sum() + lost_s), [int(v) for v in ints])


def plan_phases(inter: Intersection, plan: FixedPlan) -> list[tuple[float, str, float, float]]:
    """SUMO phases (duration, state, minDur, maxDur) of a plan, transitions included."""
    phases: list[tuple[float, str, float, float]] = []
    n = inter.n_phases
    for p in range(n):
        a, b = inter.green_states[p], inter.green_states[(p + 1) % n]
        g = float(plan.greens_s[p])
        phases.append((g, a, g, g))
        yellow_s, all_red_s = inter.clearance_s(p)  # the program's own clearance after this green
        phases.append((yellow_s, transition_state(a, b, "y"), yellow_s, yellow_s))
        if all_red_s > 0:
            phases.append((all_red_s, transition_state(a, b, "r"), all_red_s, all_red_s))
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
    clear = sum(sum(inter.clearance_s(p)) for p in range(phase))
    return float(sum(plan.greens_s[:phase]) + clear)


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
