"""The Knoten adaptive controller: receding-horizon phase planning per intersection.

At each decision an intersection predicts, lane by lane, the queue over a short horizon from what
its own detectors report (a lane-area detector covering up to 100 m before the stop line and an
induction loop at its upstream end): halted vehicles, moving vehicles within range, and the
smoothed entry rate counted by the loop. Neighbouring intersections exchange outflow predictions:
each publishes, per outgoing lane, the discharge its chosen plan will send downstream, and the
downstream intersection adds it (shifted by the travel time) to its own arrival forecast.

The plans are "serve phase p for g seconds, then the best other phase"; their predicted
vehicle-seconds of queueing are evaluated for all (p, g) at once, and a small CP-SAT model picks
the plan subject to minimum/maximum green, the program's yellow and all-red, and a maximum red
time that bounds the cycle so that no approach with demand starves. Only the first stage is
applied; the next decision re-plans with fresh detector data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from ortools.sat.python import cp_model

from signals.controllers.base import Controller, PhaseDriver, RunContext
from signals.network import Intersection
from signals.sumo_io import write_detector_file

VEHICLE_SPACING_M = 7.5


@dataclass(frozen=True)
class KnotenParams:
    """Controller settings (the same for every network)."""

    min_green_s: float = 5.0
    max_green_s: float = 60.0
    max_red_s: float = 120.0
    decide_every_s: float = 2.0
    horizon_s: int = 50
    saturation_veh_s_lane: float = 0.5
    startup_lost_s: float = 2.0
    terminal_weight_s: float = 20.0
    arrival_smoothing_s: float = 60.0
    detector_range_m: float = 100.0
    approach_speed_factor: float = 0.8


@dataclass
class LaneForecast:
    """Detector state of one intersection at a decision (arrays over incoming lanes)."""

    queue_veh: np.ndarray
    arrivals_veh: np.ndarray  # [lanes, horizon] expected arrivals at the stop line per second
    out_blocked: np.ndarray  # [lanes] 1 if the lane's exits are full


def simulate_plans(
    served_rate: np.ndarray,
    forecast: LaneForecast,
    phase_seq: np.ndarray,
    terminal_weight_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Queue simulation of many plans at once.

    ``served_rate[p, l]`` is lane ``l``'s discharge (veh/s) in green phase ``p``; ``phase_seq[k, t]``
    is the phase green in second ``t`` of plan ``k`` (-1 for yellow/all-red/start-up). Returns the
    cost (vehicle-seconds queued plus a terminal penalty) per plan and the discharge
    ``[plans, lanes, horizon]``.
    """
    n_plans, horizon = phase_seq.shape
    n_lanes = served_rate.shape[1]
    rate = np.zeros((n_plans, n_lanes, horizon))
    for p in range(served_rate.shape[0]):
        mask = phase_seq == p
        rate += mask[:, None, :] * served_rate[p][None, :, None]
    rate *= (1.0 - forecast.out_blocked)[None, :, None]
    queue = np.repeat(forecast.queue_veh[None, :].astype(float), n_plans, axis=0)
    cost = np.zeros(n_plans)
    out = np.zeros_like(rate)
    for t in range(horizon):
        queue += forecast.arrivals_veh[None, :, t]
        served = np.minimum(queue, rate[:, :, t])
        queue -= served
        out[:, :, t] = served
        cost += queue.sum(axis=1)
    cost += terminal_weight_s * queue.sum(axis=1)
    return cost, out


def candidate_plans(
    n_phases: int,
    current: int,
    elapsed_s: float,
    lost_s: float,
    params: KnotenParams,
) -> tuple[list[tuple[int, int]], np.ndarray, list[int]]:
    """First stages (phase, green seconds) and, for each, the second-stage phase sequences.

    Returns the list of first stages, the phase sequence per (first stage, second phase) and the
    index of the first stage each row belongs to.
    """
    horizon = params.horizon_s
    lost = round(lost_s)
    startup = round(params.startup_lost_s)
    stages: list[tuple[int, int]] = []
    for p in range(n_phases):
        if p == current:
            room = params.max_green_s - elapsed_s
            options = [g for g in (int(params.decide_every_s), 6, 12, 20, 30) if g <= room]
        else:
            options = [int(params.min_green_s), 10, 20, 30]
            options = [g for g in options if params.min_green_s <= g <= params.max_green_s]
        stages += [(p, g) for g in sorted(set(options))]
    rows: list[np.ndarray] = []
    owner: list[int] = []
    for k, (p, g) in enumerate(stages):
        for q in range(n_phases):
            if q == p:
                continue
            seq = np.full(horizon, -1, dtype=np.int64)
            t = 0
            if p != current:
                t += lost + startup
            seq[t : t + g] = p
            t += g + lost + startup
            if t < horizon:
                seq[t:] = q
            rows.append(seq)
            owner.append(k)
    return stages, np.array(rows).reshape(len(rows), horizon), owner


