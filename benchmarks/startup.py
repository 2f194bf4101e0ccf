"""Start-up time of the command line: ``knoten --help`` and a ``knoten route`` on a cached timetable.

Usage: ``.venv/bin/python benchmarks/startup.py [--runs 7] [--data-dir data]`` after
``.venv/bin/knoten demo build``. Each command runs ``--runs`` times in a fresh process (the first
``knoten route`` fills the timetable cache and numba's kernel cache and is not counted); prints the
median, fastest and slowest wall time of each, the median CPU time, and the load average.
Targets: ``knoten --help`` at most 0.3 s, the cached ``knoten route`` at most 0.8 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _run_s(command: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) times of ``runs`` runs of ``command``; output discarded.

    The CPU time hardly depends on what else the machine runs, the wall time does.
    """
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def main() -> None:
    """Run the measurements and print one line per command."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=Path("data"))
    args = parser.parse_args()
    knoten = str(Path(sys.executable).with_name("knoten"))
    demo = args.data_dir / "demo"
    manifest = json.loads((demo / "manifest.json").read_text())
    date = manifest["gtfs_feed_period"]["start"]
    gtfs = str(demo / "gtfs" / "demo-city.gtfs.zip")
    route = [knoten, "--data-dir", str(args.data_dir), "route", "--gtfs", gtfs, "--from", "bus-001"]
    route += ["--to", "bus-006", "--depart", "07:30:00", "--date", date]
    _run_s(route, 1)  # fills the timetable cache (and numba's, after a change of the kernels)
    print(f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}, date {date}")
    for name, command in (("knoten --help", [knoten, "--help"]), ("knoten route (cached)", route)):
        load_before = os.getloadavg()[0]
        walls, cpus = _run_s(command, args.runs)
        print(
            f"{name:24s} wall median {statistics.median(walls):.2f} s (fastest {min(walls):.2f} s, "
            f"slowest {max(walls):.2f} s), CPU median {statistics.median(cpus):.2f} s; "
            f"{args.runs} runs, load average {load_before:.1f}"
        )


if __name__ == "__main__":
    main()
