"""The Knoten adaptive controller: receding-horizon phase planning per intersection.

At each decision an intersection predicts, lane by lane, the queue over a short horizon from what
its own detectors report (lane-area detectors in segments of about 30 m covering up to 125 m
before the stop line, and an induction loop at their upstream end): halted vehicles, moving
vehicles per segment (which arrive at the back of the queue in the order of their segments), and
the smoothed entry rate counted by the loop. While the farthest segment is jammed, the queue
beyond the detectors is estimated from counts (arrivals at the rate seen before the jam, minus
the vehicles counted moving up). Neighbouring intersections exchange outflow predictions:
each publishes, per outgoing lane, the discharge its chosen plan will send downstream, and the
downstream intersection adds it (shifted by the travel time) to its own arrival forecast.

The plans are "serve phase p for g seconds, then the best other phase"; their predicted
vehicle-seconds of queueing are evaluated for all (p, g) at once, and a small OR-Tools model
(a min-cost-flow shortest path over the plans) picks
the plan subject to minimum/maximum green, the program's own yellow and all-red after each green,
and a maximum red time that bounds the cycle so that no approach with demand starves (per phase;
per lane with ``starvation_per_lane``).
Every plan is capacity-aware (after Gregoire et al. 2015): a lane discharges only as far as its
exits have room, i.e. their free storage plus what the downstream signal's published plan (or
the saturation flow, for an unsignalised exit) takes out of them. Green states the program holds
for less than the minimum green, or whose streams another green state also serves (e.g. a
protected left that the main phase serves permissively, where its yellow and all-red cost most
of its green), are not chosen on their own (unless some stream is green only there). Only the first stage is
applied; the next decision re-plans with fresh detector data. A change of phase waits (after the
yellow and all-red) until no vehicle of the ending streams is left standing inside the junction
(with ``box_conflicts_only``: on a path that crosses a stream the next phase releases), as a
junction-box camera would report:
phase orders other than the program's may otherwise lock the junction up.

Under lasting oversaturation (for 3 minutes at least a tenth of the approaches queued beyond the
detectors) an intersection hands over to its program's own schedule on the simulation clock, so
that the coordination (offsets) the program was designed with holds while nothing can be gained
by reacting; it returns to adaptive control after 5 minutes without such queues.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from ortools.graph.python import min_cost_flow

from signals.controllers.base import Controller, PhaseDriver, RunContext
from signals.network import GREEN, Intersection
from signals.sumo_io import ApproachDetectors, junction_box_foes, junction_box_lanes, write_detector_file

VEHICLE_SPACING_M = 7.5


@dataclass(frozen=True)
class KnotenParams:
    """Controller settings (the same for every network)."""

    min_green_s: float = 5.0
    max_green_s: float = 60.0
    max_red_s: float = 120.0
    decide_every_s: float = 2.0
    horizon_s: int = 30
    max_horizon_s: int = 30
    saturation_veh_s_lane: float = 0.5
    startup_lost_s: float = 2.0
    terminal_weight_s: float = 5.0
    arrival_smoothing_s: float = 60.0
    detector_range_m: float = 125.0
    detector_segment_m: float = 30.0
    approach_speed_factor: float = 0.8
    clear_junction: bool = True
    box_conflicts_only: bool = False
    skip_subset_phases: bool = True
    capacity_aware: bool = True
    starvation_per_lane: bool = False
    hidden_queue: bool = True
    skip_short_phases: bool = True
    plan_jam_share: float = 0.1
    plan_enter_s: float = 180.0
    plan_leave_s: float = 300.0


@dataclass
class LaneForecast:
    """Detector state of one intersection at a decision (arrays over incoming lanes)."""

    queue_veh: np.ndarray
    arrivals_veh: np.ndarray  # [lanes, horizon] expected arrivals at the stop line per second
    out_blocked: np.ndarray  # [lanes] 1 if the lane's exits are full
    room_veh: np.ndarray | None = None  # [lanes] free storage on the lane's exits (inf: unlimited)
    drain_veh: np.ndarray | None = None  # [lanes, horizon] vehicles leaving those exits per second


def _queue_loop_py(
    rate: np.ndarray,
    queue0: np.ndarray,
    arrivals: np.ndarray,
    terminal_weight_s: float,
    room0: np.ndarray,
    drain: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n_plans, n_lanes, horizon = rate.shape
    cost = np.zeros(n_plans)
    out = np.zeros_like(rate)
    for k in range(n_plans):
        for lane in range(n_lanes):
            q = queue0[lane]
            room = room0[lane]
            c = 0.0
            for t in range(horizon):
                q += arrivals[lane, t]
                served = min(q, rate[k, lane, t], room)
                room += drain[lane, t] - served
                q -= served
                out[k, lane, t] = served
                c += q
            cost[k] += c + terminal_weight_s * q
    return cost, out


@lru_cache(maxsize=1)
def _queue_loop() -> Any:
    """The queue loop compiled with numba (on first use; cached on disk where a folder is writable)."""
    from numba import njit

    try:
        return njit(cache=True)(_queue_loop_py)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return njit(_queue_loop_py)


def simulate_plans(
    served_rate: np.ndarray,
    forecast: LaneForecast,
    seq_from: np.ndarray,
    seq_to: np.ndarray,
    terminal_weight_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Queue simulation of many plans at once.

    ``served_rate[p, l]`` is lane ``l``'s discharge (veh/s) in green phase ``p``. In second ``t`` of
    plan ``k`` the signal is in phase ``seq_from[k, t]`` turning to ``seq_to[k, t]`` (equal in
    green): during a transition (yellow, all-red, start-up) only lanes green in both phases
    discharge. Returns the cost (vehicle-seconds queued plus a terminal penalty) per plan and the
    discharge ``[plans, lanes, horizon]``.

    With ``forecast.room_veh`` a lane discharges only as far as its exits have room: the free
    storage now plus what has left the exits since (capacity-aware, after Gregoire et al. 2015).
    """
    rate = np.minimum(served_rate[seq_from], served_rate[seq_to])  # [plans, horizon, lanes]
    rate = np.ascontiguousarray(np.transpose(rate, (0, 2, 1)) * (1.0 - forecast.out_blocked)[None, :, None])
    n_lanes, horizon = rate.shape[1], rate.shape[2]
    room = np.full(n_lanes, 1e9) if forecast.room_veh is None else forecast.room_veh
    drain = np.zeros((n_lanes, horizon)) if forecast.drain_veh is None else forecast.drain_veh[:, :horizon]
    return _queue_loop()(  # type: ignore[no-any-return]
        rate,
        np.ascontiguousarray(forecast.queue_veh, dtype=np.float64),
        np.ascontiguousarray(forecast.arrivals_veh, dtype=np.float64),
        float(terminal_weight_s),
        np.ascontiguousarray(room, dtype=np.float64),
        np.ascontiguousarray(drain, dtype=np.float64),
    )


