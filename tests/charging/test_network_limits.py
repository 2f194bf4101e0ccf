"""Sub-circuits, phase limits, three-phase phasor limits, minimum power, fairness, PV and §14a."""

from __future__ import annotations

import cmath
import math
from datetime import timedelta

import numpy as np
import pytest
from scipy.optimize import linprog

from charging.errors import InvalidInputError
from charging.model import (
    Circuit,
    LimitWindow,
    PhasorConstraint,
    Session,
    Site,
    SiteEvse,
    StepSeries,
    build_problem,
)
from charging.optimize import optimize
from charging.problem import check_schedule
from tests.charging.charging_helpers import CET, random_sessions


def _sessions_on(evses: list[str], energy: float = 30.0, hours: float = 4.0) -> list[Session]:
    from datetime import datetime

    t0 = datetime(2026, 11, 27, 8, 0, tzinfo=CET)
    return [Session(f"s{k}", e, t0, t0 + timedelta(hours=hours), energy, 11.0) for k, e in enumerate(evses)]


def test_circuit_tree_limits_each_branch() -> None:
    evses = tuple(SiteEvse(f"E{k}", 11.0) for k in range(4))
    site = Site(
        100.0,
        evses,
        circuits=(
            Circuit("main", 30.0, ("E0",)),
            Circuit("garage", 12.0, ("E1", "E2"), parent_id="main"),
        ),
    )
    problem, _grid, _ids = build_problem(site, _sessions_on(["E0", "E1", "E2", "E3"]), 15)
    sched = optimize(problem, "max-energy")
    assert check_schedule(sched) == []
    dense = sched.dense()
    assert (dense[1] + dense[2]).max() <= 12.0 + 1e-6
    assert (dense[0] + dense[1] + dense[2]).max() <= 30.0 + 1e-6
    # E3 is outside the tree: it gets its full 30 kWh
    assert sched.delivered_kwh()[3] == pytest.approx(30.0, abs=1e-6)
    # the tree carries at most 30 kW for 4 h = 120 kWh, and E1+E2 at most 48 kWh
    assert sched.delivered_kwh()[:3].sum() == pytest.approx(78.0, abs=1e-4)


def test_circuit_cycle_is_an_error() -> None:
    site = Site(
        50.0, (SiteEvse("E0", 11.0),), circuits=(Circuit("a", 10, ("E0",), "b"), Circuit("b", 10, (), "a"))
    )
    with pytest.raises(InvalidInputError, match="cycle"):
        build_problem(site, _sessions_on(["E0"]), 15)


def test_phase_limit_on_single_phase_chargers() -> None:
    evses = (
        SiteEvse("A", 7.4, phases="L1"),
        SiteEvse("B", 7.4, phases="L1"),
        SiteEvse("C", 11.0, phases="L1L2L3"),
    )
    site = Site(100.0, evses, phase_limits_a={"L1": 40.0})
    problem, _grid, _ids = build_problem(site, _sessions_on(["A", "B", "C"], energy=50), 15)
    sched = optimize(problem, "max-energy")
    d = sched.dense()
    l1 = (d[0] + d[1]) * 1000 / 230 + d[2] * 1000 / (3 * 230)
    assert l1.max() <= 40.0 + 1e-6
    assert l1.max() >= 40.0 - 1e-3  # the phase is the binding limit


def test_phasor_limits_of_a_line_to_line_network_hold_exactly() -> None:
    # three EVSEs on AB, BC, CA; line current A = I_AB - I_CA as in a delta connection
    evses = (
        SiteEvse("AB", 6.6, voltage_v=208, phase_angle_deg=30),
        SiteEvse("BC", 6.6, voltage_v=208, phase_angle_deg=-90),
        SiteEvse("CA", 6.6, voltage_v=208, phase_angle_deg=150),
    )
    lines = (
        PhasorConstraint("A", {"AB": 1, "CA": -1}, 40.0),
        PhasorConstraint("B", {"BC": 1, "AB": -1}, 40.0),
        PhasorConstraint("C", {"CA": 1, "BC": -1}, 40.0),
    )
    site = Site(100.0, evses, phasor_constraints=lines)
    problem, _grid, _ids = build_problem(site, _sessions_on(["AB", "BC", "CA", "AB"][:3], energy=40), 15)
    sched = optimize(problem, "max-energy")
    d = sched.dense() * 1000 / 208
    ang = {e: cmath.exp(1j * math.radians(a)) for e, a in (("AB", 30), ("BC", -90), ("CA", 150))}
    line_a = np.abs(d[0] * ang["AB"] - d[2] * ang["CA"])
    assert line_a.max() <= 40.0 * (1 + 1e-7) + 1e-5
    # balanced load: |I_A| = sqrt(3) * I, so each EVSE can draw 40 / sqrt(3) A
    expected_kwh = min(40.0, 40 / math.sqrt(3) * 208 / 1000 * 4)
    assert sched.delivered_kwh() == pytest.approx([expected_kwh] * 3, rel=2e-3)


def test_minimum_power_makes_a_milp_and_is_respected() -> None:
    evses = (
        SiteEvse("E0", 11.0, min_kw=4.2),
        SiteEvse("E1", 11.0, min_kw=4.2),
        SiteEvse("E2", 11.0, min_kw=4.2),
    )
    site = Site(10.0, evses)
    sessions = _sessions_on(["E0", "E1", "E2"], energy=6.0, hours=2)
    problem, _grid, _ids = build_problem(site, sessions, 15)
    sched = optimize(problem, "max-energy", time_limit_s=20)
    x = sched.power_kw
    assert ((x == 0) | (x >= 4.2 - 1e-6)).all()
    assert check_schedule(sched) == []
    # 10 kW for 2 h would allow 18 kWh; with two cars on at a time (>= 4.2 kW each) it still can
    assert sched.delivered_kwh().sum() == pytest.approx(18.0, abs=1e-3)


