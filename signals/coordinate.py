"""Coordinated fixed-time plans: measured flows -> coordinated plan -> SUMO ``tlLogic`` file."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from signals.evaluate import Job, Progress, _calibrate, flows_file, run_jobs
from signals.executor import Executor, LocalExecutor
from signals.network import Intersection
from signals.runner import RunSpec
from signals.scenario import Scenario
from signals.sumo_io import (
    base_options,
    probe_intersections,
    redirect_additional_outputs,
    write_tllogic_file,
)
from signals.timing import FixedPlan, Link, coordinate_offsets, plan_phases, webster_plan

PROGRAM_ID = "knoten_optimised"


def coordinated_plans(
    inters: list[Intersection], flows_veh_h: dict[str, float], max_cycle_s: int = 120
) -> list[FixedPlan]:
    """Webster splits on a common cycle plus CP-SAT offsets along the flow-weighted links between
    neighbouring signals (an exit lane of one is an approach lane of the other)."""
    lane_flows = [np.array([flows_veh_h.get(x, 0.0) for x in i.in_lanes]) for i in inters]
    own = [webster_plan(i, f, max_cycle_s=max_cycle_s) for i, f in zip(inters, lane_flows, strict=True)]
    common = max((p.cycle_s for p in own), default=60)
    plans: list[FixedPlan] = []
    for inter, flows, plan in zip(inters, lane_flows, own, strict=True):
        try:
            plans.append(webster_plan(inter, flows, cycle_s=common))
        except ValueError:
            plans.append(plan)
    where = {lane: (k, li) for k, inter in enumerate(inters) for li, lane in enumerate(inter.in_lanes)}
    links: list[Link] = []
    for u, inter in enumerate(inters):
        for li, outs in enumerate(inter.link_out_lanes):
            if inter.served[:, li].max() <= 0:
                continue
            up_phase = int(np.argmax(inter.served[:, li]))
            for out in outs:
                if out not in where:
                    continue
                d, dl = where[out]
                down = inters[d]
                if down.served[:, dl].max() <= 0 or d == u:
                    continue
                travel = float(down.lane_length_m[dl] / max(1.0, down.lane_speed_mps[dl]))
                weight = flows_veh_h.get(out, 0.0) / max(1, len(outs))
                links.append(Link(u, up_phase, d, int(np.argmax(down.served[:, dl])), travel, weight))
    same_cycle = [p for p in plans if p.cycle_s == common]
    if len(same_cycle) == len(plans):
        return coordinate_offsets(plans, inters, links)
    return plans


def write_plan_file(path: Path, inters: list[Intersection], plans: list[FixedPlan]) -> Path:
    """The plans as a SUMO additional file (one ``tlLogic`` per signal, program ``knoten_optimised``)."""
    programs = {
        inter.tls_id: (PROGRAM_ID, float(plan.offset_s), plan_phases(inter, plan))
        for inter, plan in zip(inters, plans, strict=True)
    }
    return write_tllogic_file(path, programs)


def optimise(
    scenario: Scenario,
    plan_file: Path,
    out_dir: Path,
    seeds: Sequence[int],
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Measure flows (static programs), build the coordinated plan, write it, and evaluate it
    against the original programs over ``seeds``."""
    import libsumo

    executor = executor or LocalExecutor(1)
    out_dir.mkdir(parents=True, exist_ok=True)
    flows_path = flows_file(out_dir, scenario)
    if not flows_path.is_file():
        spec = RunSpec(scenario, "static", 0, out_dir / "calibration.xml", flows_path)
        executor.map(_calibrate, [spec])
    flows = json.loads(flows_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="knoten-opt-") as tmp:
        adds = [redirect_additional_outputs(p, Path(tmp)) for p in scenario.additional_files]
        inters = probe_intersections(
            libsumo, base_options(scenario, Path(tmp), adds, end_s=scenario.begin_s + 1)
        )
    plans = coordinated_plans(inters, flows)
    plan_file.parent.mkdir(parents=True, exist_ok=True)
    write_plan_file(plan_file, inters, plans)
    jobs = [
        Job(scenario, "static", out_dir),
        Job(scenario, "plan", out_dir, {"plan_file": str(plan_file.resolve())}),
    ]
    original, optimised = run_jobs(jobs, seeds, executor, progress)
    d0 = original["aggregate"]["delay_s"]["mean"]
    d1 = optimised["aggregate"]["delay_s"]["mean"]
    result = {
        "scenario": scenario.name,
        "plan_file": str(plan_file),
        "cycle_s": sorted({p.cycle_s for p in plans}),
        "signals": len(plans),
        "original_delay_s": d0,
        "original_delay_ci95_s": original["aggregate"]["delay_s"]["ci95"],
        "optimised_delay_s": d1,
        "optimised_delay_ci95_s": optimised["aggregate"]["delay_s"]["ci95"],
        "change": (d1 - d0) / d0 if d0 else None,
        "original_arrived": original["aggregate"]["arrived"]["mean"],
        "optimised_arrived": optimised["aggregate"]["arrived"]["mean"],
    }
    (out_dir / f"{scenario.name}.optimise.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result
