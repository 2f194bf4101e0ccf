"""Run one scenario with one controller and one seed on libsumo, isolated in its own process.

:func:`run_isolated` starts ``python -m signals.runner`` with a JSON run spec, so every run gets a
fresh process (libsumo holds one simulation per process) no matter which executor schedules it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from signals.controllers import RunContext, make_controller
from signals.errors import SimulationError
from signals.kpis import tripinfo_kpis
from signals.network import Intersection
from signals.scenario import Scenario
from signals.sumo_io import (
    base_options,
    evaluation_options,
    probe_intersections,
    read_intersections,
    redirect_additional_outputs,
    sumo_binary,
)

QUEUE_SAMPLE_S = 10.0


@dataclass(frozen=True)
class RunSpec:
    """One simulation run (JSON-serialisable)."""

    scenario: Scenario
    controller: str
    seed: int
    tripinfo: Path
    flows_file: Path | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialise for a worker process."""
        doc = asdict(self)
        return json.dumps(doc, default=str)

    @staticmethod
    def from_json(text: str) -> RunSpec:
        """Inverse of :meth:`to_json`."""
        doc = json.loads(text)
        sc = doc["scenario"]
        scenario = Scenario(
            name=sc["name"],
            net_file=Path(sc["net_file"]),
            route_files=tuple(Path(p) for p in sc["route_files"]),
            additional_files=tuple(Path(p) for p in sc["additional_files"]),
            begin_s=float(sc["begin_s"]),
            end_s=float(sc["end_s"]),
            sumocfg=Path(sc["sumocfg"]) if sc.get("sumocfg") else None,
            seeds=tuple(sc["seeds"]),
            controllers=tuple(sc["controllers"]),
            kpis=tuple(sc["kpis"]),
            extra_options=dict(sc["extra_options"]),
            demand_scale=float(sc.get("demand_scale", 1.0)),
        )
        return RunSpec(
            scenario=scenario,
            controller=doc["controller"],
            seed=int(doc["seed"]),
            tripinfo=Path(doc["tripinfo"]),
            flows_file=Path(doc["flows_file"]) if doc.get("flows_file") else None,
            params=dict(doc.get("params") or {}),
        )


def _libsumo() -> Any:
    import libsumo

    return libsumo


def _prepare_inputs(scenario: Scenario, workdir: Path) -> tuple[list[Path], list[Intersection]]:
    sim = _libsumo()
    adds = [redirect_additional_outputs(p, workdir) for p in scenario.additional_files]
    probe = base_options(scenario, workdir, adds, end_s=scenario.begin_s + 1)
    inters = probe_intersections(sim, probe)
    if not inters:
        raise SimulationError(f"{scenario.name}: no traffic light with at least two green phases")
    return adds, inters


