"""Evaluate controllers over seeds, compare them, and run sweeps through an executor."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signals.controllers import CONTROLLERS, make_controller
from signals.errors import ControllerError
from signals.executor import Executor, LocalExecutor
from signals.kpis import RUN_KPIS, aggregate_runs
from signals.runner import RunSpec, run_isolated
from signals.scenario import Scenario

Progress = Callable[[int, int], None]


def tripinfo_name(stem: str, controller: str, seed: int) -> str:
    """``<stem>.<controller>.s<seed>.tripinfo.xml``."""
    return f"{stem}.{controller}.s{seed}.tripinfo.xml"


def kpis_name(stem: str, controller: str) -> str:
    """``<stem>.<controller>.kpis.json``."""
    return f"{stem}.{controller}.kpis.json"


def flows_file(out_dir: Path, scenario: Scenario) -> Path:
    """Where the calibration flows of a scenario window are cached."""
    return out_dir / f"{scenario.name}.{scenario.begin_s:g}-{scenario.end_s:g}.flows.json"


@dataclass(frozen=True)
class Job:
    """One (scenario, controller) evaluation inside a sweep."""

    scenario: Scenario
    controller: str
    out_dir: Path
    params: dict[str, Any] | None = None


def _calibrate(spec: RunSpec) -> dict[str, Any]:
    return run_isolated(replace(spec, controller="static", params={**spec.params, "calibrate_only": True}))


def run_jobs(
    jobs: Sequence[Job],
    seeds: Sequence[int],
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run every job on every seed through ``executor``; write and return one summary per job."""
    executor = executor or LocalExecutor(1)
    for job in jobs:
        if job.controller not in CONTROLLERS:
            make_controller(job.controller)  # raises a ControllerError with the known names
    calib: dict[Path, RunSpec] = {}
    specs: list[RunSpec] = []
    for job in jobs:
        job.out_dir.mkdir(parents=True, exist_ok=True)
        flows = flows_file(job.out_dir, job.scenario)
        needs = CONTROLLERS[job.controller]().needs_flows
        for seed in seeds:
            spec = RunSpec(
                job.scenario,
                job.controller,
                int(seed),
                job.out_dir / tripinfo_name(job.scenario.name, job.controller, int(seed)),
                flows if needs else None,
                dict(job.params or {}),
            )
            specs.append(spec)
            if needs and not flows.is_file():
                calib.setdefault(flows, replace(spec, seed=0))
    total = len(specs) + len(calib)
    if calib:
        executor.map(
            _calibrate,
            list(calib.values()),
            progress=(lambda d, _t: progress(d, total)) if progress else None,
        )
    offset = len(calib)
    results = executor.map(
        run_isolated, specs, progress=(lambda d, _t: progress(offset + d, total)) if progress else None
    )
    summaries = []
    for j, job in enumerate(jobs):
        runs = results[j * len(seeds) : (j + 1) * len(seeds)]
        summaries.append(write_summary(job, runs))
    return summaries


def write_summary(job: Job, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate runs over seeds and write ``<stem>.<controller>.kpis.json``."""
    sc = job.scenario
    decision = [r["decision_ms"] for r in runs if r.get("decision_ms") is not None]
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "controller": job.controller,
        "sumocfg": str(sc.sumocfg) if sc.sumocfg else None,
        "begin_s": sc.begin_s,
        "end_s": sc.end_s,
        "seeds": [r["seed"] for r in runs],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "units": RUN_KPIS,
        "aggregate": aggregate_runs(runs),
        "decision_ms_per_intersection": (sum(decision) / len(decision)) if decision else None,
        "runs": runs,
    }
    path = job.out_dir / kpis_name(sc.name, job.controller)
    path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    summary["kpis_file"] = str(path)
    return summary


def evaluate(
    scenario: Scenario,
    controller: str,
    seeds: Sequence[int],
    out_dir: Path,
    executor: Executor | None = None,
    progress: Progress | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One controller on one scenario over ``seeds``; tripinfo files and kpis.json in ``out_dir``."""
    return run_jobs([Job(scenario, controller, out_dir, params)], seeds, executor, progress)[0]


def compare(
    scenario: Scenario,
    out_dir: Path,
    controllers: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """All of the scenario's controllers over its seeds (one summary per controller)."""
    names = list(controllers or scenario.controllers)
    jobs = [Job(scenario, c, out_dir) for c in names]
    return run_jobs(jobs, list(seeds or scenario.seeds), executor, progress)


def sweep(
    scenarios: Sequence[Scenario],
    controllers: Sequence[str],
    seeds: Sequence[int],
    out_dir: Path,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Scenarios × controllers × seeds; every scenario gets its own sub-folder of ``out_dir``."""
    jobs = [Job(sc, c, out_dir / sc.name) for sc in scenarios for c in controllers]
    return run_jobs(jobs, seeds, executor, progress)


def comparison_table(summaries: Sequence[dict[str, Any]], kpis: Sequence[str]) -> list[list[str]]:
    """Rows ``[controller, 'mean ± ci', ...]`` for the given KPIs (header first)."""
    rows = [["controller", *kpis]]
    for s in summaries:
        row = [s["controller"]]
        for k in kpis:
            agg = s["aggregate"].get(k)
            row.append("–" if agg is None else f"{agg['mean']:.2f} ± {agg['ci95']:.2f}")
        rows.append(row)
    return rows


def check_controller(name: str) -> None:
    """Raise :class:`ControllerError` for unknown controller names."""
    if name not in CONTROLLERS:
        raise ControllerError(f"unknown controller {name!r} (known: {', '.join(sorted(CONTROLLERS))})")
