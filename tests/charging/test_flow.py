"""The network-flow path of the optimiser against an independent lexicographic LP (scipy/HiGHS).

Random small problems with time-varying site limits, time-of-use prices, PV and trees of
sub-circuits; the flow path must reach the same stage values as the LP: energy, fairness share,
peak and cost, and a feasible schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.optimize import linprog

from charging.flow import circuit_tree, flow_applicable
from charging.optimize import optimize
from charging.problem import LinearLimit, Network, Problem, check_schedule


def _problem(
    seed: int, *, prices: bool, pv: bool, circuits: bool, tight: bool, price_shift: float = 0.0
) -> Problem:
    rng = np.random.default_rng(seed)
    n, t_count = int(rng.integers(8, 14)), int(rng.integers(14, 22))
    first = rng.integers(0, t_count - 3, n)
    last = np.minimum(first + rng.integers(2, 12, n), t_count)
    max_kw = rng.choice([3.7, 7.4, 11.0, 22.0], n)
    energy = np.round(rng.uniform(1, 30, n), 3)
    base = (25.0 if tight else 150.0) * rng.uniform(0.6, 1.0)
    limit = np.full(t_count, base)
    limit[rng.integers(0, t_count, 3)] *= 0.5  # a time-varying cap (e.g. §14a) in a few slots
    n_evse = n
    linear: tuple[LinearLimit, ...] = ()
    if circuits:  # a tree: A = {0..5} > B = {0..2}, and C = {6, 7} beside A
        linear = (
            LinearLimit("circuit A", np.arange(6), np.ones(6), float(rng.uniform(12, 25))),
            LinearLimit("circuit B", np.arange(3), np.ones(3), float(rng.uniform(5, 12))),
            LinearLimit("circuit C", np.array([6, 7]), np.ones(2), float(rng.uniform(4, 15))),
        )
    network = Network(np.full(n_evse, 22.0), np.zeros(n_evse), linear)
    price = np.round(rng.uniform(0.1, 0.5, t_count) + price_shift, 4) if prices else np.zeros(0)
    pv_kw = np.round(np.maximum(rng.normal(4, 6, t_count), 0.0), 3) if pv else np.zeros(0)
    return Problem(network, 0.25, limit, np.arange(n), first, last, energy, max_kw, np.zeros(n), price, pv_kw)


@dataclass
class _Ref:
    energy: float
    phi: float | None
    peak: float | None
    cost: float | None


def _reference(p: Problem, objective: str) -> _Ref:
    """Lexicographic LP with dense matrices: energy, fairness, then peak/cost in the objective's order."""
    n, t_count, dt = p.n_sessions, p.n_slots, p.slot_h
    nx = n * t_count
    # variables: x (n x T), peak, phi, grid (T)
    i_peak, i_phi, i_grid = nx, nx + 1, nx + 2
    nv = nx + 2 + t_count
    ub = np.zeros(nv)
    for i in range(n):
        ub[i * t_count + p.first[i] : i * t_count + p.last[i]] = p.max_kw[i]
    ub[i_peak] = np.inf
    ub[i_phi] = 1.0
    ub[i_grid:] = np.inf
    rows: list[np.ndarray] = []
    rhs: list[float] = []

    def add(row: np.ndarray, b: float) -> None:
        rows.append(row)
        rhs.append(b)

    for i in range(n):  # energy <= request
        r = np.zeros(nv)
        r[i * t_count : (i + 1) * t_count] = dt
        add(r, float(p.energy_kwh[i]))
    for t in range(t_count):
        load = np.zeros(nv)
        load[t:nx:t_count] = 1.0
        add(load, float(p.site_limit_kw[t] + p.pv_kw[t]))  # site limit on grid import
        r = load.copy()
        r[i_peak] = -1.0
        add(r, float(p.pv_kw[t]))  # load - pv <= peak
        r = load.copy()
        r[i_grid + t] = -1.0
        add(r, float(p.pv_kw[t]))  # load - pv <= grid
        for lim in p.network.linear:
            r = np.zeros(nv)
            for e, c in zip(lim.evse_index, lim.coeff, strict=True):
                for i in np.nonzero(p.evse == e)[0]:
                    r[i * t_count + t] += c
            add(r, float(lim.limit))
    deliverable = p.deliverable_kwh()
    for i in range(n):  # phi * deliverable - delivered <= 0
        r = np.zeros(nv)
        r[i * t_count : (i + 1) * t_count] = -dt
        r[i_phi] = deliverable[i]
        add(r, 0.0)
    energy_c = np.zeros(nv)
    energy_c[:nx] = dt
    phi_c = np.zeros(nv)
    phi_c[i_phi] = 1.0
    peak_c = np.zeros(nv)
    peak_c[i_peak] = 1.0
    cost_c = np.zeros(nv)
    if (p.pv_kw > 0).any():  # cost of the grid import (prices are >= 0 with PV)
        cost_c[i_grid:] = p.price_eur_per_kwh * dt
    else:  # cost of the load (prices may be negative)
        cost_c[:nx] = np.tile(p.price_eur_per_kwh * dt, n)

    def solve(c: np.ndarray, sign: float) -> float:
        res = linprog(
            sign * c,
            A_ub=np.array(rows),
            b_ub=np.array(rhs),
            bounds=list(zip(np.zeros(nv), ub, strict=True)),
            method="highs",
        )
        assert res.status == 0, res.message
        value = float(c @ res.x)
        tol = 1e-9 * abs(value) + 1e-9
        add(sign * c, sign * value + tol)  # freeze the stage
        return value

    energy = solve(energy_c, -1.0)
    phi = None
    if energy < float(np.minimum(p.energy_kwh, deliverable).sum()) * (1 - 1e-6) - 1e-6:
        phi = solve(phi_c, -1.0)
    peak = cost = None
    has_prices = bool(np.ptp(p.price_eur_per_kwh) > 0) or bool((p.pv_kw > 0).any())
    if objective == "min-peak":
        peak = solve(peak_c, 1.0)
        if has_prices:
            cost = solve(cost_c, 1.0)
    elif objective == "min-cost":
        cost = solve(cost_c, 1.0)
        peak = solve(peak_c, 1.0)
    return _Ref(energy, phi, peak, cost)


