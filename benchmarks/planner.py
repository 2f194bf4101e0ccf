"""Door-to-door planner benchmark: graph build, planner load, memory and per-query latency.

    .venv/bin/python benchmarks/planner.py [--queries 300] [--only sao_paulo helsinki demo]
        [--exact 40]

Datasets: São Paulo (``../shared/data/osm/sao_paulo.osm.pbf`` + SPTrans GTFS, Monday 2019-05-06),
Helsinki centre (OSM + HSL GTFS, 2022-02-22) and the demo city (built into a temporary folder with
its GBFS and OCPI files, today's date).  Each dataset runs in its own process so that its peak
memory (max RSS) is its own.  For each:

* graph build (osmium read + networkx graphs + CSR) and planner load (stop linking, street
  footpaths, first router);
* N seeded random door-to-door queries (both places inside the box of the stops linked to the
  streets, departures 06:00-22:00), timed one by one after a warm-up, per mode mix: walk,transit;
  walk,transit on a synthetic realtime overlay (a quarter of the day's trips late by 1-7 min,
  2 % cancelled; its build time is printed too); +bike_share (docked and free-floating, also to
  transit); +car_share; car with an EV connector (demo only, where chargers exist).
  São Paulo and Helsinki have no public GBFS feed in the reference data, so their sharing mixes
  use a synthetic snapshot: 60 docked stations and 150 free-floating bikes and 40 cars at seeded
  random street nodes;
* with ``--exact N``: the planner's earliest arrival against the brute-force reference of the
  tests (``tests/mobility/planner/door_reference.py``) on N queries: how many match exactly, and
  the largest difference.

Latencies are wall clock; the CPU-time p95 beside them (``time.process_time``, all threads of the
process) shows what a query costs when other jobs share the cores.  Prints a Markdown table (and
JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO / ".." / "shared" / "data"
CITIES = {
    "sao_paulo": ("sao_paulo.osm.pbf", "sao_paulo_sptrans.gtfs.zip", "2019-05-06"),
    "helsinki": ("helsinki_centre.osm.pbf", "hsl_helsinki_centre_2022.gtfs.zip", "2022-02-22"),
}
MIXES = {
    "walk,transit": ("walk,transit", None),
    "walk,transit realtime": ("walk,transit", None),
    "+bike_share": ("walk,transit,bike_share", None),
    "+car_share": ("walk,transit,car_share", None),
    "car (EV, CCS)": ("car", "CCS"),
}


def synthetic_sharing(planner: Any, seed: int) -> Any:
    """A seeded sharing snapshot on the planner's walk graph (no GBFS feed exists for the city)."""
    from mobility.sharing.model import SharingSnapshot, SharingSystem, Station, Vehicle, VehicleType

    now = dt.datetime.now(dt.UTC)
    g = planner.streets.graph("walk")
    rng = np.random.default_rng(seed)
    assert planner.links is not None
    linked = planner.links.linked
    lat, lon = planner.tt.stop_lat[linked], planner.tt.stop_lon[linked]
    inside = np.nonzero(
        (g.lat >= lat.min()) & (g.lat <= lat.max()) & (g.lon >= lon.min()) & (g.lon <= lon.max())
    )[0]
    pick = rng.choice(inside, 250)
    systems = (SharingSystem("bench-bike", "Bench bikes", None, "3.0", 60, now),
               SharingSystem("bench-car", "Bench cars", None, "3.0", 60, now))  # fmt: skip
    types = (
        VehicleType("bench-bike", "bike", "bicycle", "human"),
        VehicleType("bench-car", "car", "car", "electric"),
    )
    stations = []
    for i, n in enumerate(pick[:60]):
        bikes = int(rng.integers(0, 6))
        stations.append(
            Station("bench-bike", f"s{i}", f"Station {i}", float(g.lat[n]), float(g.lon[n]), bikes,
                    {"bike": bikes}, int(rng.integers(0, 8)))
        )  # fmt: skip
    vehicles = []
    for i, n in enumerate(pick[60:250]):
        bike = i < 150
        vehicles.append(
            Vehicle("bench-bike" if bike else "bench-car", f"v{i}", float(g.lat[n]), float(g.lon[n]),
                    "bike" if bike else "car", "bicycle" if bike else "car", "human" if bike else "electric",
                    None, False, False)
        )  # fmt: skip
    return SharingSnapshot(systems, tuple(stations), tuple(vehicles), types, (), now)


