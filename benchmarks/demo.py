"""Demo city build and simulation times.

Usage: ``python benchmarks/demo.py [--seed 42] [--repeat 3]``. Prints the wall time of each build
step, of a complete build, of the skipped second build, of the GTFS validation and of the SUMO run.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from scenarios.demo import build_demo_city
from scenarios.demo.sumo import find_sumo


def main() -> None:
    """Run the measurements and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    day = date(2026, 11, 27)
    builds, skips, steps = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            out = Path(tmp) / f"city{i}"
            marks: list[tuple[str, float]] = []

            def mark(step: str, _i: int, _n: int, marks: list[tuple[str, float]] = marks) -> None:
                marks.append((step, time.perf_counter()))

            t0 = time.perf_counter()
            city = build_demo_city(out, args.seed, mark, build_date=day)
            builds.append(time.perf_counter() - t0)
            for (name, start), (_, end) in itertools.pairwise(marks):
                steps.setdefault(name, []).append(end - start)
            t0 = time.perf_counter()
            build_demo_city(out, args.seed, build_date=day)
            skips.append(time.perf_counter() - t0)
        exe = Path(sys.executable).parent / "gtfs-validator"
        t0 = time.perf_counter()
        subprocess.run(
            [str(exe), "-i", str(city.gtfs), "-o", str(Path(tmp) / "val")], capture_output=True, check=True
        )
        validate_s = time.perf_counter() - t0
        tools = find_sumo()
        t0 = time.perf_counter()
        subprocess.run([str(tools.bin / "sumo"), "-c", str(city.sumocfg)], cwd=city.sumo_dir, env=tools.env(),
                       capture_output=True, check=True)  # fmt: skip
        sumo_s = time.perf_counter() - t0
        counts = city.manifest()["counts"]
    print(f"demo build (median of {args.repeat}): {statistics.median(builds):.2f} s")
    for name, values in steps.items():
        print(f"  step {name:<18} {statistics.median(values):.2f} s")
    print(f"second build, skipped: {statistics.median(skips) * 1000:.1f} ms")
    print(f"gtfs-validator on the feed ({counts['gtfs']['stop_times']} stop_times): {validate_s:.2f} s")
    sumo = counts["sumo"]
    print(f"sumo -c demo.sumocfg ({sumo['cars']} cars, {sumo['buses']} buses, 1 h): {sumo_s:.2f} s")


if __name__ == "__main__":
    main()