def choose_plan(
    stages: list[tuple[int, int]],
    stage_cost: np.ndarray,
    feasible: np.ndarray,
) -> int:
    """CP-SAT: exactly one feasible first stage with the least predicted cost."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{k}") for k in range(len(stages))]
    model.add_exactly_one(x)
    for k, ok in enumerate(feasible):
        if not ok:
            model.add(x[k] == 0)
    scaled = np.round(10.0 * (stage_cost - stage_cost[feasible].min())).astype(np.int64)
    scaled = np.minimum(scaled, 10**9)
    model.minimize(sum(int(c) * v for c, v in zip(scaled, x, strict=True)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 0.05
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return int(np.flatnonzero(feasible)[np.argmin(stage_cost[feasible])])
    return next(k for k, v in enumerate(x) if solver.value(v))


class _Node:
    """Runtime state of one intersection."""

    def __init__(self, inter: Intersection, driver: PhaseDriver, detectors: list[tuple[str, str, float]]):
        self.inter = inter
        self.driver = driver
        self.e2 = [d[0] for d in detectors]
        self.e1 = [d[1] for d in detectors]
        self.det_len_m = np.array([d[2] for d in detectors])
        self.rate_veh_s = np.zeros(len(detectors))
        self.last_count = np.zeros(len(detectors))
        self.last_read_s = -1.0
        self.next_decision_s = 0.0
        self.upstream: list[list[tuple[_Node, int, float]]] = [[] for _ in detectors]


class KnotenController(Controller):
    """Adaptive control from detector data with an OR-Tools model per intersection and decision."""

    name: ClassVar[str] = "knoten"
    adaptive: ClassVar[bool] = True

    def __init__(self, params: KnotenParams | None = None) -> None:
        super().__init__()
        self.params = params or KnotenParams()
        self.nodes: list[_Node] = []
        self._detectors: dict[str, Any] = {}
        self._outflow: dict[str, tuple[float, np.ndarray]] = {}  # out lane -> (t0, veh/s profile)

    def prepare(self, ctx: RunContext) -> list[Path]:
        path = ctx.workdir / "knoten.det.xml"
        self._detectors = write_detector_file(path, ctx.intersections, self.params.detector_range_m)
        return [path]

    def start(self, sim: Any, ctx: RunContext) -> None:
        now = float(sim.simulation.getTime())
        by_in_lane: dict[str, tuple[_Node, int]] = {}
        for inter in ctx.intersections:
            driver = PhaseDriver(inter, inter.yellow_s, inter.all_red_s, now)
            driver.start(sim, 0, now)
            node = _Node(inter, driver, [self._detectors[lane] for lane in inter.in_lanes])
            self.nodes.append(node)
            for i, lane in enumerate(inter.in_lanes):
                by_in_lane[lane] = (node, i)
        for node in self.nodes:  # coordination links: our exit lane is a neighbour's approach
            for lane_idx, outs in enumerate(node.inter.link_out_lanes):
                for out in outs:
                    if out in by_in_lane:
                        down, down_idx = by_in_lane[out]
                        share = 1.0 / max(1, len(outs))
                        down.upstream[down_idx].append((node, lane_idx, share))

    def _observe(self, sim: Any, node: _Node, now_s: float) -> LaneForecast:
        p = self.params
        inter = node.inter
        n = len(node.e2)
        halt = np.array([sim.lanearea.getLastStepHaltingNumber(d) for d in node.e2], dtype=float)
        count = np.array([sim.lanearea.getLastStepVehicleNumber(d) for d in node.e2], dtype=float)
        entered = np.array([sim.inductionloop.getIntervalVehicleNumber(d) for d in node.e1], dtype=float)
        if node.last_read_s >= 0:
            dt = max(1.0, now_s - node.last_read_s)
            diff = np.maximum(0.0, entered - node.last_count)
            alpha = 1.0 - np.exp(-dt / p.arrival_smoothing_s)
            node.rate_veh_s += alpha * (diff / dt - node.rate_veh_s)
        node.last_count = entered
        node.last_read_s = now_s
        speed = np.maximum(1.0, inter.lane_speed_mps * p.approach_speed_factor)
        moving = np.maximum(0.0, count - halt)
        t0 = np.minimum(halt * VEHICLE_SPACING_M, node.det_len_m) / speed
        t1 = np.maximum(t0 + 1.0, node.det_len_m / speed)
        t_full = np.maximum(t1, inter.lane_length_m / speed)
        times = np.arange(1, p.horizon_s + 1, dtype=float)
        cum = moving[:, None] * np.clip((times[None, :] - t0[:, None]) / (t1 - t0)[:, None], 0.0, 1.0)
        cum += node.rate_veh_s[:, None] * np.clip(times[None, :] - t1[:, None], 0.0, None)
        arrivals = np.diff(np.concatenate([np.zeros((n, 1)), cum], axis=1), axis=1)
        for i, ups in enumerate(node.upstream):  # exchanged outflow predictions of neighbours
            if not ups:
                continue
            predicted = np.zeros(p.horizon_s)
            for up, up_lane, share in ups:
                entry = self._outflow.get(f"{up.inter.tls_id}#{up_lane}")
                if entry is None:
                    continue
                t_pub, profile = entry
                shift = round(t_full[i] - (now_s - t_pub))
                for k in range(p.horizon_s):
                    src = k - shift
                    if 0 <= src < profile.size:
                        predicted[k] += share * profile[src]
            start = int(np.ceil(t_full[i]))
            if start < p.horizon_s:
                arrivals[i, start:] = predicted[start:]
        blocked = np.zeros(n)
        for i, outs in enumerate(inter.link_out_lanes):
            if outs:
                occ = [sim.lane.getLastStepOccupancy(o) for o in outs]
                blocked[i] = float(np.mean([o > 0.85 for o in occ]))
        return LaneForecast(halt, arrivals, blocked)

    def _decide(self, sim: Any, node: _Node, now_s: float) -> None:
        p = self.params
        inter = node.inter
        d = node.driver
        forecast = self._observe(sim, node, now_s)
        lost_s = inter.yellow_s + inter.all_red_s
        elapsed = d.green_elapsed_s(now_s)
        stages, seqs, owner = candidate_plans(inter.n_phases, d.current, elapsed, lost_s, p)
        served_rate = inter.served * p.saturation_veh_s_lane
        cost, out = simulate_plans(served_rate, forecast, seqs, p.terminal_weight_s)
        owner_arr = np.array(owner)
        stage_cost = np.full(len(stages), np.inf)
        best_row = np.zeros(len(stages), dtype=np.int64)
        for k in range(len(stages)):
            rows = np.flatnonzero(owner_arr == k)
            j = rows[np.argmin(cost[rows])]
            stage_cost[k], best_row[k] = cost[j], j
        stage_cost += np.array([0.5 if s[0] != d.current else 0.0 for s in stages])  # ties: keep green
        demand = inter.served > 0
        has_demand = (demand @ (forecast.queue_veh + forecast.arrivals_veh[:, :10].sum(axis=1))) > 0
        red = d.red_time_s(now_s) + lost_s
        starving = np.flatnonzero((red >= p.max_red_s) & has_demand)
        feasible = np.ones(len(stages), dtype=bool)
        if starving.size:
            must = int(starving[np.argmax(red[starving])])
            feasible = np.array([s[0] == must for s in stages])
        if not feasible.any():
            feasible = np.array([s[0] != d.current for s in stages])
        k = choose_plan(stages, stage_cost, feasible) if feasible.sum() > 1 else int(np.argmax(feasible))
        phase, _green_s = stages[k]
        profile = out[best_row[k]]
        for lane in range(profile.shape[0]):
            self._outflow[f"{inter.tls_id}#{lane}"] = (now_s, profile[lane])
        if phase == d.current:
            node.next_decision_s = now_s + p.decide_every_s
        else:
            d.request(sim, phase, now_s)
            node.next_decision_s = now_s + lost_s + p.min_green_s

    def step(self, sim: Any, now_s: float) -> None:
        p = self.params
        for node in self.nodes:
            d = node.driver
            if not d.tick(sim, now_s):
                continue
            if now_s < node.next_decision_s or d.green_elapsed_s(now_s) < p.min_green_s:
                continue
            t0 = time.perf_counter()
            self._decide(sim, node, now_s)
            self.decision_times_s.append(time.perf_counter() - t0)
