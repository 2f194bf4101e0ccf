"""Max-pressure control (Varaiya 2013) as RESCO runs it: pressure over the whole approach, a
decision every 10 s after a 10 s minimum green, a maximum red, and the program's own clearances."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np

from signals.controllers.base import Controller, PhaseDriver, RunContext
from signals.network import GREEN, Intersection
from signals.sumo_io import approach_ranges


def maximal_phases(green_states: list[str]) -> np.ndarray:
    """Green states that are not a strict subset of another one (protected-left phases whose
    streams another phase also serves are skipped)."""
    sets = [frozenset(i for i, c in enumerate(s) if c in GREEN) for s in green_states]
    return np.array([not any(a < b for b in sets) for a in sets])


def phase_pressure(
    green_states: list[str], link_in: np.ndarray, link_out: np.ndarray, n_in: np.ndarray, n_out: np.ndarray
) -> np.ndarray:
    """Pressure of every green state: over the incoming lanes with a green link, the vehicles on the
    lane's approach minus the mean of the vehicles on the exits of its green links.

    ``link_in``/``link_out`` map each link to an index into ``n_in``/``n_out`` (-1: none).
    """
    pressure = np.zeros(len(green_states))
    for p, state in enumerate(green_states):
        exits: dict[int, list[float]] = {}
        for i, c in enumerate(state[: link_in.size]):
            if c in GREEN and link_in[i] >= 0:
                exits.setdefault(int(link_in[i]), []).append(
                    float(n_out[link_out[i]]) if link_out[i] >= 0 else 0.0
                )
        pressure[p] = sum(n_in[lane] - np.mean(outs) for lane, outs in exits.items())
    return pressure


def max_pressure_choice(
    pressure: np.ndarray,
    demand: np.ndarray,
    allowed: np.ndarray,
    current: int,
    red_s: np.ndarray,
    max_red_s: float,
) -> int:
    """The allowed phase with the largest pressure; an allowed phase red for at least ``max_red_s``
    with demand is served first (the longest red). Ties keep the current phase."""
    starving = np.flatnonzero(allowed & (red_s >= max_red_s) & (demand > 0))
    if starving.size:
        return int(starving[np.argmax(red_s[starving])])
    masked = np.where(allowed, pressure, -np.inf)
    if allowed[current] and masked[current] >= masked.max():
        return current
    return int(np.argmax(masked))


class MaxPressureController(Controller):
    """Decides every ``period_s`` once ``min_green_s`` has passed, over the program's maximal green
    states; vehicles counted within ``range_m`` of the stop line and of the exit lanes' start."""

    name: ClassVar[str] = "max-pressure"
    adaptive: ClassVar[bool] = True

    def __init__(
        self,
        period_s: float = 10.0,
        min_green_s: float = 10.0,
        max_red_s: float = 120.0,
        range_m: float = 200.0,
    ) -> None:
        super().__init__()
        self.period_s = period_s
        self.min_green_s = min_green_s
        self.max_red_s = max_red_s
        self.range_m = range_m
        self.drivers: list[PhaseDriver] = []
        self._allowed: list[np.ndarray] = []
        self._link_in: list[np.ndarray] = []
        self._link_out: list[np.ndarray] = []
        self._outs: list[list[str]] = []
        self._spans: dict[str, list[tuple[str, float]]] = {}

    def start(self, sim: Any, ctx: RunContext) -> None:
        """Take parameter overrides from the run spec and set up one phase driver per intersection."""
        for key in ("period_s", "min_green_s", "max_red_s", "range_m"):  # overrides from the run spec
            if key in ctx.params:
                setattr(self, key, float(ctx.params[key]))
        now = float(sim.simulation.getTime())
        self._spans = approach_ranges(sim, ctx.intersections, self.range_m)
        for inter in ctx.intersections:
            d = PhaseDriver(inter, now)
            allowed = maximal_phases(inter.green_states)
            d.start(sim, int(np.flatnonzero(allowed)[0]), now)
            self.drivers.append(d)
            self._allowed.append(allowed)
            outs = sorted({o for o in inter.link_out if o})
            self._outs.append(outs)
            self._link_in.append(np.asarray(inter.link_in))
            self._link_out.append(
                np.array([outs.index(o) if o else -1 for o in inter.link_out], dtype=np.int64)
            )

    def _count_in(self, sim: Any, lane: str) -> float:
        n = 0
        for x, from_pos in self._spans[lane]:
            if from_pos <= 0:
                n += sim.lane.getLastStepVehicleNumber(x)
            else:
                n += sum(
                    1 for v in sim.lane.getLastStepVehicleIDs(x) if sim.vehicle.getLanePosition(v) >= from_pos
                )
        return float(n)

    def _count_out(self, sim: Any, lane: str) -> float:
        ids = sim.lane.getLastStepVehicleIDs(lane)
        return float(sum(1 for v in ids if sim.vehicle.getLanePosition(v) <= self.range_m))

    def _decide(self, sim: Any, k: int, now_s: float) -> int:
        d = self.drivers[k]
        inter: Intersection = d.inter
        n_in = np.array([self._count_in(sim, x) for x in inter.in_lanes])
        n_out = np.array([self._count_out(sim, o) for o in self._outs[k]])
        pressure = phase_pressure(inter.green_states, self._link_in[k], self._link_out[k], n_in, n_out)
        demand = (inter.served > 0) @ n_in
        return max_pressure_choice(
            pressure, demand, self._allowed[k], d.current, d.red_time_s(now_s), self.max_red_s
        )

    def step(self, sim: Any, now_s: float) -> None:
        """At each decision time, give green to the phase with the highest pressure."""
        for k, d in enumerate(self.drivers):
            if not d.tick(sim, now_s):
                continue
            elapsed = d.green_elapsed_s(now_s)
            if elapsed < self.min_green_s or (elapsed - self.min_green_s) % self.period_s != 0:
                continue
            t0 = time.thread_time()
            choice = self._decide(sim, k, now_s)
            self.decision_times_s.append(time.thread_time() - t0)
            d.request(sim, choice, now_s)