CASES = [
    # seed, objective, prices, pv, circuits, tight
    (1, "max-energy", False, False, False, True),
    (2, "min-peak", False, False, False, False),
    (3, "min-peak", True, False, False, False),
    (4, "min-peak", True, False, False, True),
    (5, "min-cost", True, False, False, False),
    (6, "min-cost", True, False, False, True),
    (7, "min-peak", False, False, True, False),
    (8, "min-cost", True, False, True, True),
    (9, "min-peak", True, True, False, False),
    (10, "min-cost", True, True, True, False),
    (11, "max-energy", True, True, True, True),
    (12, "min-cost", True, False, True, False),
]
NEGATIVE_PRICES = [(13, "min-cost", True, False, False, True), (14, "min-peak", True, False, True, False)]


@pytest.mark.parametrize(
    ("seed", "objective", "prices", "pv", "circuits", "tight"),
    CASES + [pytest.param(*case, id=f"negative-prices-{case[0]}") for case in NEGATIVE_PRICES],
)
def test_flow_matches_the_lexicographic_lp(
    seed: int, objective: str, prices: bool, pv: bool, circuits: bool, tight: bool
) -> None:
    shift = -0.3 if (seed, objective, prices, pv, circuits, tight) in NEGATIVE_PRICES else 0.0
    p = _problem(seed, prices=prices, pv=pv, circuits=circuits, tight=tight, price_shift=shift)
    assert flow_applicable(p) is not None
    sched = optimize(p, objective, tie_break_early=False)  # the flow path
    assert check_schedule(sched) == []
    ref = _reference(p, objective)
    delivered = float(sched.delivered_kwh().sum())
    assert delivered == pytest.approx(ref.energy, rel=1e-6, abs=1e-6)
    if ref.phi is not None:
        assert sched.objective_values["fairness"] == pytest.approx(ref.phi, abs=1e-6)
        share = sched.delivered_kwh() / np.maximum(p.deliverable_kwh(), 1e-12)
        assert share[p.deliverable_kwh() > 0].min() >= ref.phi - 1e-5
    if ref.peak is not None:
        assert sched.peak_kw() == pytest.approx(ref.peak, rel=1e-4, abs=1e-6)
    if ref.cost is not None:
        assert sched.energy_cost_eur() == pytest.approx(ref.cost, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize(("seed", "objective"), [(21, "min-peak"), (22, "min-cost")])
def test_flow_matches_the_glop_stages(seed: int, objective: str) -> None:
    """The same stage values as the optimiser's own LP path (GLOP), here with the early tie-break."""
    p = _problem(seed, prices=True, pv=False, circuits=True, tight=True)
    flow = optimize(p, objective, tie_break_early=False)
    lp = optimize(p, objective, tie_break_early=True)  # fairness on: the LP stages
    for key in ("energy", "fairness", "peak", "cost"):
        if key in lp.objective_values:
            assert flow.objective_values[key] == pytest.approx(
                lp.objective_values[key], rel=1e-4, abs=1e-5
            ), key
    assert float(flow.delivered_kwh().sum()) == pytest.approx(lp.objective_values["energy"], rel=1e-6)


def test_circuit_tree_detection() -> None:
    ones = np.ones
    nested = Network(
        np.full(4, 11.0),
        np.zeros(4),
        (
            LinearLimit("a", np.arange(4), ones(4), 30.0),
            LinearLimit("b", np.array([1, 2]), ones(2), 12.0),
            LinearLimit("c", np.array([2]), ones(1), 5.0),
        ),
    )
    p = Problem(
        nested, 0.25, np.full(4, 50.0), np.arange(4), np.zeros(4, dtype=np.int64), np.full(4, 4),
        np.full(4, 10.0), np.full(4, 11.0), np.zeros(4),
    )  # fmt: skip
    tree = circuit_tree(p)
    assert tree is not None
    assert list(tree.parent) == [-1, 0, 1]
    assert list(tree.leaf_of_evse) == [0, 1, 2, 0]
    crossing = Network(
        np.full(4, 11.0),
        np.zeros(4),
        (
            LinearLimit("a", np.array([0, 1]), ones(2), 10.0),
            LinearLimit("b", np.array([1, 2]), ones(2), 10.0),
        ),
    )
    p2 = Problem(
        crossing, p.slot_h, p.site_limit_kw, p.evse, p.first, p.last, p.energy_kwh, p.max_kw, p.min_kw
    )
    assert circuit_tree(p2) is None  # falls back to the LP
    weighted = Network(
        np.full(4, 11.0), np.zeros(4), (LinearLimit("phase", np.array([0, 1]), np.array([1.0, 2.0]), 10.0),)
    )
    p3 = Problem(
        weighted, p.slot_h, p.site_limit_kw, p.evse, p.first, p.last, p.energy_kwh, p.max_kw, p.min_kw
    )
    assert circuit_tree(p3) is None


def test_huge_limits_are_clipped_not_overflowed() -> None:
    p = _problem(31, prices=True, pv=False, circuits=False, tight=False)
    huge = Problem(
        p.network, p.slot_h, np.full(p.n_slots, 1e15), p.evse, p.first, p.last, p.energy_kwh,
        p.max_kw, p.min_kw, p.price_eur_per_kwh,
    )  # fmt: skip
    sched = optimize(huge, "min-cost", tie_break_early=False)
    assert check_schedule(sched) == []
    ref = _reference(huge, "min-cost")
    assert float(sched.delivered_kwh().sum()) == pytest.approx(ref.energy, rel=1e-6)
    assert sched.energy_cost_eur() == pytest.approx(ref.cost, rel=1e-4)
    assert sched.peak_kw() == pytest.approx(ref.peak, rel=1e-4)
