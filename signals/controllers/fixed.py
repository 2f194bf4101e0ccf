"""Controllers that hand the signals to SUMO: the net's static program, SUMO's actuated control
derived from it, a Webster fixed-time plan from measured flows, or a given plan file."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from signals.controllers.base import Controller, RunContext
from signals.errors import ControllerError
from signals.network import is_green_phase
from signals.sumo_io import write_tllogic_file
from signals.timing import plan_phases, webster_plan

ACTUATED_MIN_GREEN_S = 5.0
ACTUATED_MAX_GREEN_S = 50.0


class StaticController(Controller):
    """The programs as loaded from the net and additional files."""

    name: ClassVar[str] = "static"


class ActuatedController(Controller):
    """SUMO's gap-based actuated control on the static program's phases (SUMO places the loops).

    Green phases get ``minDur``/``maxDur`` from the program when it has them, else 5 s and
    ``max(50 s, duration)``; transitions stay fixed.
    """

    name: ClassVar[str] = "actuated"

    def prepare(self, ctx: RunContext) -> list[Path]:
        """Write the actuated programs (the static phases with min/max durations) as a tlLogic file."""
        programs = {}
        for inter in ctx.intersections:
            phases = []
            for ph in inter.phases:
                if is_green_phase(ph.state):
                    if ph.min_dur_s < ph.max_dur_s:
                        lo, hi = ph.min_dur_s, ph.max_dur_s
                    else:
                        lo = min(ACTUATED_MIN_GREEN_S, ph.duration_s)
                        hi = max(ACTUATED_MAX_GREEN_S, ph.duration_s)
                    phases.append((ph.duration_s, ph.state, lo, hi))
                else:
                    phases.append((ph.duration_s, ph.state, ph.duration_s, ph.duration_s))
            programs[inter.tls_id] = ("knoten_actuated", 0.0, phases)
        return [write_tllogic_file(ctx.workdir / "actuated.tll.xml", programs, kind="actuated")]


class WebsterController(Controller):
    """Fixed time: per intersection, Webster's cycle and LP-optimised splits from measured flows."""

    name: ClassVar[str] = "webster"
    needs_flows: ClassVar[bool] = True

    def prepare(self, ctx: RunContext) -> list[Path]:
        """Write each intersection's Webster plan (from the measured flows) as a tlLogic file."""
        if ctx.flows_veh_h is None:
            raise ControllerError("webster needs measured flows (a calibration run)")
        programs = {}
        for inter in ctx.intersections:
            flows = np.array([ctx.flows_veh_h.get(lane, 0.0) for lane in inter.in_lanes])
            plan = webster_plan(inter, flows)
            programs[inter.tls_id] = ("knoten_webster", 0.0, plan_phases(inter, plan))
        return [write_tllogic_file(ctx.workdir / "webster.tll.xml", programs)]


class PlanController(Controller):
    """Fixed time from a given ``tlLogic`` additional file (``params['plan_file']``)."""

    name: ClassVar[str] = "plan"

    def prepare(self, ctx: RunContext) -> list[Path]:
        """The given plan file, unchanged."""
        plan = ctx.params.get("plan_file")
        if not plan or not Path(plan).is_file():
            raise ControllerError(f"plan controller: plan file not found: {plan}")
        return [Path(plan)]
