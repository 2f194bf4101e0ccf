"""Max-pressure control (Varaiya 2013) with minimum green, maximum red and fixed yellow."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np

from signals.controllers.base import Controller, PhaseDriver, RunContext
from signals.network import Intersection


def max_pressure_choice(
    served: np.ndarray, n_in: np.ndarray, n_out: np.ndarray, current: int, red_s: np.ndarray, max_red_s: float
) -> int:
    """Phase with the largest pressure sum(in - out) over the lanes it serves; a phase red for at
    least ``max_red_s`` (and with demand) is served first. Ties keep the current phase."""
    active = served > 0
    demand = active @ n_in
    starving = np.flatnonzero((red_s >= max_red_s) & (demand > 0))
    if starving.size:
        return int(starving[np.argmax(red_s[starving])])
    pressure = active @ (n_in - n_out)
    best = float(pressure.max())
    if pressure[current] >= best:
        return current
    return int(np.argmax(pressure))


class MaxPressureController(Controller):
    """Decides every ``period_s`` after ``min_green_s``; 3 s yellow; max red 120 s."""

    name: ClassVar[str] = "max-pressure"
    adaptive: ClassVar[bool] = True

    def __init__(
        self,
        period_s: float = 10.0,
        yellow_s: float = 3.0,
        min_green_s: float = 10.0,
        max_red_s: float = 120.0,
    ) -> None:
        super().__init__()
        self.period_s = period_s
        self.yellow_s = yellow_s
        self.min_green_s = min_green_s
        self.max_red_s = max_red_s
        self.drivers: list[PhaseDriver] = []
        self.out_lanes: list[list[list[str]]] = []

    def start(self, sim: Any, ctx: RunContext) -> None:
        now = float(sim.simulation.getTime())
        for inter in ctx.intersections:
            d = PhaseDriver(inter, self.yellow_s, 0.0, now)
            d.start(sim, 0, now)
            self.drivers.append(d)

    def _counts(self, sim: Any, inter: Intersection) -> tuple[np.ndarray, np.ndarray]:
        n_in = np.array([sim.lane.getLastStepVehicleNumber(x) for x in inter.in_lanes], dtype=float)
        n_out = np.array(
            [
                np.mean([sim.lane.getLastStepVehicleNumber(o) for o in outs]) if outs else 0.0
                for outs in inter.link_out_lanes
            ]
        )
        return n_in, n_out

    def step(self, sim: Any, now_s: float) -> None:
        for d in self.drivers:
            if not d.tick(sim, now_s):
                continue
            elapsed = d.green_elapsed_s(now_s)
            if elapsed < self.min_green_s or (elapsed - self.min_green_s) % self.period_s != 0:
                continue
            t0 = time.thread_time()
            n_in, n_out = self._counts(sim, d.inter)
            choice = max_pressure_choice(
                d.inter.served, n_in, n_out, d.current, d.red_time_s(now_s), self.max_red_s
            )
            self.decision_times_s.append(time.thread_time() - t0)
            d.request(sim, choice, now_s)
