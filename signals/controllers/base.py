"""Controller interface, run context and the phase driver shared by the adaptive controllers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from signals.network import Intersection, transition_state
from signals.scenario import Scenario


@dataclass
class RunContext:
    """What a controller may know before the simulation starts."""

    scenario: Scenario
    workdir: Path
    intersections: list[Intersection]
    seed: int
    flows_veh_h: dict[str, float] | None = None  # measured lane flows (fixed-time plans only)
    params: dict[str, Any] = field(default_factory=dict)


class Controller:
    """A signal controller: optional extra SUMO additionals, then a hook called every step."""

    name: ClassVar[str] = ""
    needs_flows: ClassVar[bool] = False
    adaptive: ClassVar[bool] = False

    def __init__(self) -> None:
        self.decision_times_s: list[float] = []

    def prepare(self, ctx: RunContext) -> list[Path]:
        """Write additional files the controller needs loaded; return their paths."""
        return []

    def start(self, sim: Any, ctx: RunContext) -> None:
        """Called once after SUMO started (``sim`` is the libsumo module)."""

    def step(self, sim: Any, now_s: float) -> None:
        """Called after every simulation step."""


class PhaseDriver:
    """Drives one intersection through green phases with yellow and all-red transitions.

    The controller asks for a green phase; the driver inserts the transition and tracks elapsed
    green and how long every phase has been red. The clearance is the site's, not the
    controller's: when green ``A`` ends, the streams losing green get the yellow the program shows
    after ``A``, then the program's all-red after it (:meth:`Intersection.clearance_s`).

    With ``box_lanes`` (per controlled link, the junction-internal lanes a vehicle on that link
    drives through) the all-red is extended, by at most ``max_clearance_s``, while vehicles of links
    that turn red are still waiting inside the junction (e.g. left turners that gave way to
    oncoming traffic): the next phase starts only once they have left,
    so that they cannot lock up with the newly released streams.
    """

    def __init__(
        self,
        inter: Intersection,
        now_s: float,
        box_lanes: list[list[str]] | None = None,
        max_clearance_s: float = 10.0,
        box_foes: list[frozenset[int]] | None = None,
    ) -> None:
        self.inter = inter
        self.all_red_s = 0.0  # of the transition under way
        self.box_lanes = box_lanes
        self.box_foes = box_foes
        self.max_clearance_s = max_clearance_s
        self.red_since_s = now_s
        self.current = 0
        self.target = 0
        self.mode = "G"
        self.mode_until_s = now_s
        self.green_start_s = now_s
        self.last_green_s = np.full(inter.n_phases, now_s)
        self._state = ""

    def apply(self, sim: Any) -> None:
        """Push the current signal state to SUMO (only when it changed)."""
        greens = self.inter.green_states
        if self.mode == "G":
            state = greens[self.current]
        elif self.mode == "Y":
            state = transition_state(greens[self.current], greens[self.target], "y")
        else:
            state = transition_state(greens[self.current], greens[self.target], "r")
        if state != self._state:
            sim.trafficlight.setRedYellowGreenState(self.inter.tls_id, state)
            self._state = state

    def start(self, sim: Any, phase: int, now_s: float) -> None:
        """Begin in green ``phase``."""
        self.current = self.target = phase
        self.mode = "G"
        self.green_start_s = now_s
        self.apply(sim)

    def green_elapsed_s(self, now_s: float) -> float:
        """Seconds the current green has lasted (0 outside green)."""
        return now_s - self.green_start_s if self.mode == "G" else 0.0

    def red_time_s(self, now_s: float) -> np.ndarray:
        """Seconds since each phase last showed green (0 for the phase now green)."""
        red = now_s - self.last_green_s
        if self.mode == "G":
            red[self.current] = 0.0
        return red

    def request(self, sim: Any, phase: int, now_s: float) -> None:
        """Switch to ``phase`` (through yellow and all-red); no-op if it is already green."""
        if self.mode != "G" or phase == self.current:
            return
        self.target = phase
        self.last_green_s[self.current] = now_s
        self.mode = "Y"
        yellow_s, self.all_red_s = self.inter.clearance_s(self.current)
        self.mode_until_s = now_s + yellow_s
        self.apply(sim)

    def _box_occupied(self, sim: Any) -> bool:
        """Vehicles of links that lose their green are still standing inside the junction (with
        ``box_foes``: only where their path crosses a link the next phase releases)."""
        if not self.box_lanes:
            return False
        old, new = self.inter.green_states[self.current], self.inter.green_states[self.target]
        gaining = {j for j, c in enumerate(new) if c in "Gg" and old[j] not in "Gg"}
        for i, lanes in enumerate(self.box_lanes):
            losing = i < len(old) and old[i] in "Gg" and new[i] not in "Gg"
            if not losing or (self.box_foes is not None and not (self.box_foes[i] & gaining)):
                continue
            if any(sim.lane.getLastStepHaltingNumber(lane) for lane in lanes):
                return True
        return False

    def tick(self, sim: Any, now_s: float) -> bool:
        """Advance transitions; return True if the intersection is in green and may decide."""
        if self.mode == "Y" and now_s >= self.mode_until_s:
            self.mode = "R"
            self.red_since_s = now_s
            self.mode_until_s = now_s + self.all_red_s
        if self.mode == "R" and now_s >= self.mode_until_s:
            waited = now_s - self.red_since_s - self.all_red_s
            if waited >= self.max_clearance_s or not self._box_occupied(sim):
                self.mode = "G"
        if self.mode == "G" and self.current != self.target:
            self.current = self.target
            self.green_start_s = now_s
        self.apply(sim)
        return self.mode == "G"
