"""Fixed-time plans: Webster splits by CP-SAT, offsets by CP-SAT, SUMO phases with transitions."""

from __future__ import annotations

import numpy as np

from signals.network import Intersection, ProgramPhase, build_intersection
from signals.timing import FixedPlan, Link, coordinate_offsets, green_start_s, plan_phases, webster_plan


def _two_phase(tls: str) -> Intersection:
    phases = [
        ProgramPhase(30, "GGrr", 30, 30),
        ProgramPhase(3, "yyrr", 3, 3),
        ProgramPhase(30, "rrGG", 30, 30),
        ProgramPhase(3, "rryy", 3, 3),
    ]
    links = [[("n_0", "s_0")], [("n_0", "e_0")], [("w_0", "e_0")], [("w_0", "s_0")]]
    inter = build_intersection(
        tls, "0", phases, links, {"n_0": 200.0, "w_0": 200.0}, {"n_0": 13.9, "w_0": 13.9}
    )
    assert inter is not None
    return inter


def test_webster_gives_the_heavier_approach_more_green() -> None:
    inter = _two_phase("a")
    plan = webster_plan(inter, np.array([700.0, 250.0]))
    assert plan.greens_s[0] > plan.greens_s[1] >= 7
    assert plan.cycle_s == sum(plan.greens_s) + 2 * 3
    phases = plan_phases(inter, plan)
    assert [p[1] for p in phases] == ["GGrr", "yyrr", "rrGG", "rryy"]


def test_offsets_follow_the_travel_time_between_signals() -> None:
    a, b = _two_phase("a"), _two_phase("b")
    plans = [FixedPlan("a", 60, [27, 27]), FixedPlan("b", 60, [27, 27])]
    out = coordinate_offsets(plans, [a, b], [Link(0, 0, 1, 0, 20.0, 500.0)])
    start_a = out[0].offset_s + green_start_s(out[0], a, 0)
    start_b = out[1].offset_s + green_start_s(out[1], b, 0)
    assert (start_b - start_a - 20) % 60 == 0
