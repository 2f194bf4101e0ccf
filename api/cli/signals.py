"""``knoten signals ...``: evaluate, compare, sweep and optimise traffic-signal control in SUMO."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from api.cli.progress import progress_bar
from api.errors import CliError


def _seeds(value: str) -> list[int]:
    try:
        seeds = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of integers") from None
    if not seeds:
        raise click.BadParameter("at least one seed is required")
    return seeds


def _executor(workers: int, scheduler: str | None) -> Any:
    from signals.executor import make_executor

    try:
        return make_executor(workers, scheduler)
    except OSError as exc:
        raise CliError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc


def _close(executor: Any) -> None:
    close = getattr(executor, "close", None)
    if close:
        close()


def _print_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.group("signals")
def signals() -> None:
    """Traffic-signal control in SUMO: evaluate, compare, sweep, optimise."""


_workers = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Simulations run in parallel (one process each).",
)
_scheduler = click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:8786",
    help="Run on a Dask distributed scheduler instead of local processes.",
)


@signals.command("evaluate")
@click.option("--sumocfg", required=True, type=click.Path(path_type=Path), help="SUMO configuration.")
@click.option(
    "--controller", required=True, help="Controller name (static, actuated, webster, max-pressure, knoten)."
)
@click.option("--seeds", default="1,2,3,4,5", show_default=True, help="Comma-separated seeds.")
@click.option(
    "--tripinfo-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where tripinfo files and kpis.json go.",
)
@click.option("--begin", type=float, default=None, help="Window begin [s] (default: from the sumocfg).")
@click.option("--end", type=float, default=None, help="Window end [s] (default: from the sumocfg).")
@_workers
@_scheduler
def evaluate_cmd(
    sumocfg: Path,
    controller: str,
    seeds: str,
    tripinfo_dir: Path,
    begin: float | None,
    end: float | None,
    workers: int,
    scheduler: str | None,
) -> None:
    """Run one controller on a scenario for every seed; write tripinfo files and KPIs."""
    from signals.evaluate import check_controller, evaluate
    from signals.scenario import load_sumocfg

    seed_list = _seeds(seeds)
    check_controller(controller)
    scenario = load_sumocfg(sumocfg, begin, end)
    executor = _executor(workers, scheduler)
    try:
        with progress_bar(f"{scenario.name} {controller}") as progress:
            summary = evaluate(scenario, controller, seed_list, tripinfo_dir, executor, progress)
    finally:
        _close(executor)
    agg = summary["aggregate"]
    click.echo(
        f"{scenario.name} {controller}: delay {agg['delay_s']['mean']:.2f} ± {agg['delay_s']['ci95']:.2f} s, "
        f"arrived {agg['arrived']['mean']:.0f}/{agg['scheduled']['mean']:.0f}, "
        f"queue {agg['queue_veh']['mean']:.1f} veh"
        + (
            f", decision {summary['decision_ms_per_intersection']:.2f} ms"
            if summary["decision_ms_per_intersection"] is not None
            else ""
        )
    )
    click.echo(f"KPIs: {summary['kpis_file']}")


@signals.command("compare")
@click.option(
    "--scenario",
    "scenario_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Scenario folder with scenario.yaml, or a .sumocfg.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: <scenario>/results).",
)
@click.option("--controllers", default=None, help="Override the scenario's controllers (comma-separated).")
@click.option("--seeds", default=None, help="Override the scenario's seeds (comma-separated).")
@click.option("--begin", type=float, default=None, help="Override the window begin [s].")
@click.option("--end", type=float, default=None, help="Override the window end [s].")
@_workers
@_scheduler
def compare_cmd(
    scenario_path: Path,
    out_dir: Path | None,
    controllers: str | None,
    seeds: str | None,
    begin: float | None,
    end: float | None,
    workers: int,
    scheduler: str | None,
) -> None:
    """Compare controllers on a scenario: table (mean ± 95 % CI over seeds) and PNG plots."""
    from signals.evaluate import check_controller, compare, comparison_table
    from signals.plots import plot_delay, plot_queue
    from signals.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    if begin is not None or end is not None:
        scenario = scenario.with_window(begin, end)
    names = [c.strip() for c in controllers.split(",")] if controllers else list(scenario.controllers)
    for name in names:
        check_controller(name)
    seed_list = _seeds(seeds) if seeds else list(scenario.seeds)
    base = scenario_path if scenario_path.is_dir() else scenario_path.parent
    out = out_dir or (base / "results")
    executor = _executor(workers, scheduler)
    try:
        with progress_bar(f"{scenario.name}") as progress:
            summaries = compare(scenario, out, names, seed_list, executor, progress)
    finally:
        _close(executor)
    kpis = [k for k in scenario.kpis if all(k in s["aggregate"] for s in summaries)]
    table = _print_table(comparison_table(summaries, kpis))
    click.echo(table)
    (out / f"{scenario.name}.compare.txt").write_text(table + "\n", encoding="utf-8")
    (out / f"{scenario.name}.compare.json").write_text(
        json.dumps([{k: v for k, v in s.items() if k != "runs"} for s in summaries], indent=1),
        encoding="utf-8",
    )
    p1 = plot_delay(summaries, out / f"{scenario.name}.delay.png", f"{scenario.name}: delay")
    p2 = plot_queue(summaries, out / f"{scenario.name}.queue.png", f"{scenario.name}: queue")
    click.echo(f"Saved {out / (scenario.name + '.compare.txt')}, {p1}, {p2}")


@signals.command("sweep")
@click.option(
    "--scenario",
    "scenario_paths",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="Scenario folder or .sumocfg (repeatable).",
)
@click.option("--controllers", required=True, help="Comma-separated controller names.")
@click.option("--seeds", default="1,2,3,4,5", show_default=True, help="Comma-separated seeds.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@_workers
@_scheduler
def sweep_cmd(
    scenario_paths: tuple[Path, ...],
    controllers: str,
    seeds: str,
    out_dir: Path,
    workers: int,
    scheduler: str | None,
) -> None:
    """Scenarios × controllers × seeds through local processes or a Dask cluster."""
    from signals.evaluate import check_controller, sweep
    from signals.scenario import load_scenario

    names = [c.strip() for c in controllers.split(",") if c.strip()]
    for name in names:
        check_controller(name)
    scenarios = [load_scenario(p) for p in scenario_paths]
    executor = _executor(workers, scheduler)
    try:
        with progress_bar("sweep") as progress:
            summaries = sweep(scenarios, names, _seeds(seeds), out_dir, executor, progress)
    finally:
        _close(executor)
    for s in summaries:
        d = s["aggregate"]["delay_s"]
        click.echo(f"{s['scenario']:<20} {s['controller']:<14} delay {d['mean']:8.2f} ± {d['ci95']:.2f} s")


@signals.command("optimise")
@click.option(
    "--scenario",
    "scenario_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Scenario folder with scenario.yaml, or a .sumocfg.",
)
@click.option(
    "--out",
    "plan_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="tlLogic additional file to write.",
)
@click.option(
    "--seeds", default="1,2,3", show_default=True, help="Seeds of the evaluation against the original."
)
@click.option("--begin", type=float, default=None, help="Override the window begin [s].")
@click.option("--end", type=float, default=None, help="Override the window end [s].")
@_workers
@_scheduler
def optimise_cmd(
    scenario_path: Path,
    plan_file: Path,
    seeds: str,
    begin: float | None,
    end: float | None,
    workers: int,
    scheduler: str | None,
) -> None:
    """Measured flows -> coordinated fixed-time plan (cycle, splits, offsets) as a SUMO tlLogic file,
    evaluated against the original programs."""
    from signals.coordinate import optimise
    from signals.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    if begin is not None or end is not None:
        scenario = scenario.with_window(begin, end)
    executor = _executor(workers, scheduler)
    try:
        with progress_bar(f"optimise {scenario.name}") as progress:
            result = optimise(
                scenario,
                plan_file,
                plan_file.parent / f"{plan_file.stem}.runs",
                _seeds(seeds),
                executor,
                progress,
            )
    finally:
        _close(executor)
    change = result["change"]
    click.echo(f"Wrote {plan_file} ({result['signals']} signals, cycle {result['cycle_s']} s)")
    click.echo(
        f"delay original {result['original_delay_s']:.2f} ± {result['original_delay_ci95_s']:.2f} s, "
        f"optimised {result['optimised_delay_s']:.2f} ± {result['optimised_delay_ci95_s']:.2f} s"
        + (f" ({change * 100:+.1f} %)" if change is not None else "")
    )