def synthetic_overlay(planner: Any, seed: int) -> tuple[Any, float, int]:
    """A realtime overlay of the service day: a quarter of the trip instances late by 1-7 min from
    a random stop on, 2 % cancelled; returns the overlay, its build seconds and the update count."""
    from mobility.journeys import format_gtfs_time
    from mobility.realtime.gtfs_rt import StopTimeUpdate, TripRelationship, TripUpdate
    from mobility.realtime.overlay import OverlayBase, build_overlay

    tt = planner.tt
    base = OverlayBase(tt)
    rng = random.Random(seed)
    updates = []
    for inst in range(base.n_inst):
        r = rng.random()
        if int(tt.inst_day[inst]) != 0 or r >= 0.27:
            continue
        trip = int(tt.inst_trip[inst])
        p, start, n = base.rows(inst)
        so = int(tt.pat_stop_off[p])
        first = format_gtfs_time(int(tt.transit.dep_s[start]))
        if r < 0.02:
            updates.append(TripUpdate(f"c{inst}", str(tt.trip_ids[trip]), None, None, None, first,
                                      TripRelationship.CANCELED, ()))  # fmt: skip
            continue
        at = rng.randrange(n)
        delay = 60 * rng.randint(1, 7)
        stu = StopTimeUpdate(None, str(tt.stop_ids[tt.pat_stops[so + at]]), delay, None, delay)
        updates.append(TripUpdate(f"d{inst}", str(tt.trip_ids[trip]), None, None, None, first,
                                  TripRelationship.SCHEDULED, (stu,)))  # fmt: skip
    t0 = time.perf_counter()
    overlay = build_overlay(base, updates)
    return overlay, time.perf_counter() - t0, overlay.applied


def _load(name: str, tmp: Path) -> tuple[Any, dict[str, float], tuple[Path, Path, dt.date]]:
    from mobility.cache import get_timetable
    from mobility.planner.availability import SnapshotAvailability
    from mobility.planner.plan import Planner
    from mobility.streets.graph import build_network
    from mobility.streets.osm import read_osm

    if name == "demo":
        from scenarios.demo import build_demo_city

        city = build_demo_city(tmp / "demo", seed=42)
        osm, gtfs = city.osm, city.gtfs
        date = dt.date.today()
        avail = SnapshotAvailability.from_paths([city.gbfs_dir], [city.ocpi_locations])
    else:
        osm_name, gtfs_name, day = CITIES[name]
        osm, gtfs, date = SHARED / "osm" / osm_name, SHARED / "gtfs" / gtfs_name, dt.date.fromisoformat(day)
        avail = None
    t0 = time.perf_counter()
    net = build_network(read_osm(osm))
    t1 = time.perf_counter()
    tt, _ = get_timetable([gtfs], date, tmp / "tt")
    t2 = time.perf_counter()
    planner = Planner(net, tt, avail)
    planner.router(1.2, 400.0)
    t3 = time.perf_counter()
    if avail is None:
        try:
            planner.availability = SnapshotAvailability(synthetic_sharing(planner, 3), [])
        except ImportError:  # no GBFS model in this checkout: the sharing mixes are left out
            planner.availability = None
    return (
        planner,
        {"graph_build_s": t1 - t0, "timetable_s": t2 - t1, "planner_load_s": t3 - t2},
        (osm, gtfs, date),
    )


