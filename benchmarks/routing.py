"""Transit routing benchmark: timetable build, cache load, memory and per-query latency.

    .venv/bin/python benchmarks/routing.py --mta-dir /work/mta [--queries 1000]
        [--only helsinki mta_subway ...] [--pyraptor-python /tmp/pyraptor-venv/bin/python]

Datasets: the Helsinki feed of ``../shared/data/gtfs`` (2022-02-22) and, with ``--mta-dir`` (zips
made by ``../shared/tools/mta_gtfs.py``), MTA subway, Bronx buses (bus_bx), Manhattan buses
(bus_m) and all MTA feeds merged, on Tuesday 2026-09-15.  Every dataset runs in its own process so
that its peak memory (max RSS, build included) is its own.  For each:

* cold build (GTFS read + patterns) and cache write; cache load (npz + footpath CSR);
* 1,000 random earliest-arrival stop-to-stop queries (seeded; stops served on the date,
  departures 06:00-20:00), timed one by one after a warm-up (wall clock p50/p95/p99 and process
  CPU time), with ``--transfers gtfs`` footpaths and again with the walk mode (transfers.txt plus
  crow-fly walks within 400 m at 1.2 m/s);
* ``knoten route-batch`` (``--transfers gtfs``) with N (default 20,000) and with 1 query:
  (t_N - t_1) / (N - 1), best of 5 alternating runs each;
* optionally pyraptor on the same timetable and the first queries (see pyraptor_harness.py).

Prints a Markdown table (and JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared" / "data"
DATE_MTA = "2026-09-15"


def datasets(mta_dir: Path | None) -> dict[str, tuple[list[Path], str]]:
    """Name -> (feeds, service date)."""
    out: dict[str, tuple[list[Path], str]] = {
        "helsinki": ([SHARED / "gtfs" / "hsl_helsinki_centre_2022.gtfs.zip"], "2022-02-22")
    }
    if mta_dir is not None:
        out["mta_subway"] = ([mta_dir / "mta_subway.gtfs.zip"], DATE_MTA)
        out["mta_bus_bx"] = ([mta_dir / "mta_bus_bx.gtfs.zip"], DATE_MTA)
        out["mta_bus_m"] = ([mta_dir / "mta_bus_m.gtfs.zip"], DATE_MTA)
        out["mta_all"] = (sorted(mta_dir.glob("mta_*.gtfs.zip")), DATE_MTA)
    return out


def _time_route_batch(feeds: list[Path], date: str, cache: Path, stops: list[str], n: int) -> float:
    """(t_N - t_1) / (N - 1) seconds for ``knoten route-batch`` (warm cache, best of 5 runs each,
    alternating, since process start-up on a shared machine varies by a second)."""
    rng = np.random.default_rng(11)
    knoten = REPO / ".venv" / "bin" / "knoten"
    with tempfile.TemporaryDirectory() as tmp:
        for size in (1, n):
            qpath = Path(tmp) / f"q{size}.csv"
            with open(qpath, "w", newline="") as handle:
                w = csv.writer(handle)
                w.writerow(("query_id", "from_stop_id", "to_stop_id", "departure"))
                for i in range(size):
                    a, b = rng.choice(len(stops), 2, replace=False)
                    t = int(rng.integers(6 * 3600, 20 * 3600))
                    w.writerow((i, stops[a], stops[b], f"{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}"))
        walls = {1: float("inf"), n: float("inf")}
        for _ in range(5):
            for size in (1, n):
                qpath = Path(tmp) / f"q{size}.csv"
                args = [str(knoten), "route-batch", "--date", date, "--queries", str(qpath)]
                for f in feeds:
                    args += ["--gtfs", str(f)]
                args += ["--out", str(Path(tmp) / "a.csv"), "--transfers", "gtfs", "--cache-dir", str(cache)]
                start = time.perf_counter()
                subprocess.run(args, check=True, capture_output=True)
                walls[size] = min(walls[size], time.perf_counter() - start)
    return (walls[n] - walls[1]) / (n - 1)


def _latencies(router, pairs, times) -> dict:
    """Time every query alone (wall clock and process CPU time) after a JIT warm-up."""
    n_queries = len(pairs)
    router.earliest_arrival(np.array([pairs[0][0]]), np.array([pairs[0][1]]), int(times[0]))
    lat = np.empty(n_queries)
    cpu = np.empty(n_queries)
    answers = []
    for q in range(n_queries):
        o, d = np.array([pairs[q][0]], np.int32), np.array([pairs[q][1]], np.int32)
        c0 = time.process_time()
        t0 = time.perf_counter()
        answers.append(router.earliest_arrival(o, d, int(times[q])))
        lat[q] = time.perf_counter() - t0
        cpu[q] = time.process_time() - c0
    ms = lat * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "cpu_p50_ms": float(np.percentile(cpu * 1000, 50)),
        "cpu_p95_ms": float(np.percentile(cpu * 1000, 95)),
        "reachable": sum(a >= 0 for a, _ in answers) / n_queries,
        "answers": answers,
        "ms": ms,
    }


def run_one(
    name: str,
    feeds: list[Path],
    date: str,
    n_queries: int,
    pyraptor: str | None,
    n_py: int,
    py_timeout_s: float = 300.0,
    batch_queries: int = 20000,
) -> dict:
    """Benchmark one dataset in this process."""
    from mobility.cache import cache_path, load_cached, save_timetable
    from mobility.footpaths import crow_fly_footpaths, gtfs_footpaths
    from mobility.raptor import Router
    from mobility.timetable import build_timetable

    day = dt.date.fromisoformat(date)
    result: dict = {"dataset": name, "date": date, "feeds": [f.name for f in feeds]}
    cache = Path(tempfile.mkdtemp(prefix="knoten-bench-"))
    start = time.perf_counter()
    tt = build_timetable(feeds, day)
    result["build_s"] = time.perf_counter() - start
    target = cache_path(feeds, day, cache)
    save_timetable(tt, target)
    result.update(
        stops=tt.n_stops,
        patterns=tt.n_patterns,
        trips=tt.n_trips,
        stop_times=tt.n_stop_times,
        cache_mib=target.stat().st_size / 2**20,
    )
    del tt
    start = time.perf_counter()
    tt = load_cached(target)
    gtfs_paths = gtfs_footpaths(tt)
    result["load_s"] = time.perf_counter() - start
    start = time.perf_counter()
    walk_paths = crow_fly_footpaths(tt)
    result["walk_footpaths_s"] = time.perf_counter() - start

    served = np.unique(tt.pat_stops)
    rng = np.random.default_rng(2026)
    pairs = [rng.choice(served, 2, replace=False) for _ in range(n_queries)]
    times = rng.integers(6 * 3600, 20 * 3600, size=n_queries)
    walk = _latencies(Router(tt, walk_paths), pairs, times)
    result.update({f"walk_{k}": v for k, v in walk.items() if k not in ("answers", "ms")})
    result["walk_footpaths"] = walk_paths.n_paths
    router = Router(tt, gtfs_paths)
    gtfs = _latencies(router, pairs, times)
    answers, ms = gtfs.pop("answers"), gtfs.pop("ms")
    result.update(gtfs)
    stop_ids = [str(s) for s in tt.stop_ids[served]]
    result["route_batch_ms"] = 1000 * _time_route_batch(feeds, date, cache, stop_ids, batch_queries)
    result["route_batch_n"] = batch_queries
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    if pyraptor:
        result.update(
            _run_pyraptor(tt, pairs, times, answers, pyraptor, n_py, router.max_rounds, py_timeout_s)
        )
        n_done = int(result.get("pyraptor_queries") or 0)
        if n_done:
            result["ours_same_queries_p50_ms"] = float(np.percentile(ms[:n_done], 50))
    for f in cache.iterdir():
        f.unlink()
    cache.rmdir()
    return result


def pyraptor_export(tt, pairs, times, n_py: int, rounds: int, budget_s: float) -> dict:
    """The day's trip instances, footpaths and first ``n_py`` queries for pyraptor_harness.py."""
    trips = []
    for p in range(tt.n_patterns):
        so, n_st = int(tt.pat_stop_off[p]), int(tt.pat_stop_off[p + 1] - tt.pat_stop_off[p])
        stops = [str(s) for s in tt.stop_ids[tt.pat_stops[so : so + n_st]]]
        lo, hi = int(tt.pat_time_off[p]), int(tt.pat_time_off[p + 1])
        arr = tt.arr_s[lo:hi].reshape(-1, n_st)
        dep = tt.dep_s[lo:hi].reshape(-1, n_st)
        for r in range(arr.shape[0]):
            trips.append([[s, int(a), int(d)] for s, a, d in zip(stops, arr[r], dep[r], strict=True)])
    frm = np.repeat(np.arange(tt.n_stops), np.diff(tt.tr_off))
    export = {
        "stops": [str(s) for s in tt.stop_ids],
        "trips": trips,
        "footpaths": [
            [str(tt.stop_ids[a]), str(tt.stop_ids[b]), int(w)]
            for a, b, w in zip(frm, tt.tr_to, tt.tr_time_s, strict=True)
        ],
        "rounds": min(rounds, 8),
        "budget_s": budget_s,
        "queries": [
            [[str(tt.stop_ids[pairs[q][0]])], [str(tt.stop_ids[pairs[q][1]])], int(times[q])]
            for q in range(n_py)
        ],
    }
    return export


