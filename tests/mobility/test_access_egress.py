"""Several origins reached at different times and several targets with an egress walk each.

The door-to-door planner starts RAPTOR at every stop its access walk reaches (``origin_delay_s``)
and ends at every stop from which it can walk to the destination (``target_egress_s``).  The answer
must be the best over all origin/target pairs of the single-stop answers plus the egress time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from mobility.footpaths import gtfs_footpaths
from mobility.raptor import Router
from mobility.timetable import build_timetable


def _router(feed: Path, day: dt.date) -> Router:
    tt = build_timetable([feed], day)
    return Router(tt, gtfs_footpaths(tt))


def test_best_pair_wins_with_delays_and_egress_on_helsinki(shared_data: Path) -> None:
    router = _router(shared_data / "gtfs" / "hsl_helsinki_centre_2022.gtfs.zip", dt.date(2022, 2, 22))
    served = np.unique(router.tt.pat_stops)
    rng = np.random.default_rng(11)
    compared = 0
    for _ in range(25):
        picked = rng.choice(served, 6, replace=False).astype(np.int32)
        origins, targets = picked[:3], picked[3:]
        delay = rng.integers(0, 900, size=3).astype(np.int32)
        egress = rng.integers(0, 900, size=3).astype(np.int32)
        t0 = int(rng.integers(7 * 3600, 18 * 3600))
        singles = [
            (router.earliest_arrival(origins[i : i + 1], targets[j : j + 1], t0 + int(delay[i]))[0], j)
            for i in range(3)
            for j in range(3)
        ]
        expected = min((a + int(egress[j]) for a, j in singles if a >= 0), default=-1)
        got = router.earliest_arrival(origins, targets, t0, origin_delay_s=delay, target_egress_s=egress)
        assert got[0] == expected
        if expected < 0:
            continue
        journeys = router.pareto(origins, targets, t0, origin_delay_s=delay, target_egress_s=egress)
        best = journeys[-1]
        assert best.arrival_s == expected
        # the last ride ends at a target and the egress of that target is what was added
        j = int(np.flatnonzero(targets == best.rides[-1].alight_stop)[0])
        assert best.egress_s == int(egress[j]) and best.arrival_s == best.rides[-1].alight_s + best.egress_s
        # the first ride boards no earlier than its origin is reached
        i = int(np.flatnonzero(origins == best.rides[0].board_stop)[0])
        assert best.rides[0].board_s >= t0 + int(delay[i])
        compared += 1
    assert compared >= 15