@lru_cache(maxsize=4096)
def candidate_plans(
    n_phases: int,
    current: int,
    room_s: int,
    lost_s: int | tuple[int, ...],
    params: KnotenParams,
    horizon_s: int,
) -> tuple[tuple[tuple[int, int], ...], np.ndarray, np.ndarray, np.ndarray]:
    """First stages (phase, green seconds) and, per (first stage, second phase), the per-second
    ``from``/``to`` phase sequences over the horizon, plus the first stage each row belongs to.

    ``room_s`` is how much longer the current green may last; ``lost_s`` the transition time
    (yellow + all-red + start-up) after each green phase (or one value for all).
    """
    horizon = horizon_s
    lost_after = (lost_s,) * n_phases if isinstance(lost_s, int) else lost_s
    min_green = int(params.min_green_s)
    stages: list[tuple[int, int]] = []
    for p in range(n_phases):
        if p == current:
            options = [g for g in (int(params.decide_every_s), 6, 12, 20, 30, 45) if g <= room_s]
        else:
            options = [g for g in (min_green, 10, 20, 30, 45) if min_green <= g <= params.max_green_s]
        options = [g for g in options if g < horizon - lost_after[current]] or options[:1]
        stages += [(p, g) for g in sorted(set(options))]
    froms: list[np.ndarray] = []
    tos: list[np.ndarray] = []
    owner: list[int] = []
    for k, (p, g) in enumerate(stages):
        for q in range(n_phases):
            if q == p:
                continue
            a = np.full(horizon, q, dtype=np.int64)
            b = np.full(horizon, q, dtype=np.int64)
            t = 0
            if p != current:
                t = lost_after[current]
                a[:t] = current
                b[:t] = p
            a[t : t + g] = p
            b[t : t + g] = p
            t += g
            a[t : t + lost_after[p]] = p
            b[t : t + lost_after[p]] = q
            froms.append(a)
            tos.append(b)
            owner.append(k)
    return tuple(stages), np.array(froms), np.array(tos), np.array(owner)


