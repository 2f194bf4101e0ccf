"""A slow, independent door-to-door reference: networkx walking on every pedestrian OSM way plus
the stop-event timetable search of ``tests/mobility/reference.py``.

Shares no code with ``mobility``: ways are read with osmium and filtered here, distances are
haversine sums, shortest walks are networkx Dijkstra on the undirected graph (largest connected
component), places and stops join their nearest node by brute force and the straight line counts
as walking.  Transit follows timetable-semantics.md round by round over every stop event; walks
between rides are the street walks up to ``max_transfer_m`` plus the walks transfers.txt allows
(the shorter of the two for a pair).  Access and egress walks are at most ``max_walk_m``; walking
the whole way is allowed up to ``max_direct_s``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import zipfile
from pathlib import Path

import networkx as nx
import numpy as np
import osmium

from tests.mobility.reference import BIG, Reference

WALKABLE = {
    "footway", "pedestrian", "path", "steps", "living_street", "residential", "service", "unclassified",
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link", "trunk",
    "trunk_link", "track", "corridor", "platform", "road", "elevator",
}  # fmt: skip
NO = {"no", "private"}
R = 6_371_008.8


def hav(lat1: float, lon1: float, lat2: np.ndarray | float, lon2: np.ndarray | float) -> np.ndarray:
    p1, p2 = math.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * np.cos(p2) * np.sin(np.radians(np.asarray(lon2) - lon1) / 2) ** 2
    )
    return 2 * R * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def _closed(tags: dict[str, str]) -> bool:
    """A barrier (gate, ...) that pedestrians may not pass."""
    if "barrier" not in tags:
        return False
    if "foot" in tags:
        return tags["foot"] in NO
    return tags.get("access") in NO


def pedestrian_graph(osm: Path) -> nx.Graph:
    """Every way a pedestrian may use (German defaults: no motorways, cycleways or bridleways),
    cut at barriers closed to pedestrians."""
    g = nx.Graph()
    closed: set[int] = set()
    for w in osmium.FileProcessor(str(osm), osmium.osm.NODE | osmium.osm.WAY).with_locations():
        if isinstance(w, osmium.osm.Node):
            if _closed(dict(w.tags)):
                closed.add(w.id)
            continue
        if not isinstance(w, osmium.osm.Way):
            continue
        t = dict(w.tags)
        hw = t.get("highway")
        signed = t.get("foot") in ("yes", "designated", "permissive")
        if hw is None or (hw not in WALKABLE and not signed) or t.get("motorroad") == "yes":
            continue
        if hw not in ("pedestrian", "footway") and t.get("area") == "yes":
            continue
        allowed = t.get("access") not in NO
        if "foot" in t:
            allowed = t["foot"] not in NO
        if not allowed:
            continue
        prev = None
        for n in w.nodes:
            if not n.location.valid():
                prev = None
                continue
            g.add_node(n.ref, lat=n.location.lat, lon=n.location.lon)
            if prev is not None and prev != n.ref and prev not in closed and n.ref not in closed:
                a, b = g.nodes[prev], g.nodes[n.ref]
                d = float(hav(a["lat"], a["lon"], b["lat"], b["lon"]))
                if not g.has_edge(prev, n.ref) or g[prev][n.ref]["weight"] > d:
                    g.add_edge(prev, n.ref, weight=max(d, 0.01))
            prev = n.ref
    return g.subgraph(max(nx.connected_components(g), key=len)).copy()


class DoorReference:
    """Earliest door-to-door arrivals by brute force (seconds on the service day's GTFS clock)."""

    def __init__(
        self, osm: Path, gtfs: Path, date: dt.date, *, walk_speed_mps: float = 1.2,
        max_walk_m: float = 1500.0, max_transfer_m: float = 400.0, max_direct_s: int = 4 * 3600,
    ) -> None:  # fmt: skip
        self.g = pedestrian_graph(osm)
        self.ids = np.array(list(self.g.nodes))
        self.lat = np.array([self.g.nodes[n]["lat"] for n in self.ids])
        self.lon = np.array([self.g.nodes[n]["lon"] for n in self.ids])
        self.speed, self.max_walk, self.max_tr, self.max_direct = (
            walk_speed_mps,
            max_walk_m,
            max_transfer_m,
            max_direct_s,
        )
        self.tt = Reference([gtfs], date)
        with zipfile.ZipFile(gtfs) as zf:
            rows = list(csv.DictReader(io.StringIO(zf.read("stops.txt").decode("utf-8-sig"))))
        self.stop_node = np.full(self.tt.n_stops, -1, dtype=np.int64)
        self.stop_off = np.full(self.tt.n_stops, np.inf)
        for r in rows:
            i = self.tt.stop_index[r["stop_id"].strip()]
            node, off = self.nearest(float(r["stop_lat"]), float(r["stop_lon"]))
            if off <= max_walk_m:
                self.stop_node[i], self.stop_off[i] = node, off
        walks: dict[tuple[int, int], int] = {}
        for a, b, s in zip(
            self.tt.walk_a.tolist(), self.tt.walk_b.tolist(), self.tt.walk_s.tolist(), strict=True
        ):
            walks[(a, b)] = min(s, walks.get((a, b), BIG))
        linked = np.nonzero(self.stop_node >= 0)[0]
        for a in linked.tolist():
            dist = nx.single_source_dijkstra_path_length(
                self.g, int(self.stop_node[a]), cutoff=max_transfer_m, weight="weight"
            )
            for b in linked.tolist():
                d = dist.get(int(self.stop_node[b]))
                if a != b and d is not None:
                    d += self.stop_off[a] + self.stop_off[b]
                    if d <= max_transfer_m:
                        walks[(a, b)] = min(walks.get((a, b), BIG), math.ceil(d / walk_speed_mps - 1e-9))
        self.walk_a = np.array([k[0] for k in walks], dtype=np.int64)
        self.walk_b = np.array([k[1] for k in walks], dtype=np.int64)
        self.walk_s = np.array(list(walks.values()), dtype=np.int64)

    def nearest(self, lat: float, lon: float) -> tuple[int, float]:
        d = hav(lat, lon, self.lat, self.lon)
        i = int(np.argmin(d))
        return int(self.ids[i]), float(d[i])

    def walk_m(self, a: tuple[float, float], b: tuple[float, float]) -> float:
        """Shortest walking metres between two places (straight lines to their nearest nodes included)."""
        na, oa = self.nearest(*a)
        nb, ob = self.nearest(*b)
        return float(nx.dijkstra_path_length(self.g, na, nb, weight="weight")) + oa + ob

    def _stop_walks(
        self, lat: float, lon: float, cutoff: float
    ) -> tuple[np.ndarray, float, dict[int, float]]:
        node, off = self.nearest(lat, lon)
        dist = nx.single_source_dijkstra_path_length(self.g, node, cutoff=cutoff, weight="weight")
        per_stop = np.full(self.tt.n_stops, np.inf)
        for s in np.nonzero(self.stop_node >= 0)[0].tolist():
            d = dist.get(int(self.stop_node[s]))
            if d is not None:
                per_stop[s] = d + off + self.stop_off[s]
        return per_stop, off, dist

    def query(
        self, frm: tuple[float, float], to: tuple[float, float], t: int
    ) -> tuple[int | None, int | None]:
        """(earliest arrival, rides) leaving ``frm`` at ``t``; (None, None) when unreachable."""
        acc, off_o, dist_o = self._stop_walks(*frm, cutoff=max(self.max_walk, self.max_direct * self.speed))
        egr, _, _ = self._stop_walks(*to, cutoff=self.max_walk)
        nd, off_d = self.nearest(*to)
        best, best_k = BIG, None
        if nd in dist_o:
            direct = dist_o[nd] + off_o + off_d
            if direct / self.speed <= self.max_direct:
                best, best_k = t + math.ceil(direct / self.speed - 1e-9), 0
        board = np.full(self.tt.n_stops, BIG, dtype=np.int64)
        ok = acc <= self.max_walk
        board[ok] = t + np.ceil(acc[ok] / self.speed - 1e-9).astype(np.int64)
        eok = egr <= self.max_walk
        egress_s = np.full(self.tt.n_stops, BIG, dtype=np.int64)
        egress_s[eok] = np.ceil(egr[eok] / self.speed - 1e-9).astype(np.int64)
        tt = self.tt
        for k in range(1, 60):
            can_board = (board[tt.stop] <= tt.dep) & tt.pick
            count = np.cumsum(can_board)
            before = count - can_board - (count[tt.first_event] - can_board[tt.first_event])
            ridden = (before > 0) & tt.drop
            ride = np.full(tt.n_stops, BIG, dtype=np.int64)
            np.minimum.at(ride, tt.stop[ridden], tt.arr[ridden])
            reach = ride + egress_s
            if reach.min() < best:
                best, best_k = int(reach.min()), k
            new_board = np.minimum(board, ride)
            if len(self.walk_a):
                np.minimum.at(new_board, self.walk_b, ride[self.walk_a] + self.walk_s)
            if np.array_equal(new_board, board):
                break
            board = new_board
        return (None, None) if best >= BIG else (int(best), best_k)
