"""Controllers: pure decision cores, and the adaptive controllers' safety rules in real SUMO runs."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from signals.controllers import CONTROLLERS, make_controller
from signals.controllers.knoten import (
    KnotenParams,
    LaneForecast,
    candidate_plans,
    choose_plan,
    main_phases,
    simulate_plans,
)
from signals.controllers.max_pressure import max_pressure_choice, maximal_phases, phase_pressure
from signals.errors import ControllerError
from signals.evaluate import evaluate
from signals.network import transition_state
from signals.scenario import load_scenario


def test_registry_has_the_five_controllers() -> None:
    assert {"static", "actuated", "webster", "max-pressure", "knoten"} <= set(CONTROLLERS)
    with pytest.raises(ControllerError, match="unknown controller"):
        make_controller("nope")


def test_max_pressure_prefers_pressure_but_serves_a_starving_phase() -> None:
    allowed = np.ones(2, dtype=bool)
    pressure, demand = np.array([2.0, 9.0]), np.array([2.0, 9.0])
    assert max_pressure_choice(pressure, demand, allowed, 0, np.array([0.0, 10.0]), 120.0) == 1
    pressure = np.array([9.0, 1.0])
    assert max_pressure_choice(pressure, pressure, allowed, 0, np.array([0.0, 130.0]), 120.0) == 1
    assert max_pressure_choice(pressure, np.array([9.0, 0.0]), allowed, 0, np.array([0.0, 130.0]), 120.0) == 0
    assert max_pressure_choice(pressure, pressure, np.array([False, True]), 0, np.zeros(2), 120.0) == 1


def test_max_pressure_counts_approach_minus_exit_and_skips_subset_phases() -> None:
    # links: 0 lane a -> x, 1 lane a -> y, 2 lane b -> y; exits x (index 0), y (index 1)
    states = ["GGr", "rrG", "Grr"]
    p = phase_pressure(
        states, np.array([0, 0, 1]), np.array([0, 1, 1]), np.array([10.0, 4.0]), np.array([2.0, 6.0])
    )
    assert p.tolist() == [10.0 - 4.0, 4.0 - 6.0, 10.0 - 2.0]
    assert maximal_phases(states).tolist() == [True, True, False]  # "Grr" is a strict subset of "GGr"
    assert maximal_phases(["GGrr", "GGrr".replace("G", "g")]).tolist() == [True, True]


def test_transition_keeps_common_greens_and_shows_yellow() -> None:
    assert transition_state("GGrr", "rGGr", "y") == "yGrr"
    assert transition_state("GGrr", "rGGr", "r") == "rGrr"


def test_knoten_plan_serves_the_long_queue_and_respects_feasible_stages() -> None:
    """The plan core; the controller's tie-break (keep the green when nothing differs) is checked
    through the real controller in ``test_controller_promises.py``."""
    params = KnotenParams()
    served = np.array([[1.0, 0.0], [0.0, 1.0]]) * params.saturation_veh_s_lane
    stages, froms, tos, owner = candidate_plans(2, 0, 30, 7, params, params.horizon_s)
    busy_other = LaneForecast(np.array([0.0, 12.0]), np.zeros((2, params.horizon_s)), np.zeros(2))
    cost, _ = simulate_plans(served, busy_other, froms, tos, params.terminal_weight_s)
    row = choose_plan(owner, cost, np.ones(len(stages), dtype=bool))
    assert stages[owner[row]][0] == 1
    only_one = np.array([s[0] == 0 for s in stages])
    row = choose_plan(owner, cost, only_one)
    assert stages[owner[row]][0] == 0


def _tls_states(
    tiny_grid: Path, tmp_path: Path, controller: str, params: dict[str, float] | None = None
) -> dict[str, list[tuple[float, str]]]:
    states = tmp_path / "tls.xml"
    add = tmp_path / "save.add.xml"
    add.write_text(f'<additional><timedEvent type="SaveTLSStates" dest="{states}"/></additional>')
    folder = tmp_path / "sc"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(
        f"net: {tiny_grid.parent / 'net.net.xml'}\nroutes: [{tiny_grid.parent / 'routes.rou.xml'}]\n"
        f"additionals: [{add}]\nbegin: 0\nend: 300\n"
    )
    summary = evaluate(load_scenario(folder), controller, [1], tmp_path / "out", params=params)
    assert summary["aggregate"]["arrived"]["mean"] > 50
    per_tls: dict[str, list[tuple[float, str]]] = {}
    for elem in ET.parse(states).getroot().iter("tlsState"):
        per_tls.setdefault(elem.get("id", ""), []).append((float(elem.get("time", 0)), elem.get("state", "")))
    return per_tls


@pytest.mark.parametrize(
    ("controller", "min_green_s", "max_red_s", "params"),
    [
        ("knoten", 5.0, 150.0, None),
        ("max-pressure", 10.0, 133.0, None),
        ("max-pressure", 10.0, 33.0, {"max_red_s": 20}),
    ],
)
def test_adaptive_controllers_honour_yellow_min_green_and_max_red(
    controller: str,
    min_green_s: float,
    max_red_s: float,
    params: dict[str, float] | None,
    tiny_grid: Path,
    tmp_path: Path,
) -> None:
    """Max-pressure: greens of at least 10 s, reds of at most its maximum red + one 10 s decision
    period + the 3 s yellow (120 s; and 20 s, where it binds); knoten: greens of at least 5 s."""
    per_tls = _tls_states(tiny_grid, tmp_path, controller, params)
    assert per_tls
    switches = 0
    for series in per_tls.values():
        n_links = len(series[0][1])
        for link in range(n_links):
            runs: list[tuple[str, float, float]] = []  # (colour, start, end)
            for (t, state), (t_next, _) in zip(series, [*series[1:], (300.0, "")], strict=True):
                colour = state[link].lower()
                colour = "g" if colour in "g" else colour
                if runs and runs[-1][0] == colour:
                    runs[-1] = (colour, runs[-1][1], t_next)
                else:
                    runs.append((colour, t, t_next))
            switches += len(runs) - 1
            for prev, nxt in itertools.pairwise(runs):
                if prev[0] == "g":
                    assert nxt[0] == "y", f"green to {nxt[0]} without yellow at {nxt[1]}"
                if prev[0] == "y":
                    assert prev[2] - prev[1] >= 3.0 - 1e-6
            for colour, start, end in runs[1:-1]:
                if colour == "g":
                    assert end - start >= min_green_s - 1e-6, f"green of {end - start} s"
                if colour == "r":
                    assert end - start <= max_red_s, f"red for {end - start} s"
    assert switches > 20


def test_driver_keeps_red_while_a_vehicle_waits_inside_the_junction(tiny_grid: Path) -> None:
    """A vehicle held inside the junction box delays the next green up to the clearance limit."""
    import libsumo as sim

    from signals.controllers.base import PhaseDriver
    from signals.sumo_io import junction_box_lanes, read_intersections, sumo_binary

    folder = tiny_grid.parent
    sim.start(
        [
            sumo_binary(),
            *("-n", str(folder / "net.net.xml"), "-r", str(folder / "routes.rou.xml")),
            *("--time-to-teleport", "-1", "--no-step-log", "--no-warnings"),
        ]
    )
    try:
        inter = read_intersections(sim)[0]
        box = junction_box_lanes(sim, inter.tls_id)
        vias = [c[2] for conns in sim.trafficlight.getControlledLinks(inter.tls_id) for c in conns]
        assert any(box) and all(lane.startswith(":") for lanes in box for lane in lanes)
        assert {v for v in vias if v} <= {lane for lanes in box for lane in lanes}
        now = float(sim.simulation.getTime())
        driver = PhaseDriver(inter, now, box, max_clearance_s=8.0)
        driver.start(sim, 0, now)
        first, second = inter.green_states[0], inter.green_states[1]
        losing = [i for i, c in enumerate(first) if c in "Gg" and second[i] not in "Gg"]
        held = None
        while held is None and now < 250:  # wait for a vehicle inside the box on a link that loses green
            sim.simulationStep()
            now = float(sim.simulation.getTime())
            driver.tick(sim, now)
            for i in losing:
                for lane in box[i]:
                    ids = sim.lane.getLastStepVehicleIDs(lane)
                    if ids:
                        held = ids[0]
                        break
                if held:
                    break
        assert held is not None, "no vehicle crossed the junction"
        sim.vehicle.setSpeedMode(held, 0)
        sim.vehicle.setSpeed(held, 0.0)
        for _ in range(3):
            sim.simulationStep()
        now = float(sim.simulation.getTime())
        assert sim.vehicle.getSpeed(held) < 0.1 and sim.vehicle.getLaneID(held).startswith(":")
        driver.request(sim, 1, now)
        asked = now
        while not driver.tick(sim, now):
            sim.simulationStep()
            now = float(sim.simulation.getTime())
        assert driver.current == 1
        assert now - asked >= 3.0 + 8.0 - 1e-6  # yellow, then the full clearance: the car never left
        sim.vehicle.setSpeed(held, -1)  # released: it drives off, and the next change needs no clearance
        for _ in range(20):
            sim.simulationStep()
            now = float(sim.simulation.getTime())
            driver.tick(sim, now)
        driver.request(sim, 0, now)
        asked = now
        while not driver.tick(sim, now):
            sim.simulationStep()
            now = float(sim.simulation.getTime())
        assert now - asked < 3.0 + 8.0
    finally:
        sim.close()


def test_detector_segments_follow_the_approach_upstream() -> None:
    from signals.sumo_io import _chain_span

    chain, lengths = ["up", "stop"], [100.0, 50.0]  # stop line at the end of "stop"
    assert _chain_span(chain, lengths, 0.0, 30.0) == (["stop"], 20.0, 50.0)
    assert _chain_span(chain, lengths, 40.0, 80.0) == (["up", "stop"], 70.0, 10.0)
    assert _chain_span(chain, lengths, 60.0, 150.0) == (["up"], 0.0, 90.0)
    assert _chain_span(["tiny"], [0.1], 0.0, 0.1) == (["tiny"], 0.0, 0.1)  # a 0.2 m lane (bologna-acosta)


def test_overlap_phases_are_skipped_unless_a_stream_needs_them() -> None:
    # bologna-acosta 219-like: a 3 s overlap between two main phases is not chosen on its own
    keep = main_phases(["GGrr", "GGGr", "rrGG"], [30.0, 3.0, 20.0], 5.0)
    assert keep.tolist() == [True, False, True]
    # the last link is green only in the two short phases: the longer of them stays
    keep = main_phases(["GGGGr", "rrGGr", "GGrrG", "rrrrG"], [78.0, 6.0, 4.0, 3.0], 5.0)
    assert keep.tolist() == [True, True, True, False]


def test_plan_mode_follows_the_program_clock() -> None:
    from signals.controllers.knoten import KnotenController, _Node
    from signals.network import ProgramPhase, build_intersection

    phases = [
        ProgramPhase(30.0, "GGrr", 5, 50),
        ProgramPhase(3.0, "yyrr", 3, 3),
        ProgramPhase(20.0, "rrGG", 5, 50),
        ProgramPhase(3.0, "rryy", 3, 3),
    ]
    links = [[("a_0", "x_0")], [("a_1", "x_1")], [("b_0", "y_0")], [("b_1", "y_1")]]
    lanes = {"a_0": 100.0, "a_1": 100.0, "b_0": 100.0, "b_1": 100.0}
    inter = build_intersection("t", "0", phases, links, lanes, dict.fromkeys(lanes, 13.9))
    assert inter is not None
    node = _Node.__new__(_Node)
    node.inter, node.main = inter, np.ones(inter.n_phases, dtype=bool)
    ctl = KnotenController()
    ctl._anchor_plan(node, (2, 110.0), 100.0)  # at t=100 s the program is 10 s into its 20 s phase 2
    assert node.plan_cycle_s == 56.0 and node.plan_t0_s == 100.0 - 43.0
    assert ctl._plan_phase(node, 100.0) == 1  # green "rrGG"
    assert ctl._plan_phase(node, 110.0) == 0  # the yellow after it already leads to "GGrr"
    assert ctl._plan_phase(node, 113.0 + 29.0) == 0
    assert ctl._plan_phase(node, 113.0 + 30.0) == 1  # 30 s of green later, on to "rrGG"


def test_knoten_keeps_queues_out_of_a_full_exit() -> None:
    """Capacity-aware discharge: holding the green for a lane whose exit has room for 2 vehicles
    (and nothing leaves it) is worth less than serving a shorter queue with an open exit."""
    params = KnotenParams()
    served = np.array([[1.0, 0.0], [0.0, 1.0]]) * params.saturation_veh_s_lane
    stages, froms, tos, owner = candidate_plans(2, 0, 30, 7, params, params.horizon_s)
    hold = np.array([p == 0 and g >= 12 for p, g in stages])[owner]
    switch = np.array([p == 1 for p, _ in stages])[owner]
    arrivals = np.zeros((2, params.horizon_s))
    open_exit = LaneForecast(np.array([20.0, 10.0]), arrivals, np.zeros(2))
    cost, _ = simulate_plans(served, open_exit, froms, tos, params.terminal_weight_s)
    assert cost[hold].min() < cost[switch].min()
    full_exit = LaneForecast(
        open_exit.queue_veh, arrivals, np.zeros(2), np.array([2.0, 1e9]), np.zeros((2, params.horizon_s))
    )
    cost, out = simulate_plans(served, full_exit, froms, tos, params.terminal_weight_s)
    assert out[:, 0, :].sum(axis=1).max() == pytest.approx(2.0)  # never more than the room
    assert cost[hold].min() > cost[switch].min()


def test_starvation_guard_is_per_lane() -> None:
    from signals.controllers.knoten import starving_phase

    served = np.array([[1.0, 1.0, 0.0], [0.0, 0.5, 1.0], [0.0, 0.0, 1.0]])
    main = np.array([True, True, False])
    waiting = np.array([False, True, True])
    # lane 2 red for 130 s with vehicles: the main phase serving it (1), not the overlap phase 2
    assert starving_phase(served, main, np.array([130.0, 0.0, 130.0]), waiting, 120.0) == 1
    assert (
        starving_phase(served, main, np.array([130.0, 0.0, 20.0]), waiting, 120.0) is None
    )  # lane 0 is empty
    assert starving_phase(served, main, np.array([0.0, 125.0, 0.0]), waiting, 120.0) == 0


def test_queue_beyond_the_detectors_is_estimated_from_counts() -> None:
    from signals.controllers.knoten import KnotenController, _Node

    node = _Node.__new__(_Node)
    node.far_slot = np.array([1, 3])  # two lanes, two segments each; the far one is the second
    node.far_len_m = np.array([30.0, 30.0])
    node.approach_m = np.array([400.0, 400.0])
    node.det_len_m = np.array([60.0, 60.0])
    node.rate_veh_s = np.array([0.3, 0.3])
    node.demand_veh_s = np.zeros(2)
    node.hidden_veh = np.zeros(2)
    ctl = KnotenController()
    flowing = np.array([0.0, 0.0, 1.0, 1.0])
    ctl._count_hidden(node, flowing, np.array([0.0, 0.0]), 10.0)  # nothing jammed: rate remembered
    assert node.hidden_veh.tolist() == [0.0, 0.0]
    jam_first = np.array([4.0, 4.0, 1.0, 1.0])  # lane 0's far segment full of halted vehicles
    node.rate_veh_s = np.array([0.05, 0.3])  # the loop now counts few vehicles moving up
    ctl._count_hidden(node, jam_first, np.array([0.5, 3.0]), 10.0)
    assert node.hidden_veh[0] == pytest.approx(0.3 * 10.0 - 0.5) and node.hidden_veh[1] == 0.0
    ctl._count_hidden(node, jam_first, np.array([1.0, 3.0]), 10.0)
    assert node.hidden_veh[0] == pytest.approx(2 * 3.0 - 1.5)
    ctl._count_hidden(node, flowing, np.array([3.0, 3.0]), 10.0)  # the jam dissolved
    assert node.hidden_veh[0] == 0.0


def test_box_foes_separate_protected_from_permissive_streams(tiny_grid: Path) -> None:
    """Streams a program releases together as protected greens never cross in the junction box;
    a permissive (yielding) stream crosses one of them."""
    import libsumo as sim

    from signals.sumo_io import junction_box_foes, junction_box_lanes, read_intersections, sumo_binary

    folder = tiny_grid.parent
    sim.start([sumo_binary(), "-n", str(folder / "net.net.xml"), "--no-step-log", "--no-warnings"])
    try:
        permissive_crossing = 0
        for inter in read_intersections(sim):
            foes = junction_box_foes(sim, inter.tls_id, junction_box_lanes(sim, inter.tls_id))
            for state in inter.green_states:
                protected = [i for i, c in enumerate(state) if c == "G"]
                for i in protected:
                    assert not foes[i] & set(protected), (
                        f"{inter.tls_id}: protected links {i} and {foes[i]} cross"
                    )
                for i, c in enumerate(state):
                    if c == "g" and foes[i] & set(protected):
                        permissive_crossing += 1
        assert permissive_crossing > 0
    finally:
        sim.close()


def test_a_protected_left_is_skipped_only_where_its_clearance_dominates() -> None:
    from signals.controllers.knoten import dominated_phases

    # cologne1-like: the 6 s protected left (5 s yellow after it) is served permissively by the main phase
    states = ["rrGGgg", "rrrrGG", "GGrrrr"]
    assert dominated_phases(states, [29.0, 6.0, 29.0], [5.0, 5.0, 5.0]).tolist() == [False, True, False]
    # ingolstadt-like: the same left with a 3 s yellow is worth its clearance
    assert not dominated_phases(states, [38.0, 6.0, 37.0], [3.0, 3.0, 3.0]).any()
    # a long main phase is not dominated by a short overlap phase that adds a stream to it
    assert not dominated_phases(["GGrr", "GGGr", "rrrG"], [30.0, 3.0, 20.0], [3.0, 3.0, 3.0]).any()