def choose_plan(row_owner: np.ndarray, row_cost: np.ndarray, stage_feasible: np.ndarray) -> int:
    """The plan as a shortest path (OR-Tools min-cost flow): source -> first stage -> sink, one arc
    per (first stage, second phase) carrying that plan's predicted cost; infeasible first stages
    get no arc from the source. Returns the chosen plan row."""
    n = int(stage_feasible.size)
    stages = np.flatnonzero(stage_feasible).astype(np.int32)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.zeros(stages.size, dtype=np.int32),
        stages + 1,
        np.ones(stages.size, dtype=np.int64),
        np.zeros(stages.size, dtype=np.int64),
    )
    scaled = np.round(10.0 * (row_cost - row_cost.min()))
    scaled = np.minimum(scaled, 10**9).astype(np.int64) * row_cost.size + np.arange(row_cost.size)
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        (row_owner + 1).astype(np.int32),
        np.full(row_owner.size, n + 1, dtype=np.int32),
        np.ones(row_owner.size, dtype=np.int64),
        scaled,
    )
    flow.set_node_supply(0, 1)
    flow.set_node_supply(n + 1, -1)
    if flow.solve() != flow.OPTIMAL:
        masked = np.where(stage_feasible[row_owner], row_cost, np.inf)
        return int(np.argmin(masked))
    used = flow.flows(arcs)
    return int(np.argmax(used))


def main_phases(green_states: list[str], durations_s: list[float], min_green_s: float) -> np.ndarray:
    """Which green phases the controller may choose: those the program holds for at least
    ``min_green_s`` (shorter ones are overlaps between two main phases), plus, for any link that is
    green only in short phases, the longest of them, so that every stream keeps a green."""
    dur = np.asarray(durations_s, dtype=float)
    keep = dur >= min_green_s
    if not keep.any():
        keep[:] = True
    for link in range(len(green_states[0]) if green_states else 0):
        greens = [q for q, state in enumerate(green_states) if state[link] in "Gg"]
        if greens and not keep[greens].any():
            keep[max(greens, key=lambda q: dur[q])] = True
    return keep


def starving_phase(
    served: np.ndarray, main: np.ndarray, lane_red_s: np.ndarray, waiting: np.ndarray, max_red_s: float
) -> int | None:
    """Starvation guard per lane: among lanes with vehicles waiting that have been red for at least
    ``max_red_s``, the main phase that serves most of their red time (None if no lane starves)."""
    lanes = (lane_red_s >= max_red_s) & waiting
    if not lanes.any():
        return None
    score = np.where(main, served[:, lanes] @ lane_red_s[lanes], 0.0)
    return int(np.argmax(score)) if score.max() > 0 else None