def _run_pyraptor(
    tt, pairs, times, answers, python: str, n_py: int, rounds: int, timeout_s: float = 1200.0
) -> dict:
    """Export the day's trips and the first ``n_py`` queries, time them in pyraptor's venv."""
    export = pyraptor_export(tt, pairs, times, n_py, rounds, timeout_s / 2)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "export.json", Path(tmp) / "result.json"
        src.write_text(json.dumps(export))
        try:
            proc = subprocess.run(
                [python, str(REPO / "benchmarks" / "pyraptor_harness.py"), str(src), str(dst)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
            failed = proc.returncode != 0
            message = proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"
        except subprocess.TimeoutExpired:
            failed, message = True, f"timed out after {timeout_s:.0f} s"
        if not dst.exists():
            return {"pyraptor_error": message}
        res = json.loads(dst.read_text())
    secs = np.array([r["seconds"] for r in res["results"]]) * 1000
    same = sum(r["arrival"] == answers[q][0] for q, r in enumerate(res["results"]))
    return {
        "pyraptor_build_s": res["build_s"],
        "pyraptor_queries": len(secs),
        "pyraptor_p50_ms": float(np.percentile(secs, 50)) if len(secs) else None,
        "pyraptor_mean_ms": float(secs.mean()) if len(secs) else None,
        "pyraptor_same_arrival": same,
        "pyraptor_note": message if failed else "",
    }


def table(rows: list[dict]) -> str:
    """Markdown table of the results."""
    head = (
        "| dataset | stop times (date) | build s | load s | peak RSS MiB | p50 ms | p95 ms | p99 ms "
        "| CPU p50/p95 ms | reachable | walk mode p50/p95 ms (reachable) | route-batch ms/query "
        "| pyraptor p50 ms (n) | speed-up p50 |"
    )
    lines = [head, "|" + "---|" * 14]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | error: {r['error']} |" + " |" * 12)
            continue
        if r.get("pyraptor_p50_ms"):
            py = f"{r['pyraptor_p50_ms']:.0f} ({r['pyraptor_queries']})"
            speed = f"{r['pyraptor_p50_ms'] / r['ours_same_queries_p50_ms']:,.0f}x"
        else:
            py, speed = r.get("pyraptor_error", "-"), "-"
        lines.append(
            f"| {r['dataset']} | {r['stop_times']:,} | {r['build_s']:.1f} | {r['load_s']:.2f} "
            f"| {r['peak_rss_mib']:.0f} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} "
            f"| {r['cpu_p50_ms']:.2f}/{r['cpu_p95_ms']:.2f} | {r['reachable']:.0%} "
            f"| {r['walk_p50_ms']:.2f}/{r['walk_p95_ms']:.2f} ({r['walk_reachable']:.0%}) "
            f"| {r['route_batch_ms']:.3f} | {py} | {speed} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run every selected dataset in a child process and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mta-dir", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--batch-queries",
        type=int,
        default=20000,
        help="N of the route-batch timing; large, so that N queries outweigh the start-up jitter",
    )
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--pyraptor-python", default=None)
    parser.add_argument("--pyraptor-queries", type=int, default=20)
    parser.add_argument("--pyraptor-timeout-s", type=float, default=300.0)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sets = datasets(args.mta_dir)
    if args.child:
        feeds, date = sets[args.child]
        py = args.pyraptor_python if args.child != "mta_all" else None
        out = run_one(
            args.child,
            feeds,
            date,
            args.queries,
            py,
            args.pyraptor_queries,
            args.pyraptor_timeout_s,
            args.batch_queries,
        )
        print(json.dumps(out))
        return
    rows = []
    for name in args.only or list(sets):
        cmd = [sys.executable, __file__, "--child", name, "--queries", str(args.queries)]
        cmd += ["--batch-queries", str(args.batch_queries)]
        if args.mta_dir:
            cmd += ["--mta-dir", str(args.mta_dir)]
        if args.pyraptor_python:
            cmd += [
                "--pyraptor-python",
                args.pyraptor_python,
                "--pyraptor-queries",
                str(args.pyraptor_queries),
            ]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}
        )
        if proc.returncode != 0:
            rows.append({"dataset": name, "error": (proc.stderr.strip().splitlines() or ["failed"])[-1]})
        else:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