def run_one(name: str, n: int, exact: int) -> dict[str, Any]:
    """Benchmark one dataset in this process."""
    from mobility.errors import NoRouteError
    from mobility.planner.query import PlanQuery
    from tests.mobility.planner.door_queries import random_door_queries

    with tempfile.TemporaryDirectory() as tmpdir:
        planner, figures, (osm, gtfs, date) = _load(name, Path(tmpdir))
        queries = random_door_queries(planner, n + 10, seed=5)
        result: dict[str, Any] = {"dataset": name, **{k: round(v, 2) for k, v in figures.items()}}
        overlay, build_s, applied = synthetic_overlay(planner, 11)
        result["overlay"] = {"build_s": round(build_s, 2), "updates": applied}
        for label, (modes, ev) in MIXES.items():
            if (ev and name != "demo") or ("share" in modes and planner.availability is None):
                continue
            times, cpu, found = [], [], 0
            for i, (fa, fo, ta, to, t) in enumerate(queries):
                q = PlanQuery(
                    fa, fo, ta, to, planner.at(t), modes=PlanQuery.parse_modes(modes), ev_connector=ev
                )
                start, start_cpu = time.perf_counter(), time.process_time()
                try:
                    planner.plan(q, overlay=overlay if "realtime" in label else None)
                    found += 1
                except NoRouteError:
                    pass
                if i >= 10:  # warm-up: JIT and first router
                    times.append((time.perf_counter() - start) * 1000)
                    cpu.append((time.process_time() - start_cpu) * 1000)
            result[label] = {
                "p50_ms": round(float(np.percentile(times, 50)), 1),
                "p95_ms": round(float(np.percentile(times, 95)), 1),
                "answered": f"{found}/{len(queries)}",
                "cpu_p95_ms": round(float(np.percentile(cpu, 95)), 1),
            }
        if exact and name != "demo":
            result["exact"] = _exact(planner, osm, gtfs, date, exact)
        result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)
        return result


def _exact(planner: Any, osm: Path, gtfs: Path, date: dt.date, n: int) -> dict[str, Any]:
    from mobility.errors import NoRouteError
    from mobility.planner.query import PlanQuery
    from tests.mobility.planner.door_reference import DoorReference

    ref = DoorReference(osm, gtfs, date)
    g = planner.streets.graph("walk")
    rng = random.Random(99)
    diffs = []
    for _ in range(n):  # places anywhere in the extract, any time of the service day and after midnight
        a = (rng.uniform(g.lat.min(), g.lat.max()), rng.uniform(g.lon.min(), g.lon.max()))
        b = (rng.uniform(g.lat.min(), g.lat.max()), rng.uniform(g.lon.min(), g.lon.max()))
        t = rng.randrange(0, 27 * 3600)
        try:
            got, _ = planner.earliest(PlanQuery(*a, *b, planner.at(t)))
        except NoRouteError:
            got = None
        want, _ = ref.query(a, b, t)
        if got is not None and want is not None:
            diffs.append(got - want)
        elif (got is None) != (want is None):
            diffs.append(10**9)
    d = np.asarray(diffs)
    return {"queries": len(d), "equal": int((d == 0).sum()), "earlier": int((d < 0).sum()),
            "max_late_s": int(d.max()) if len(d) else 0}  # fmt: skip


def main() -> None:
    """Run every dataset in its own process and print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--only", nargs="*", default=["sao_paulo", "helsinki", "demo"])
    parser.add_argument("--exact", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.queries, args.exact)))
        return
    rows = []
    for name in args.only:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            name,
            "--queries",
            str(args.queries),
            "--exact",
            str(args.exact),
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    if args.json:
        print(json.dumps(rows, indent=2))
    head = (
        "| dataset | graph build s | timetable s | planner load s | peak RSS MiB | "
        + " | ".join(f"{m} p50 / p95 ms (answered)" for m in MIXES)
        + " | overlay build s (updates) | exact (equal/queries, earlier, max late s) |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for r in rows:
        cells = [r["dataset"], r["graph_build_s"], r["timetable_s"], r["planner_load_s"], r["peak_rss_mib"]]
        for m in MIXES:
            cells.append(
                f"{r[m]['p50_ms']} / {r[m]['p95_ms']} (CPU p95 {r[m]['cpu_p95_ms']}; {r[m]['answered']})"
                if m in r
                else "-"
            )
        o = r.get("overlay")
        cells.append(f"{o['build_s']} ({o['updates']})" if o else "-")
        e = r.get("exact")
        cells.append(f"{e['equal']}/{e['queries']}, {e['earlier']}, {e['max_late_s']}" if e else "-")
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