def dominated_phases(
    green_states: list[str], durations_s: list[float], clearance_s: list[float], lost_share: float = 0.75
) -> np.ndarray:
    """Green states not worth their clearance: their streams another green state (held at least as
    long by the program) serves too, and the yellow and all-red they add cost at least
    ``lost_share`` of the green the program gives them (e.g. a 6 s protected left with a 5 s
    yellow whose streams the main phase serves permissively). A long main phase is never
    dominated by a short overlap phase that adds streams to it."""
    sets = [frozenset(i for i, c in enumerate(s) if c in GREEN) for s in green_states]
    dur = list(durations_s)
    return np.array(
        [
            clearance_s[p] >= lost_share * dur[p]
            and any(a < b and dur[q] >= dur[p] for q, b in enumerate(sets))
            for p, a in enumerate(sets)
        ]
    )


class _Node:
    """Runtime state of one intersection."""

    def __init__(self, inter: Intersection, driver: PhaseDriver, detectors: list[ApproachDetectors]):
        self.inter = inter
        self.driver = driver
        self.e2 = [e2 for d in detectors for e2 in d.e2_ids]  # flat, lane by lane, nearest first
        n_seg = max(len(d.e2_ids) for d in detectors)
        self.e2_slot = np.array(
            [i * n_seg + j for i, d in enumerate(detectors) for j in range(len(d.e2_ids))]
        )
        # segment bounds [lanes, segments + 1] (distance from the stop line), padded with empty segments
        self.edges_m = np.array([[*d.edges_m, *[d.edges_m[-1]] * (n_seg - len(d.e2_ids))] for d in detectors])
        self.det_len_m = self.edges_m[:, -1]
        self.n_seg = n_seg
        self.e1 = [d.e1_id for d in detectors]
        self.far_e2 = [d.e2_ids[-1] for d in detectors]
        self.far_slot = np.array([i * n_seg + len(d.e2_ids) - 1 for i, d in enumerate(detectors)])
        self.demand_veh_s = np.zeros(len(detectors))  # entry rate seen while the far segment flowed
        self.hidden_veh = np.zeros(len(detectors))  # estimated queue beyond the detectors
        self.far_len_m = np.array([d.edges_m[-1] - d.edges_m[-2] for d in detectors])
        self.plan_mode = False
        self.jam_since_s: float | None = None
        self.clear_since_s: float | None = None
        self.next_jam_check_s = 0.0
        self.plan_cycle_s = 0.0
        self.plan_t0_s = 0.0
        self.plan_ends_s = np.zeros(0)  # cumulative end of each program phase within the cycle
        self.plan_target = np.zeros(0, dtype=np.int64)  # main green phase to show in each program phase
        self.main = np.ones(inter.n_phases, dtype=bool)
        chains = inter.approach_lengths_m or [[float(x)] for x in inter.lane_length_m]
        self.approach_m = np.array([sum(c) for c in chains])
        self.rate_veh_s = np.zeros(len(detectors))
        self.last_count = np.zeros(len(detectors))
        self.last_read_s = -1.0
        self.next_decision_s = 0.0
        self.lane_green_s = np.zeros(len(detectors))  # when each incoming lane last had a green
        self.upstream: list[list[tuple[_Node, int, float]]] = [[] for _ in detectors]


