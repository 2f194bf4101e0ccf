"""Realtime benchmark: applying a GTFS-Realtime TripUpdates message to a city timetable, and
routing with the overlay against routing without it.

    .venv/bin/python benchmarks/realtime.py --mta-dir /work/mta [--updates 1000] [--queries 500]

Timetable: MTA subway (``mta_subway.gtfs.zip`` made by ``../shared/tools/mta_gtfs.py``, which it
runs when the zip is missing) on Tuesday 2026-09-15. A seeded synthetic TripUpdates message with
``--updates`` trip updates of trips running that day: 85 % delays (-1..+15 min at one to three
stops, propagated along the trip, so many overtake), 5 % with a skipped stop, 5 % cancelled,
5 % added trips. Timed: decoding + parsing the message, and building the overlay (best of 5);
the per-timetable index (``OverlayBase``) is built once and reported separately. Then ``--queries``
random stop-to-stop earliest-arrival queries (06:00-20:00) run with and without the overlay
(``--transfers gtfs`` footpaths), after a warm-up, best of 3 rounds; the ratio of the means is the
overlay's routing cost. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from google.transit import gtfs_realtime_pb2 as pb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mobility.cache import get_timetable  # noqa: E402
from mobility.footpaths import gtfs_footpaths  # noqa: E402
from mobility.raptor import Router  # noqa: E402
from mobility.realtime.gtfs_rt import parse_feed  # noqa: E402
from mobility.realtime.overlay import OverlayBase, build_overlay  # noqa: E402
from mobility.timetable import Timetable  # noqa: E402

DATE = dt.date(2026, 9, 15)
TOOL = REPO / ".." / "shared" / "tools" / "mta_gtfs.py"


def mta_zip(mta_dir: Path) -> Path:
    """The subway zip, converted with the shared tool when it is missing."""
    target = mta_dir / "mta_subway.gtfs.zip"
    if not target.exists():
        subprocess.run([sys.executable, str(TOOL), str(mta_dir), "subway"], check=True)
    return target


def synthetic_message(tt: Timetable, base: OverlayBase, n: int, seed: int) -> bytes:
    """A TripUpdates FeedMessage with ``n`` trip updates of trips running on the date."""
    rng = np.random.default_rng(seed)
    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = base.epoch + 12 * 3600
    day0 = np.flatnonzero(tt.inst_day == 0)
    chosen = rng.choice(day0, size=n, replace=False)
    tr = base.transit
    for k, inst in enumerate(chosen.tolist()):
        p, start, n_stops = base.rows(inst)
        so = int(tr.pat_stop_off[p])
        stops = [str(tt.stop_ids[s]) for s in tr.pat_stops[so : so + n_stops]]
        trip_id = str(tt.trip_ids[tt.inst_trip[inst]])
        e = msg.entity.add(id=f"e{k}")
        tu = e.trip_update
        kind = rng.random()
        if kind < 0.05:
            tu.trip.trip_id = trip_id
            tu.trip.schedule_relationship = pb.TripDescriptor.CANCELED
        elif kind < 0.10:  # added: a copy of the trip 7 minutes later under a new id
            tu.trip.trip_id = f"added-{k}"
            tu.trip.schedule_relationship = pb.TripDescriptor.ADDED
            for i, stop in enumerate(stops):
                u = tu.stop_time_update.add(stop_sequence=i + 1, stop_id=stop)
                u.arrival.time = base.epoch + int(tr.arr_s[start + i]) + 420
                u.departure.time = base.epoch + int(tr.dep_s[start + i]) + 420
        else:
            tu.trip.trip_id = trip_id
            positions = sorted(rng.choice(n_stops, size=min(n_stops, int(rng.integers(1, 4))), replace=False))
            for i in positions:
                u = tu.stop_time_update.add(stop_id=stops[i])
                if kind < 0.15 and i == positions[-1]:
                    u.schedule_relationship = pb.TripUpdate.StopTimeUpdate.SKIPPED
                else:
                    u.arrival.delay = int(rng.integers(-60, 900))
    return msg.SerializeToString()


def best_of(fn, repeats: int) -> tuple[float, object]:
    """The fastest of ``repeats`` calls of ``fn`` (seconds) and its result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def route_times(router: Router, pairs: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The time of each stop-to-stop query (seconds) and its answers."""
    lat = np.empty(len(pairs))
    answers = []
    for q, (o, d) in enumerate(pairs):
        t0 = time.perf_counter()
        a, _ = router.earliest_arrival(np.array([o], np.int32), np.array([d], np.int32), int(times[q]))
        lat[q] = time.perf_counter() - t0
        answers.append(a)
    return lat, answers


def main() -> None:
    """Run the measurements and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mta-dir", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "data" / "cache")
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    t0 = time.perf_counter()
    tt, cached = get_timetable([mta_zip(args.mta_dir)], DATE, args.cache_dir)
    load_s = time.perf_counter() - t0
    base_s, base = best_of(lambda: OverlayBase(tt), 1)
    assert isinstance(base, OverlayBase)
    data = synthetic_message(tt, base, args.updates, args.seed)
    parse_s, feed = best_of(lambda: parse_feed(data, "synthetic"), 5)
    overlay_s, overlay = best_of(lambda: build_overlay(base, feed), 5)  # type: ignore[arg-type]
    total_s, _ = best_of(lambda: build_overlay(base, parse_feed(data, "synthetic")), 5)

    fp = gtfs_footpaths(tt)
    plain = Router(tt, fp)
    live = Router(tt, fp, transit=overlay.transit)  # type: ignore[union-attr]
    rng = np.random.default_rng(args.seed)
    served = np.flatnonzero(np.diff(tt.transit.stop_pat_off) > 0)
    pairs = np.array([rng.choice(served, 2, replace=False) for _ in range(args.queries)])
    times = rng.integers(6 * 3600, 20 * 3600, size=args.queries)
    route_times(plain, pairs[:20], times[:20])  # JIT warm-up
    route_times(live, pairs[:20], times[:20])
    plain_ms, live_ms = np.inf, np.inf
    for _ in range(3):
        lat_p, ans_p = route_times(plain, pairs, times)
        lat_l, ans_l = route_times(live, pairs, times)
        plain_ms = min(plain_ms, lat_p.mean() * 1000)
        live_ms = min(live_ms, lat_l.mean() * 1000)
    changed = sum(a != b for a, b in zip(ans_p, ans_l, strict=True))

    ov = overlay  # type: ignore[assignment]
    print(f"MTA subway {DATE}: {tt.n_stops} stops, {tt.transit.n_patterns} patterns, "
          f"{len(tt.inst_trip)} trip instances, {len(tt.arr_s)} stop times; "
          f"timetable {'from cache' if cached else 'built'} in {load_s:.1f} s")  # fmt: skip
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| trip updates in the message | {args.updates} ({len(data) / 1024:.0f} KiB) |")
    print(f"| applied / skipped | {ov.applied} / {len(ov.problems)} |")  # type: ignore[union-attr]
    print(f"| cancelled / added trips | {len(ov.cancelled)} / {len(ov.added)} |")  # type: ignore[union-attr]
    print(f"| patterns without / with overlay | {tt.transit.n_patterns} / {ov.transit.n_patterns} |")  # type: ignore[union-attr]
    print(f"| OverlayBase (once per timetable) | {base_s * 1000:.0f} ms |")
    print(f"| parse message (best of 5) | {parse_s * 1000:.0f} ms |")
    print(f"| build overlay (best of 5) | {overlay_s * 1000:.0f} ms |")
    print(f"| parse + build (best of 5), target <= 1000 ms | {total_s * 1000:.0f} ms |")
    print(f"| routing mean without overlay ({args.queries} queries, best of 3) | {plain_ms:.2f} ms |")
    print(f"| routing mean with overlay | {live_ms:.2f} ms |")
    print(f"| ratio with / without, target <= 1.5 | {live_ms / plain_ms:.2f} |")
    print(f"| answers changed by the overlay | {changed} of {args.queries} |")


if __name__ == "__main__":
    main()
