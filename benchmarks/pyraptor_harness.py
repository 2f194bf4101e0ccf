"""Time the PyPI package ``pyraptor`` on the same timetable and queries as ``benchmarks/routing.py``.

Runs in its own virtual environment (pyraptor pins old pandas/numpy versions):

    python3 -m venv /tmp/pyraptor-venv
    /tmp/pyraptor-venv/bin/pip install pyraptor attrs "numpy<2"
    /tmp/pyraptor-venv/bin/python benchmarks/pyraptor_harness.py EXPORT.json RESULT.json

pyraptor's own GTFS import only reads Dutch NS-style feeds (agency filter by name, calendar_dates.txt
only, trip_short_name and platform_code required), so the trips active on the service date are
exported by routing.py (same trip instances RAPTOR uses) and fed into pyraptor's model classes here,
one pyraptor "station" per stop and our footpaths as its transfers.  Each query runs
``RaptorAlgorithm.run`` with ``rounds`` rounds and reads the best arrival at the target stops.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    """Build the pyraptor timetable from the export and time every query."""
    from loguru import logger
    from pyraptor.model.raptor import RaptorAlgorithm
    from pyraptor.model.structures import (
        Routes,
        Station,
        Stations,
        Stop,
        Stops,
        Timetable,
        Transfer,
        Transfers,
        Trip,
        Trips,
        TripStopTime,
        TripStopTimes,
    )

    logger.remove()
    export_path, result_path = sys.argv[1], sys.argv[2]
    with open(export_path) as handle:
        data = json.load(handle)
    t0 = time.perf_counter()
    stations, stops = Stations(), Stops()
    for sid in data["stops"]:
        station = stations.add(Station(sid, sid))
        stop = Stop(sid, sid, station, "?")
        station.add_stop(stop)
        stops.add(stop)
    trips, trip_stop_times = Trips(), TripStopTimes()
    for seq in data["trips"]:
        # the id Trips.add will give it, set up front: pyraptor hashes stop times by (trip, index)
        # and an id of None would make every key collide
        trip = Trip(id=len(trips) + 1)
        for idx, (sid, arr, dep) in enumerate(seq):
            tst = TripStopTime(trip, idx, stops.get(sid), arr, dep, 0)
            trip_stop_times.add(tst)
            trip.add_stop_time(tst)
        trips.add(trip)
    routes = Routes()
    for trip in trips:
        routes.add(trip)
    transfers = Transfers()
    for a, b, walk_s in data["footpaths"]:
        transfers.add(Transfer(from_stop=stops.get(a), to_stop=stops.get(b), layovertime=walk_s))
    timetable = Timetable(
        stations=stations,
        stops=stops,
        trips=trips,
        trip_stop_times=trip_stop_times,
        routes=routes,
        transfers=transfers,
    )
    build_s = time.perf_counter() - t0
    print(f"pyraptor timetable built in {build_s:.1f} s", file=sys.stderr, flush=True)
    rounds = int(data["rounds"])
    budget_s = float(data.get("budget_s", 300.0))
    results = []
    spent = 0.0
    for origins, targets, dep in data["queries"]:
        if spent > budget_s:
            break
        start = time.perf_counter()
        bag = RaptorAlgorithm(timetable).run([stops.get(o) for o in origins], dep, rounds)
        best = min(bag[rounds][stops.get(t)].earliest_arrival_time for t in targets)
        elapsed = time.perf_counter() - start
        spent += elapsed
        results.append({"arrival": int(best) if best < 10**9 else -1, "seconds": elapsed})
        print(f"query {len(results)}: {elapsed:.2f} s", file=sys.stderr, flush=True)
        with open(result_path, "w") as handle:  # after every query, so a time-out keeps the figures
            json.dump({"build_s": build_s, "results": results}, handle)


if __name__ == "__main__":
    main()