def test_minimum_power_refuses_a_request_below_one_slot_at_minimum_power() -> None:
    # 1 kWh is less than 4.2 kW x 0.25 h: the MILP cannot deliver it at all, while the LP relaxation
    # (on/off as a fraction) would deliver [1, 6]
    evses = (SiteEvse("E0", 11.0, min_kw=4.2), SiteEvse("E1", 11.0, min_kw=4.2))
    sessions = _sessions_on(["E0", "E1"], energy=6.0, hours=2)
    sessions[0] = Session("s0", "E0", sessions[0].arrival, sessions[0].departure, 1.0, 11.0)
    problem, _grid, _ids = build_problem(Site(10.0, evses), sessions, 15)
    sched = optimize(problem, "max-energy", time_limit_s=20)
    assert sched.delivered_kwh() == pytest.approx([0.0, 6.0], abs=1e-4)
    x = sched.power_kw
    assert ((x == 0) | (x >= 4.2 - 1e-6)).all()


def test_fairness_shares_a_shortage() -> None:
    sessions = _sessions_on(["E0", "E1"], energy=40.0, hours=2)
    problem, _grid, _ids = build_problem(Site(11.0), sessions, 15)
    sched = optimize(problem, "max-energy")
    assert sched.delivered_kwh() == pytest.approx([11.0, 11.0], abs=1e-4)


def test_limit_window_and_pv_shape_the_plan() -> None:
    sessions = _sessions_on(["E0", "E1"], energy=30.0, hours=4)
    t0 = sessions[0].arrival
    windows = [LimitWindow(t0 + timedelta(hours=1), t0 + timedelta(hours=2), 4.2)]
    pv = StepSeries((t0, t0 + timedelta(hours=3)), (5.0, 0.0))
    problem, _grid, _ids = build_problem(Site(15.0), sessions, 15, limit_windows=windows, pv_kw=pv)
    sched = optimize(problem, "min-peak")
    load = sched.load_kw()
    assert load[4:8].max() <= 4.2 + 5.0 + 1e-6  # §14a window, PV on top
    assert check_schedule(sched) == []
    assert sched.grid_kw()[4:8].max() <= 4.2 + 1e-6


def test_independent_lp_agrees_on_a_circuit_network() -> None:
    sessions = random_sessions(7, 8, n_evse=4)
    evses = tuple(SiteEvse(f"E{k}", 22.0) for k in range(4))
    site = Site(30.0, evses, circuits=(Circuit("left", 11.0, ("E0", "E1")),))
    problem, _grid, _ids = build_problem(site, sessions, 15)
    sched = optimize(problem, "max-energy")
    dense_ub = np.zeros((problem.n_sessions, problem.n_slots))
    for i in range(problem.n_sessions):
        dense_ub[i, problem.first[i] : problem.last[i]] = problem.max_kw[i]
    n, t = dense_ub.shape
    rows, rhs = [], []
    for i in range(n):
        r = np.zeros(n * t)
        r[i * t : (i + 1) * t] = 0.25
        rows.append(r)
        rhs.append(problem.energy_kwh[i])
    for k in range(t):
        r = np.zeros(n * t)
        r[k::t] = 1
        rows.append(r)
        rhs.append(30.0)
        r = np.zeros(n * t)
        for i in range(n):
            if problem.evse[i] in (0, 1):
                r[i * t + k] = 1
        rows.append(r)
        rhs.append(11.0)
    res = linprog(
        -np.full(n * t, 0.25),
        A_ub=np.array(rows),
        b_ub=rhs,
        bounds=[(0, u) for u in dense_ub.ravel()],
        method="highs",
    )
    assert res.status == 0
    assert sched.delivered_kwh().sum() == pytest.approx(-res.fun, rel=1e-6)
    # feasibility, recomputed from the sessions themselves (not from the problem's own network)
    dense = sched.dense()
    on_left = [i for i, s in enumerate(sessions) if s.evse_id in ("E0", "E1")]
    assert dense[on_left].sum(axis=0).max() <= 11.0 + 1e-6
    assert dense.sum(axis=0).max() <= 30.0 + 1e-6
    assert (dense <= np.array([s.max_kw for s in sessions])[:, None] + 1e-9).all()
    assert (sched.delivered_kwh() <= np.array([s.energy_kwh for s in sessions]) + 1e-9).all()


def test_flow_path_is_fair_and_lexicographic_too() -> None:
    from charging.plan import plan

    sessions = _sessions_on(["E0", "E1", "E2"], energy=40.0, hours=2)
    sessions[2] = Session("s2", "E2", sessions[2].arrival, sessions[2].departure, 4.0, 11.0)
    result = plan(sessions, 16.0, 15, "min-peak")  # site limit only: solved by max-flow
    delivered = result.schedule.delivered_kwh()
    assert delivered.sum() == pytest.approx(32.0, abs=1e-3)
    # max-min fairness on the share of what each session could take alone (22, 22 and 4 kWh)
    assert delivered / np.array([22.0, 22.0, 4.0]) == pytest.approx([2 / 3] * 3, abs=1e-4)
    assert result.schedule.peak_kw() <= 16.0 + 1e-9