def measure_flows(scenario: Scenario, out_file: Path, seed: int = 0) -> dict[str, float]:
    """Calibration run with the static programs: vehicles per hour entering each signal approach
    lane. Saved as JSON (``{lane: veh_h}``) and returned."""
    sim = _libsumo()
    with tempfile.TemporaryDirectory(prefix="knoten-flows-") as tmp:
        workdir = Path(tmp)
        adds, inters = _prepare_inputs(scenario, workdir)
        lanes = sorted({lane for inter in inters for lane in inter.in_lanes})
        seen: dict[str, set[str]] = {lane: set() for lane in lanes}
        args = [*base_options(scenario, workdir, adds), "--seed", str(seed), "--time-to-teleport", "-1"]
        sim.start([sumo_binary(), *args])
        try:
            while sim.simulation.getTime() < scenario.end_s:
                sim.simulationStep()
                for lane in lanes:
                    seen[lane].update(sim.lane.getLastStepVehicleIDs(lane))
        finally:
            sim.close()
    hours = (scenario.end_s - scenario.begin_s) / 3600.0
    flows = {lane: len(ids) / hours for lane, ids in seen.items()}
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp_file = out_file.with_suffix(f".{os.getpid()}.tmp")
    tmp_file.write_text(json.dumps(flows, indent=1), encoding="utf-8")
    tmp_file.replace(out_file)
    return flows


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Run the spec in *this* process; return KPIs, queue series and controller timings."""
    sim = _libsumo()
    scenario = spec.scenario
    if spec.params.get("calibrate_only"):
        if spec.flows_file is None:
            raise SimulationError("calibration needs a flows file path")
        measured = measure_flows(scenario, spec.flows_file)
        return {"flows_file": str(spec.flows_file), "lanes": len(measured)}
    spec.tripinfo.parent.mkdir(parents=True, exist_ok=True)
    controller = make_controller(spec.controller)
    with tempfile.TemporaryDirectory(prefix="knoten-run-") as tmp:
        workdir = Path(tmp)
        adds, inters = _prepare_inputs(scenario, workdir)
        flows = None
        if controller.needs_flows:
            if spec.flows_file is None:
                raise SimulationError(f"controller {spec.controller} needs a flows file")
            if not spec.flows_file.is_file():
                measure_flows(scenario, spec.flows_file)
            flows = json.loads(spec.flows_file.read_text(encoding="utf-8"))
        ctx = RunContext(scenario, workdir, inters, spec.seed, flows, dict(spec.params))
        extra = controller.prepare(ctx)
        args = [*base_options(scenario, workdir, adds + extra), *evaluation_options(spec.tripinfo, spec.seed)]
        t_start = time.perf_counter()
        try:
            sim.start([sumo_binary(), *args])
        except Exception as exc:
            raise SimulationError(f"SUMO could not start {scenario.name}: {exc}") from exc
        queue_lanes = sorted({lane for inter in read_intersections(sim) for lane in inter.in_lanes})
        queue_t: list[float] = []
        queue_v: list[float] = []
        teleports = 0
        next_sample = scenario.begin_s
        try:
            controller.start(sim, ctx)
            while sim.simulation.getTime() < scenario.end_s:
                sim.simulationStep()
                now = float(sim.simulation.getTime())
                teleports += sim.simulation.getStartingTeleportNumber()
                controller.step(sim, now)
                if now >= next_sample:
                    queue_t.append(now)
                    queue_v.append(float(sum(sim.lane.getLastStepHaltingNumber(x) for x in queue_lanes)))
                    next_sample = now + QUEUE_SAMPLE_S
        finally:
            sim.close()
        wall_s = time.perf_counter() - t_start
    kpis: dict[str, Any] = tripinfo_kpis(spec.tripinfo, scenario.end_s - scenario.begin_s)
    kpis["queue_veh"] = float(np.mean(queue_v)) if queue_v else 0.0
    kpis["queue_max_veh"] = float(np.max(queue_v)) if queue_v else 0.0
    kpis["teleports"] = float(teleports)
    times = controller.decision_times_s
    n_int = max(1, len(inters))
    kpis["decision_ms"] = float(np.mean(times) * 1000.0) if times else None
    kpis["decisions"] = len(times)
    kpis["decisions_per_intersection"] = len(times) / n_int
    kpis["intersections"] = len(inters)
    kpis["seed"] = spec.seed
    kpis["controller"] = spec.controller
    kpis["tripinfo"] = str(spec.tripinfo)
    kpis["wall_s"] = wall_s
    kpis["queue_series"] = {"time_s": queue_t, "halting_veh": queue_v}
    return kpis


def run_isolated(spec: RunSpec, nice: int = 0) -> dict[str, Any]:
    """Run the spec in a fresh Python process (``python -m signals.runner``)."""
    with tempfile.TemporaryDirectory(prefix="knoten-spec-") as tmp:
        spec_file = Path(tmp) / "spec.json"
        out_file = Path(tmp) / "result.json"
        spec_file.write_text(spec.to_json(), encoding="utf-8")
        cmd = [sys.executable, "-m", "signals.runner", str(spec_file), str(out_file)]
        if nice:
            cmd = ["nice", "-n", str(nice), *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not out_file.is_file():
            lines = [x for x in (proc.stderr or "").strip().splitlines() if x.strip()]
            detail = lines[-1] if lines else f"exit code {proc.returncode}"
            raise SimulationError(
                f"run {spec.scenario.name}/{spec.controller}/seed {spec.seed} failed: {detail}"
            )
        result: dict[str, Any] = json.loads(out_file.read_text(encoding="utf-8"))
        if "error" in result:
            raise SimulationError(result["error"])
        return result


def _main(argv: list[str]) -> int:
    spec = RunSpec.from_json(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        result = run_one(spec)
    except Exception as exc:  # reported to the parent as a one-line error
        result = {
            "error": f"{type(exc).__name__}: {exc}"
            if not str(exc).startswith(spec.scenario.name)
            else str(exc)
        }
    Path(argv[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
