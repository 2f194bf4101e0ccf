"""Online policies and the replay simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from charging.errors import InvalidInputError
from charging.model import Site, build_problem
from charging.optimize import optimize
from charging.policies import POLICIES
from charging.simulate import simulate
from tests.charging.charging_helpers import random_sessions


@pytest.fixture(scope="module")
def tight_problem():  # type: ignore[no-untyped-def]
    sessions = random_sessions(5, 30)
    problem, _grid, _ids = build_problem(Site(22.0), sessions, 15)
    return problem


@pytest.mark.parametrize("policy", ["edf", "llf", "round-robin", "mpc"])
def test_controlled_policies_never_violate_limits(tight_problem, policy: str) -> None:  # type: ignore[no-untyped-def]
    sched, metrics = simulate(tight_problem, policy)
    assert metrics.limit_violations == 0
    assert sched.load_kw().max() <= 22.0 + 1e-6
    assert (sched.delivered_kwh() <= tight_problem.energy_kwh + 1e-9).all()
    assert 0 < metrics.energy_delivered_pct <= 100.0


def test_uncontrolled_exceeds_a_tight_limit(tight_problem) -> None:  # type: ignore[no-untyped-def]
    _sched, metrics = simulate(tight_problem, "uncontrolled")
    assert metrics.limit_violations > 0
    assert metrics.peak_kw > 22.0


def test_mpc_is_close_to_the_offline_optimum_and_not_worse_than_edf(tight_problem) -> None:  # type: ignore[no-untyped-def]
    offline = optimize(tight_problem, "max-energy").delivered_kwh().sum()
    _s, mpc = simulate(tight_problem, "mpc")
    _s, edf = simulate(tight_problem, "edf")
    assert mpc.energy_delivered_kwh <= offline * (1 + 1e-6)
    assert mpc.energy_delivered_kwh >= 0.97 * offline
    assert mpc.energy_delivered_kwh >= edf.energy_delivered_kwh - 1e-6
    assert mpc.n_solves > 0 and mpc.solve_time_p95_s >= mpc.solve_time_p50_s > 0
    assert math.isnan(edf.solve_time_p50_s)


def test_mpc_min_peak_counts_the_peak_already_reached() -> None:
    sessions = random_sessions(9, 20)
    problem, _grid, _ids = build_problem(Site(200.0), sessions, 15)
    _s, unc = simulate(problem, "uncontrolled")
    _s, mpc = simulate(problem, "mpc", objective="min-peak")
    best = optimize(problem, "min-peak").peak_kw()
    assert mpc.energy_delivered_pct >= 99.8 * unc.energy_delivered_pct / 100
    assert best - 1e-6 <= mpc.peak_kw < unc.peak_kw


def test_round_robin_shares_equally() -> None:
    sessions = random_sessions(3, 4)
    same = [
        s.__class__(s.session_id, s.evse_id, sessions[0].arrival, sessions[0].departure, 50.0, 11.0)
        for s in sessions
    ]
    problem, _grid, _ids = build_problem(Site(20.0), same, 15)
    sched, _m = simulate(problem, "round-robin")
    d = sched.dense()
    first = d[:, problem.first[0]]
    assert np.allclose(first, 5.0, atol=1e-4)


def test_registry_and_unknown_policy() -> None:
    assert {"uncontrolled", "edf", "llf", "round-robin", "mpc"} <= set(POLICIES)
    sessions = random_sessions(1, 3)
    problem, _g, _i = build_problem(Site(20.0), sessions, 15)
    with pytest.raises(InvalidInputError, match="unknown policy"):
        simulate(problem, "fifo")