class KnotenController(Controller):
    """Adaptive control from detector data with an OR-Tools model per intersection and decision."""

    name: ClassVar[str] = "knoten"
    adaptive: ClassVar[bool] = True

    def __init__(self, params: KnotenParams | None = None) -> None:
        super().__init__()
        self.params = params or KnotenParams()
        self.nodes: list[_Node] = []
        self._detectors: dict[str, ApproachDetectors] = {}
        self._outflow: dict[str, tuple[float, np.ndarray]] = {}  # out lane -> (t0, veh/s profile)
        self._lane_length_m: dict[str, float] = {}
        self._down_key: dict[str, str] = {}  # exit lane -> outflow key of the signal it leads to

    def prepare(self, ctx: RunContext) -> list[Path]:
        """Take parameter overrides from the run spec; write the detector file the controller reads."""
        overrides = {f.name: ctx.params[f.name] for f in fields(KnotenParams) if f.name in ctx.params}
        if overrides:  # settings from the run spec (experiments), typed like the defaults
            typed = {k: type(getattr(self.params, k))(v) for k, v in overrides.items()}
            self.params = replace(self.params, **typed)
        path = ctx.workdir / "knoten.det.xml"
        self._detectors = write_detector_file(
            path, ctx.intersections, self.params.detector_range_m, self.params.detector_segment_m
        )
        return [path]

    def start(self, sim: Any, ctx: RunContext) -> None:
        """Compile the queue model, then set up one decision node per intersection."""
        one = np.zeros((1, 1))
        _queue_loop()(np.zeros((1, 1, 1)), np.zeros(1), one, 0.0, np.zeros(1), one)  # compile before timing
        now = float(sim.simulation.getTime())
        by_in_lane: dict[str, tuple[_Node, int]] = {}
        for inter in ctx.intersections:
            anchor = (
                int(sim.trafficlight.getPhase(inter.tls_id)),
                float(sim.trafficlight.getNextSwitch(inter.tls_id)),
            )
            box = junction_box_lanes(sim, inter.tls_id) if self.params.clear_junction else None
            foes = (
                junction_box_foes(sim, inter.tls_id, box) if box and self.params.box_conflicts_only else None
            )
            driver = PhaseDriver(inter, now, box, box_foes=foes)
            driver.start(sim, 0, now)
            node = _Node(inter, driver, [self._detectors[lane] for lane in inter.in_lanes])
            node.lane_green_s[:] = now
            if self.params.skip_short_phases:
                node.main = main_phases(inter.green_states, inter.green_durations_s, self.params.min_green_s)
            if self.params.skip_subset_phases:
                clear = [sum(inter.clearance_s(q)) for q in range(inter.n_phases)]
                node.main &= ~dominated_phases(inter.green_states, inter.green_durations_s, clear)
            self._anchor_plan(node, anchor, now)
            self.nodes.append(node)
            for i, lane in enumerate(inter.in_lanes):
                by_in_lane[lane] = (node, i)
        for node in self.nodes:  # coordination links: our exit lane is a neighbour's approach
            for lane_idx, outs in enumerate(node.inter.link_out_lanes):
                for out in outs:
                    if out in by_in_lane:
                        down, down_idx = by_in_lane[out]
                        self._down_key[out] = f"{down.inter.tls_id}#{down_idx}"
                        share = 1.0 / max(1, len(outs))
                        down.upstream[down_idx].append((node, lane_idx, share))

    def _anchor_plan(self, node: _Node, anchor: tuple[int, float], now_s: float) -> None:
        """The program's schedule on the simulation clock (its offsets kept), for the plan mode."""
        inter = node.inter
        dur = np.array([ph.duration_s for ph in inter.phases])
        node.plan_cycle_s = float(dur.sum())
        node.plan_ends_s = np.cumsum(dur)
        idx, next_switch = anchor
        pos = float(node.plan_ends_s[idx]) - (next_switch - now_s)
        node.plan_t0_s = now_s - pos
        n = len(inter.phases)
        target = np.zeros(n, dtype=np.int64)
        for i in range(n):  # yellow, red and overlap phases lead to the next main green
            for k in range(n):
                state = inter.phases[(i + k) % n].state
                if state in inter.green_states and node.main[inter.green_states.index(state)]:
                    target[i] = inter.green_states.index(state)
                    break
        node.plan_target = target

    def _plan_phase(self, node: _Node, now_s: float) -> int:
        pos = (now_s - node.plan_t0_s) % max(node.plan_cycle_s, 1e-9)
        i = int(np.searchsorted(node.plan_ends_s, pos, side="right"))
        return int(node.plan_target[min(i, node.plan_target.size - 1)])

    def _update_mode(self, sim: Any, node: _Node, now_s: float) -> None:
        """Oversaturation (most approaches queued beyond detector range for a while) hands the
        intersection to the program's coordinated schedule; it comes back once the queues clear."""
        p = self.params
        if now_s < node.next_jam_check_s:
            return
        node.next_jam_check_s = now_s + 5.0
        halt = np.array([sim.lanearea.getLastStepHaltingNumber(e) for e in node.far_e2], dtype=float)
        jam_share = float(np.mean(halt * VEHICLE_SPACING_M >= 0.7 * node.far_len_m))
        if jam_share >= p.plan_jam_share:
            node.clear_since_s = None
            node.jam_since_s = now_s if node.jam_since_s is None else node.jam_since_s
            if now_s - node.jam_since_s >= p.plan_enter_s:
                node.plan_mode = True
        else:
            node.jam_since_s = None
            node.clear_since_s = now_s if node.clear_since_s is None else node.clear_since_s
            if now_s - node.clear_since_s >= p.plan_leave_s:
                node.plan_mode = False

    def _length(self, sim: Any, lane: str) -> float:
        if lane not in self._lane_length_m:
            self._lane_length_m[lane] = float(sim.lane.getLength(lane))
        return self._lane_length_m[lane]

    def _count_hidden(self, node: _Node, halt_seg: np.ndarray, passed: np.ndarray, dt: float) -> None:
        """Queue beyond the detectors from counts: while the far segment is jammed, vehicles keep
        arriving at the rate seen before the jam and only those counted at the far loop move up."""
        far_len = np.maximum(node.far_len_m, 1.0)
        jammed = halt_seg[node.far_slot] * VEHICLE_SPACING_M >= 0.7 * far_len
        node.demand_veh_s = np.where(jammed, node.demand_veh_s, node.rate_veh_s)
        grow = node.hidden_veh + node.demand_veh_s * dt - passed
        cap = np.maximum(0.0, node.approach_m - node.det_len_m) / VEHICLE_SPACING_M + 50.0
        node.hidden_veh = np.where(jammed, np.clip(grow, 0.0, cap), 0.0)

    def _observe(self, sim: Any, node: _Node, now_s: float) -> LaneForecast:
        p = self.params
        inter = node.inter
        n = len(node.e1)
        halt_seg = np.zeros(n * node.n_seg)
        count_seg = np.zeros(n * node.n_seg)
        halt_seg[node.e2_slot] = [sim.lanearea.getLastStepHaltingNumber(d) for d in node.e2]
        count_seg[node.e2_slot] = [sim.lanearea.getLastStepVehicleNumber(d) for d in node.e2]
        halt = halt_seg.reshape(n, node.n_seg).sum(axis=1)
        moving = np.maximum(0.0, count_seg - halt_seg).reshape(n, node.n_seg)
        entered = np.array([sim.inductionloop.getIntervalVehicleNumber(d) for d in node.e1], dtype=float)
        if node.last_read_s >= 0:
            dt = max(1.0, now_s - node.last_read_s)
            diff = np.maximum(0.0, entered - node.last_count)
            alpha = 1.0 - np.exp(-dt / p.arrival_smoothing_s)
            node.rate_veh_s += alpha * (diff / dt - node.rate_veh_s)
            if p.hidden_queue:
                self._count_hidden(node, halt_seg, diff, dt)
        node.last_count = entered
        node.last_read_s = now_s
        speed = np.maximum(1.0, inter.lane_speed_mps * p.approach_speed_factor)
        # moving vehicles of each segment reach the back of the queue spread over the segment's span
        queue_m = np.minimum(halt * VEHICLE_SPACING_M, node.det_len_m)
        t_seg = np.maximum(0.0, node.edges_m - queue_m[:, None]) / speed[:, None]  # [lanes, seg + 1]
        t0, t1 = t_seg[:, :-1], np.maximum(t_seg[:, 1:], t_seg[:, :-1] + 1.0)
        t_end = np.maximum(1.0, node.det_len_m / speed)
        t_full = np.maximum(t_end, node.approach_m / speed)
        horizon = max(p.horizon_s, p.max_horizon_s)
        times = np.arange(1, horizon + 1, dtype=float)
        share = np.clip((times[None, None, :] - t0[:, :, None]) / (t1 - t0)[:, :, None], 0.0, 1.0)
        cum = np.einsum("ls,lst->lt", moving, share)
        cum += node.rate_veh_s[:, None] * np.clip(times[None, :] - t_end[:, None], 0.0, None)
        arrivals = np.diff(np.concatenate([np.zeros((n, 1)), cum], axis=1), axis=1)
        for i, ups in enumerate(node.upstream):  # exchanged outflow predictions of neighbours
            if not ups:
                continue
            predicted = np.zeros(horizon)
            for up, up_lane, share in ups:
                entry = self._outflow.get(f"{up.inter.tls_id}#{up_lane}")
                if entry is None:
                    continue
                t_pub, profile = entry
                shift = round(t_full[i] - (now_s - t_pub))
                for k in range(horizon):
                    src = k - shift
                    if 0 <= src < profile.size:
                        predicted[k] += share * profile[src]
            start = int(np.ceil(t_full[i]))
            if start < horizon:
                arrivals[i, start:] = predicted[start:]
        blocked = np.zeros(n)  # exits whose queue reaches back to their entry cannot take vehicles
        for i, outs in enumerate(inter.link_out_lanes):
            if outs:
                full = [
                    sim.lane.getLastStepHaltingNumber(o) * VEHICLE_SPACING_M
                    >= self._length(sim, o) - VEHICLE_SPACING_M
                    for o in outs
                ]
                blocked[i] = float(np.mean(full))
        if not p.capacity_aware:
            return LaneForecast(halt + node.hidden_veh, arrivals, blocked)
        room, drain = self._exit_room(sim, inter, now_s, horizon)
        return LaneForecast(halt + node.hidden_veh, arrivals, np.zeros(n), room, drain)

    def _exit_room(
        self, sim: Any, inter: Intersection, now_s: float, horizon: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per incoming lane: free storage on its exits (vehicles) and the predicted departures from
        them per second (a signalised exit: its intersection's published discharge; else the
        saturation flow)."""
        n = len(inter.in_lanes)
        room = np.full(n, 1e9)
        drain = np.zeros((n, horizon))
        free = self.params.saturation_veh_s_lane
        for i, outs in enumerate(inter.link_out_lanes):
            if not outs:
                continue
            r = np.zeros(len(outs))
            for j, o in enumerate(outs):
                r[j] = max(
                    0.0, self._length(sim, o) / VEHICLE_SPACING_M - sim.lane.getLastStepVehicleNumber(o)
                )
                entry = self._outflow.get(self._down_key.get(o, ""))
                if entry is None:
                    drain[i] += free / len(outs)
                    continue
                t_pub, profile = entry
                shift = round(now_s - t_pub)
                part = np.full(horizon, float(profile.mean()) if profile.size else free)
                avail = profile[shift : shift + horizon]
                part[: avail.size] = avail
                drain[i] += part / len(outs)
            room[i] = float(r.mean())
        return room, drain

    def _decide(self, sim: Any, node: _Node, now_s: float) -> None:
        p = self.params
        inter = node.inter
        d = node.driver
        forecast = self._observe(sim, node, now_s)
        clear_s = [sum(inter.clearance_s(q)) for q in range(inter.n_phases)]
        lost_s = clear_s[d.current]
        room = int(max(0.0, p.max_green_s - d.green_elapsed_s(now_s)))
        lost_after = tuple(round(c + p.startup_lost_s) for c in clear_s)
        served_rate = inter.served * p.saturation_veh_s_lane
        horizon = p.horizon_s
        if p.max_horizon_s > p.horizon_s:  # look further ahead when clearing the queues takes longer
            clear = np.where(
                served_rate > 0, forecast.queue_veh[None, :] / np.maximum(served_rate, 1e-9), 0.0
            )
            cycle = float(clear.max(axis=1).sum()) + sum(lost_after)
            horizon = int(min(p.max_horizon_s, max(p.horizon_s, 10 * np.ceil(cycle / 10))))
        stages, froms, tos, owner = candidate_plans(inter.n_phases, d.current, room, lost_after, p, horizon)
        forecast = replace(forecast, arrivals_veh=forecast.arrivals_veh[:, :horizon])
        cost, out = simulate_plans(served_rate, forecast, froms, tos, p.terminal_weight_s)
        switch = np.array([st[0] != d.current for st in stages])
        cost = cost + 0.5 * switch[owner]  # ties: keep the green
        cost = np.where(node.main[froms[:, -1]], cost, 1e12)  # plans going on to an overlap phase
        demand = inter.served > 0
        has_demand = (demand @ (forecast.queue_veh + forecast.arrivals_veh[:, :10].sum(axis=1))) > 0
        first = np.array([s[0] for s in stages])
        feasible = node.main[first] | (first == d.current)
        must = self._starving(node, forecast, has_demand, now_s, lost_s)
        if must is not None:
            feasible = first == must
        if not feasible.any():
            feasible = np.array([s[0] != d.current for s in stages])
        row = choose_plan(owner, cost, feasible)
        phase, _green_s = stages[owner[row]]
        profile = out[row]
        for lane in range(profile.shape[0]):
            self._outflow[f"{inter.tls_id}#{lane}"] = (now_s, profile[lane])
        if phase == d.current:
            node.next_decision_s = now_s + p.decide_every_s
        else:
            d.request(sim, phase, now_s)
            node.next_decision_s = now_s + lost_s + p.min_green_s

    def _starving(
        self, node: _Node, forecast: LaneForecast, has_demand: np.ndarray, now_s: float, lost_s: float
    ) -> int | None:
        """The main phase that must come next because a stream has been red for ``max_red_s``: per
        lane with vehicles waiting (the phase serving most of the starving lanes' waiting time), or,
        with ``starvation_per_lane`` off, per phase with demand. None if nothing starves."""
        p = self.params
        d = node.driver
        if not p.starvation_per_lane:
            red = d.red_time_s(now_s) + lost_s
            starving = np.flatnonzero((red >= p.max_red_s) & has_demand & node.main)
            return int(starving[np.argmax(red[starving])]) if starving.size else None
        waiting = (forecast.queue_veh + forecast.arrivals_veh[:, :10].sum(axis=1)) > 0
        lane_red = now_s - node.lane_green_s + lost_s
        return starving_phase(node.inter.served, node.main, lane_red, waiting, p.max_red_s)

    def step(self, sim: Any, now_s: float) -> None:
        """Advance every intersection by one simulation step, deciding where a decision is due."""
        p = self.params
        for node in self.nodes:
            d = node.driver
            if not d.tick(sim, now_s):
                continue
            node.lane_green_s[node.inter.served[d.current] > 0] = now_s
            if p.plan_jam_share <= 1.0:
                self._update_mode(sim, node, now_s)
            if node.plan_mode:
                d.request(sim, self._plan_phase(node, now_s), now_s)
                continue
            if now_s < node.next_decision_s or d.green_elapsed_s(now_s) < p.min_green_s:
                continue
            t0 = time.thread_time()
            self._decide(sim, node, now_s)
            self.decision_times_s.append(time.thread_time() - t0)
