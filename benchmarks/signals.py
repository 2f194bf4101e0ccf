"""Signal-control benchmark: every controller on the shared SUMO scenarios over 5 seeds.

Usage (from the repository root; results are cached per scenario/controller in --out):

    nice -n 10 .venv/bin/python benchmarks/signals.py --out /tmp/knoten-signals-bench --workers 2
    nice -n 10 .venv/bin/python benchmarks/signals.py --scenarios cologne1 --scales 1.25,1.5
    .venv/bin/python benchmarks/signals.py --out /tmp/knoten-signals-bench --report-only

A scenario ``NAME`` with ``--scales 1.25`` (or written ``NAMEx1.25``) is the stress version: the same
net and window with every vehicle of the demand inserted 1.25 times (SUMO ``--scale``).

Prints, per scenario, the mean delay ± 95 % CI of each controller, the best baseline, the ratio
knoten / best baseline (target ≤ 0.90), the arrivals check (knoten ≥ static − 1 % on every seed)
and knoten's mean decision time per intersection and decision (target ≤ 5 ms).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from signals.evaluate import evaluate, kpis_name  # noqa: E402
from signals.executor import LocalExecutor  # noqa: E402
from signals.scenario import load_sumocfg  # noqa: E402

DATA = ROOT / ".." / "shared" / "data" / "sumo"
SCENARIOS: dict[str, tuple[str, float | None, float | None]] = {
    "cologne1": ("resco/cologne1/cologne1.sumocfg", None, None),
    "cologne3": ("resco/cologne3/cologne3.sumocfg", None, None),
    "ingolstadt1": ("resco/ingolstadt1/ingolstadt1.sumocfg", None, None),
    "ingolstadt7": ("resco/ingolstadt7/ingolstadt7.sumocfg", None, None),
    "grid4x4": ("resco/grid4x4/grid4x4.sumocfg", None, None),
    "bologna-acosta": ("bologna-acosta/run.sumocfg", 0.0, 3600.0),
    "tavf-hamburg": ("tavf-hamburg/run_simulation.sumocfg", 0.0, 1200.0),
}
BASELINES = ["static", "actuated", "webster", "max-pressure"]
REFERENCE_BEST_S = {
    "cologne1": 23.6,
    "cologne3": 35.7,
    "ingolstadt1": 14.5,
    "ingolstadt7": 33.3,
    "grid4x4": 37.2,
    "bologna-acosta": 250.7,
    "tavf-hamburg": 67.8,
}


def _load(out: Path, scenario: str, controller: str) -> dict | None:
    path = out / scenario / kpis_name(load_name(scenario), controller)
    return json.loads(path.read_text()) if path.is_file() else None


def split_key(key: str) -> tuple[str, float]:
    """``cologne1x1.25`` -> (``cologne1``, 1.25); ``cologne1`` -> (``cologne1``, 1.0)."""
    base, _, scale = key.rpartition("x")
    if base in SCENARIOS and scale:
        return base, float(scale)
    return key, 1.0


def load_name(scenario: str) -> str:
    """The file stem of a scenario's sumocfg (with ``x<scale>`` for a stress version)."""
    base, scale = split_key(scenario)
    stem = Path(SCENARIOS[base][0]).name.removesuffix(".sumocfg")
    return stem if scale == 1.0 else f"{stem}x{scale:g}"


def run(
    out: Path, scenarios: list[str], controllers: list[str], seeds: list[int], workers: int, *, force: bool
) -> None:
    """Evaluate every missing (scenario, controller) pair."""
    executor = LocalExecutor(workers)
    for name in scenarios:
        base, scale = split_key(name)
        cfg, begin, end = SCENARIOS[base]
        scenario = load_sumocfg(DATA / cfg, begin, end).scaled(scale)
        for controller in controllers:
            if not force and _load(out, name, controller) is not None:
                continue
            t0 = time.perf_counter()
            s = evaluate(scenario, controller, seeds, out / name, executor)
            d = s["aggregate"]["delay_s"]
            took = time.perf_counter() - t0
            print(
                f"{name:<15} {controller:<13} {d['mean']:8.2f} ± {d['ci95']:.2f} s  ({took:.0f} s)",
                flush=True,
            )


def report(out: Path, scenarios: list[str]) -> None:
    """Print the comparison table in Markdown."""
    names = [*BASELINES, "knoten"]
    print(
        "| scenario | "
        + " | ".join(names)
        + " | best baseline | knoten / best | knoten / ref | arrivals ok | decision ms |"
    )
    print("|---" * (len(names) + 6) + "|")
    for sc in scenarios:
        cells, means = [], {}
        for c in names:
            s = _load(out, sc, c)
            if s is None:
                cells.append("–")
                continue
            d = s["aggregate"]["delay_s"]
            means[c] = d["mean"]
            cells.append(f"{d['mean']:.1f} ± {d['ci95']:.1f}")
        base = {c: means[c] for c in BASELINES if c in means}
        best = min(base, key=lambda c: base[c]) if base else None
        ratio = means["knoten"] / base[best] if best and "knoten" in means else None
        arrivals, decision = "–", "–"
        kn, st = _load(out, sc, "knoten"), _load(out, sc, "static")
        if kn and st:
            a_k = {r["seed"]: r["arrived"] for r in kn["runs"]}
            a_s = {r["seed"]: r["arrived"] for r in st["runs"]}
            common = [s for s in a_s if s in a_k]
            if common:
                ok = all(a_k[s] >= 0.99 * a_s[s] for s in common)
                worst = min(a_k[s] / a_s[s] for s in common)
                arrivals = f"{'yes' if ok else 'NO'} (min {worst:.3f})"
        if kn and kn.get("decision_ms_per_intersection") is not None:
            decision = f"{kn['decision_ms_per_intersection']:.2f}"
        ref = REFERENCE_BEST_S.get(sc)
        best_txt = f"{best} {base[best]:.1f}" if best else "–"
        ratio_txt = f"{ratio:.3f}" if ratio is not None else "–"
        ref_txt = f"{means['knoten'] / ref:.3f}" if "knoten" in means and ref else "–"
        seeds = sorted({len(k["runs"]) for c in names if (k := _load(out, sc, c)) is not None})
        sc = f"{sc} ({'/'.join(map(str, seeds))} seeds)" if seeds else f"{sc} (unmeasured)"
        print(
            f"| {sc} | "
            + " | ".join(cells)
            + f" | {best_txt} | {ratio_txt} | {ref_txt} | {arrivals} | {decision} |"
        )


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/knoten-signals-bench"))
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--controllers", default=",".join([*BASELINES, "knoten"]))
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--scales", default="1", help="demand scales, e.g. 1,1.25,1.5 (SUMO --scale)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--force", action="store_true", help="re-run even if results exist")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args()
    if not DATA.is_dir():
        sys.exit(f"shared SUMO scenarios not found at {DATA}")
    scales = [float(x) for x in args.scales.split(",") if x]
    scenarios = [s if f == 1.0 else f"{s}x{f:g}" for s in args.scenarios.split(",") if s for f in scales]
    if not args.report_only:
        run(
            args.out,
            scenarios,
            [c for c in args.controllers.split(",") if c],
            [int(s) for s in args.seeds.split(",")],
            args.workers,
            force=args.force,
        )
    report(args.out, scenarios)


if __name__ == "__main__":
    main()
