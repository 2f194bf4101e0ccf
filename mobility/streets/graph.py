"""Street graphs per profile: built with networkx, served as CSR arrays with one-to-many searches.

Every node of every usable highway way is a graph node, so a path's node sequence is its
geometry.  Per profile the graph keeps only its largest strongly connected component (islands
such as a closed car park or a footway cut off by a barrier are pruned).  Edge weights are metres
for ``walk`` (the query's walk speed turns them into seconds) and seconds for ``bike`` and
``car``.  Searches run ``scipy.sparse.csgraph.dijkstra`` with a limit, forwards or on the
transposed graph (for egress and arrive-by).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from mobility.streets.osm import OsmWays
from mobility.streets.profiles import PROFILES, node_blocks, way_rule

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
MIN_EDGE_M = 0.01


def haversine_m(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    """Great-circle distance in metres (element-wise)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


class Csr(NamedTuple):
    """A directed graph as compressed sparse rows (``indptr``, ``indices``, ``weight``)."""

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray

    def matrix(self, n: int) -> csr_matrix:
        """The scipy matrix view of the arrays (no copy)."""
        return csr_matrix((self.weight, self.indices, self.indptr), shape=(n, n))


@dataclass
class ProfileGraph:
    """One profile's pruned street graph over compact node ids ``0..n-1``."""

    profile: str
    node: np.ndarray  # int32 index into the network's node arrays, per graph node
    lat: np.ndarray
    lon: np.ndarray
    forward: Csr  # weight: metres (walk) or seconds (bike, car)
    length_m: np.ndarray  # per forward edge, aligned with forward.indices
    _fwd: csr_matrix | None = None
    _bwd: csr_matrix | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.forward.indices.shape[0])

    def matrices(self) -> tuple[csr_matrix, csr_matrix]:
        """Forward and transposed scipy matrices (built once)."""
        if self._fwd is None or self._bwd is None:
            self._fwd = self.forward.matrix(self.n_nodes)
            self._bwd = self._fwd.T.tocsr()
        return self._fwd, self._bwd

    def search(
        self, sources: np.ndarray | int, limit: float, *, reverse: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Shortest weights from ``sources`` (multi-source) up to ``limit``, and predecessors.

        With ``reverse`` the search runs on the transposed graph: weights are *to* the sources.
        Unreached nodes have weight ``inf`` and predecessor ``-9999``.
        """
        fwd, bwd = self.matrices()
        src = np.atleast_1d(np.asarray(sources, dtype=np.int32))
        dist, pred, _ = dijkstra(
            bwd if reverse else fwd,
            directed=True,
            indices=src,
            limit=limit,
            min_only=True,
            return_predecessors=True,
        )
        return dist, pred

    def path(self, pred: np.ndarray, target: int) -> list[int]:
        """Node sequence from the search's source to ``target`` (reverse searches: target to source)."""
        out = [int(target)]
        while pred[out[-1]] >= 0:
            out.append(int(pred[out[-1]]))
        out.reverse()
        return out

    def path_length_m(self, nodes: list[int]) -> float:
        """Length of a node path along its edges (shortest parallel edge)."""
        total = 0.0
        ip, ix = self.forward.indptr, self.forward.indices
        for a, b in itertools.pairwise(nodes):
            lo, hi = ip[a], ip[a + 1]
            hit = np.nonzero(ix[lo:hi] == b)[0]
            if hit.size:
                total += float(self.length_m[lo + hit].min())
            else:  # an edge walked against the graph's direction (reverse search paths)
                lo, hi = ip[b], ip[b + 1]
                hit = np.nonzero(ix[lo:hi] == a)[0]
                total += float(self.length_m[lo + hit].min()) if hit.size else 0.0
        return total


def _segments(osm: OsmWays) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive node pairs of every way: (a, b, way index, length_m)."""
    n_seg = osm.way_off[1:] - osm.way_off[:-1] - 1
    way_of = np.repeat(np.arange(len(n_seg), dtype=np.int32), n_seg)
    starts = np.repeat(osm.way_off[:-1], n_seg) + (
        np.arange(int(n_seg.sum())) - np.repeat(np.cumsum(n_seg) - n_seg, n_seg)
    )
    a = osm.way_nodes[starts]
    b = osm.way_nodes[starts + 1]
    length = haversine_m(osm.lat[a], osm.lon[a], osm.lat[b], osm.lon[b])
    return a, b, way_of, np.maximum(length, MIN_EDGE_M)


def build_profile(osm: OsmWays, profile: str) -> ProfileGraph:
    """Build ``profile``'s graph: usable directed segments, barriers cut, largest component kept."""
    a, b, way_of, length = _segments(osm)
    rules = [way_rule(tags, profile) for tags in osm.way_tags]
    fwd_ok = np.asarray([r.forward for r in rules], dtype=bool)[way_of]
    bwd_ok = np.asarray([r.backward for r in rules], dtype=bool)[way_of]
    speed = np.asarray([r.speed_mps for r in rules], dtype=np.float64)[way_of]
    blocked = np.zeros(osm.node_ids.shape[0], dtype=bool)
    for idx, tags in osm.node_tags.items():
        blocked[idx] = node_blocks(tags, profile)
    cut = blocked[a] | blocked[b]
    fwd_ok &= ~cut
    bwd_ok &= ~cut
    src = np.concatenate([a[fwd_ok], b[bwd_ok]])
    dst = np.concatenate([b[fwd_ok], a[bwd_ok]])
    dist = np.concatenate([length[fwd_ok], length[bwd_ok]])
    spd = np.concatenate([speed[fwd_ok], speed[bwd_ok]])
    weight = dist if profile == "walk" else dist / np.maximum(spd, 0.1)
    graph = nx.DiGraph()
    for u, v, w, d in zip(src.tolist(), dst.tolist(), weight.tolist(), dist.tolist(), strict=True):
        if u == v:
            continue
        old = graph.get_edge_data(u, v)
        if old is None or old["weight"] > w:
            graph.add_edge(u, v, weight=w, length=d)
    if graph.number_of_nodes() == 0:
        keep: list[int] = []
    else:
        best: set[int] = set()
        for component in nx.strongly_connected_components(graph):
            if len(component) > len(best):
                best = set(component)
        keep = sorted(best)
    pruned = graph.number_of_nodes() - len(keep)
    log.info("%s: %d nodes kept, %d pruned in islands", profile, len(keep), pruned)
    node = np.asarray(keep, dtype=np.int32)
    compact = {n: i for i, n in enumerate(keep)}
    sub = graph.subgraph(keep)
    rows, cols, ws, ls = [], [], [], []
    for u, v, data in sub.edges(data=True):
        rows.append(compact[u])
        cols.append(compact[v])
        ws.append(data["weight"])
        ls.append(data["length"])
    order = np.lexsort((np.asarray(cols), np.asarray(rows))) if rows else np.zeros(0, dtype=np.int64)
    rows_a = np.asarray(rows, dtype=np.int64)[order]
    indptr = np.zeros(len(keep) + 1, dtype=np.int64)
    np.add.at(indptr, rows_a + 1, 1)
    np.cumsum(indptr, out=indptr)
    return ProfileGraph(
        profile=profile,
        node=node,
        lat=osm.lat[node],
        lon=osm.lon[node],
        forward=Csr(
            indptr,
            np.asarray(cols, dtype=np.int32)[order],
            np.asarray(ws, dtype=np.float64)[order],
        ),
        length_m=np.asarray(ls, dtype=np.float64)[order],
    )


@dataclass
class StreetNetwork:
    """The street graphs of one OSM file, one per profile, plus the OSM node ids for reference."""

    node_ids: np.ndarray  # int64 OSM node ids (indexed by ProfileGraph.node)
    graphs: dict[str, ProfileGraph]

    def graph(self, profile: str) -> ProfileGraph:
        """The graph of ``profile`` (walk, bike or car)."""
        return self.graphs[profile]


def build_network(osm: OsmWays, profiles: tuple[str, ...] = PROFILES) -> StreetNetwork:
    """Build every profile's graph from ``osm``."""
    return StreetNetwork(osm.node_ids, {p: build_profile(osm, p) for p in profiles})
