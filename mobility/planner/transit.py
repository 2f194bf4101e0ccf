"""Transit with real walking: stops linked to the walk graph, street footpaths, access and egress."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from mobility.footpaths import Footpaths
from mobility.planner.streets import StreetSide, Tree
from mobility.streets.graph import haversine_m
from mobility.timetable import Timetable

log = logging.getLogger(__name__)
#: stop-to-stop distances are measured once up to this many metres
FOOTPATH_SEARCH_M = 1000.0
#: a stop farther than this from any walkable street is reported and left out (the straight line to
#: the street counts as walking, so a far stop is rarely useful anyway)
STOP_LINK_MAX_M = 1500.0
_CHUNK = 64


@dataclass
class StopLinks:
    """Boardable stops linked to the walk graph (node -1: farther than the limit, reported)."""

    node: np.ndarray  # int32 per stop
    offset_m: np.ndarray  # float64 per stop: straight line from the stop to its node
    unlinked: list[str]

    @property
    def linked(self) -> np.ndarray:
        """Indices of the linked stops."""
        return np.nonzero(self.node >= 0)[0]


def link_stops(tt: Timetable, streets: StreetSide, max_m: float = STOP_LINK_MAX_M) -> StopLinks:
    """Link every stop served by a pattern (and every platform stop) to its nearest walk node."""
    served = np.zeros(tt.n_stops, dtype=bool)
    served[tt.pat_stops] = True
    served |= tt.stop_location_type == 0
    links = streets.snappers["walk"].link(tt.stop_lat, tt.stop_lon, max_m)
    node = np.where(served, links.node, -1).astype(np.int32)
    g = streets.graph("walk")
    ok = node >= 0
    offset = np.full(tt.n_stops, np.inf)
    offset[ok] = haversine_m(tt.stop_lat[ok], tt.stop_lon[ok], g.lat[node[ok]], g.lon[node[ok]])
    unlinked = [str(tt.stop_ids[i]) for i in np.nonzero(served & (node < 0))[0]]
    if unlinked:
        log.info("%d stops are more than %.0f m from a walkable street: %s", len(unlinked), max_m,
                    ", ".join(unlinked[:10]) + (" ..." if len(unlinked) > 10 else ""))  # fmt: skip
    return StopLinks(node, offset, unlinked)


def stop_distances(
    links: StopLinks, streets: StreetSide, max_m: float = FOOTPATH_SEARCH_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Street walking distances ``(from, to, distance_m)`` between linked stops up to ``max_m``.

    A distance is the straight line from the stop to its node, the shortest walk on the street
    graph, and the straight line from the other node to its stop.
    """
    g = streets.graph("walk")
    stops = links.linked
    by_node: dict[int, list[int]] = {}
    for s in stops.tolist():
        by_node.setdefault(int(links.node[s]), []).append(s)
    nodes = np.asarray(sorted(by_node), dtype=np.int32)
    frm: list[int] = []
    to: list[int] = []
    dist: list[float] = []
    fwd, _ = g.matrices()
    from scipy.sparse.csgraph import dijkstra

    for lo in range(0, len(nodes), _CHUNK):
        chunk = nodes[lo : lo + _CHUNK]
        d = dijkstra(fwd, directed=True, indices=chunk, limit=max_m)
        sub = d[:, nodes]
        rows, cols = np.nonzero(np.isfinite(sub))
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            street = float(sub[r, c])
            for a in by_node[int(chunk[r])]:
                for b in by_node[int(nodes[c])]:
                    total = links.offset_m[a] + street + links.offset_m[b]
                    if a != b and total <= max_m:
                        frm.append(a)
                        to.append(b)
                        dist.append(float(total))
    return (
        np.asarray(frm, dtype=np.int64),
        np.asarray(to, dtype=np.int64),
        np.asarray(dist, dtype=np.float64),
    )


def street_footpaths(
    tt: Timetable,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    max_transfer_m: float,
    walk_speed_mps: float,
    gtfs_transfers: bool = True,
) -> Footpaths:
    """Walks between stops: on the streets up to ``max_transfer_m``, plus those transfers.txt allows.

    The two sets are united; a pair in both keeps the shorter time.  Walks transfers.txt forbids
    (transfer_type 3) only drop the feed's own walk: a street walk of that pair stays, since the
    walking rules of door-to-door queries are "street walks plus the walks transfers.txt allows".
    """
    frm, to, dist = pairs
    keep = dist <= max_transfer_m
    frm_all = [frm[keep]]
    to_all = [to[keep]]
    time_all = [np.ceil(dist[keep] / walk_speed_mps - 1e-9).astype(np.int64)]
    if gtfs_transfers:
        ok = (tt.rule_time_s >= 0) & (tt.rule_from != tt.rule_to)
        frm_all.append(tt.rule_from[ok].astype(np.int64))
        to_all.append(tt.rule_to[ok].astype(np.int64))
        time_all.append(tt.rule_time_s[ok].astype(np.int64))
    f = np.concatenate(frm_all).astype(np.int64)
    t = np.concatenate(to_all).astype(np.int64)
    w = np.concatenate(time_all)
    if len(f) == 0:
        return Footpaths.none(tt.n_stops)
    order = np.lexsort((w, t, f))
    f, t, w = f[order], t[order], w[order]
    first = np.ones(len(f), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
    return Footpaths.from_pairs(tt.n_stops, f[first], t[first], w[first])


@dataclass
class StopAccess:
    """Stops reachable on foot from (or to) a place: stop index, metres, whole seconds."""

    stops: np.ndarray
    distance_m: np.ndarray
    time_s: np.ndarray
    tree: Tree


def stop_access(tree: Tree, links: StopLinks, max_walk_m: float, walk_speed_mps: float) -> StopAccess:
    """The stops within ``max_walk_m`` of the tree's anchor (offsets at both ends included)."""
    stops = links.linked
    d = tree.dist[links.node[stops]] + links.offset_m[stops] + tree.anchor.offset_m
    ok = np.isfinite(d) & (d <= max_walk_m)
    stops, d = stops[ok], d[ok]
    time_s = np.ceil(d / walk_speed_mps - 1e-9).astype(np.int32)
    return StopAccess(stops.astype(np.int32), d, time_s, tree)


def direct_walk_m(tree: Tree, other_node: int, other_offset_m: float) -> float:
    """Walking distance between the tree's anchor and another linked place (inf when not reached)."""
    d = float(tree.dist[other_node])
    return d + tree.anchor.offset_m + other_offset_m if math.isfinite(d) else math.inf
