"""Seeded random door-to-door queries, shared by the exactness tests and ``benchmarks/planner.py``."""

from __future__ import annotations

import random

from mobility.planner.plan import Planner

DoorQuery = tuple[float, float, float, float, int]
"""``(from_lat, from_lon, to_lat, to_lon, departure_s)``."""


def random_door_queries(planner: Planner, n: int, seed: int) -> list[DoorQuery]:
    """``n`` places in the box of the stops linked to the streets (where transit can matter), both
    anchored on the walk graph, with departures 06:00-22:00 (seconds of the service day)."""
    assert planner.links is not None and planner.tt is not None
    linked = planner.links.linked
    lat, lon = planner.tt.stop_lat[linked], planner.tt.stop_lon[linked]
    rng = random.Random(seed)
    out: list[DoorQuery] = []
    while len(out) < n:
        a = (rng.uniform(lat.min(), lat.max()), rng.uniform(lon.min(), lon.max()))
        b = (rng.uniform(lat.min(), lat.max()), rng.uniform(lon.min(), lon.max()))
        if planner.streets.try_anchor(*a, "walk") and planner.streets.try_anchor(*b, "walk"):
            out.append((*a, *b, rng.randrange(6 * 3600, 22 * 3600, 7)))
    return out
