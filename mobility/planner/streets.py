"""Street legs for the planner: points snapped to a profile graph, searches, leg geometry."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mobility.errors import NoRouteError
from mobility.streets.graph import ProfileGraph, StreetNetwork, haversine_m
from mobility.streets.snap import Snapper

#: how far a place may lie from the nearest usable street node
LINK_MAX_M = {"walk": 400.0, "bike": 300.0, "car": 500.0}
PROFILE_WORDS = {"walk": "on foot", "bike": "by bike", "car": "by car"}


@dataclass(frozen=True)
class Anchor:
    """A place linked to a profile graph: its node and the straight line to it."""

    lat: float
    lon: float
    node: int
    offset_m: float


@dataclass
class Tree:
    """One one-to-many search: weight per node (metres for walk, seconds otherwise) and predecessors."""

    graph: ProfileGraph
    anchor: Anchor
    dist: np.ndarray
    pred: np.ndarray
    reverse: bool

    def reached(self, node: int) -> bool:
        """Whether ``node`` was reached within the limit."""
        return bool(np.isfinite(self.dist[node]))

    def nodes_to(self, node: int) -> list[int]:
        """Nodes from the anchor to ``node`` (forward) or from ``node`` to the anchor (reverse)."""
        out = [int(node)]
        while self.pred[out[-1]] >= 0:
            out.append(int(self.pred[out[-1]]))
        if not self.reverse:
            out.reverse()
        return out

    def points(self, node: int, end_lat: float, end_lon: float) -> list[tuple[float, float]]:
        """Leg geometry ``(lat, lon)`` between the anchor and a place linked at ``node``."""
        g = self.graph
        inner = [(float(g.lat[n]), float(g.lon[n])) for n in self.nodes_to(node)]
        head, tail = (self.anchor.lat, self.anchor.lon), (end_lat, end_lon)
        if self.reverse:
            head, tail = tail, head
        return [head, *inner, tail]

    def length_m(self, node: int) -> float:
        """Street length from the anchor to ``node`` along the tree (without offsets)."""
        if self.graph.profile == "walk":
            return float(self.dist[node])
        return self.graph.path_length_m(self.nodes_to(node))


class StreetSide:
    """The street network with a KD-tree per profile."""

    def __init__(self, net: StreetNetwork) -> None:
        self.net = net
        self.snappers = {name: Snapper(g) for name, g in net.graphs.items()}

    def graph(self, profile: str) -> ProfileGraph:
        """The profile's graph."""
        return self.net.graph(profile)

    def anchor(self, lat: float, lon: float, profile: str, what: str, max_m: float | None = None) -> Anchor:
        """Link a place to ``profile``'s graph or raise NoRouteError (outside the network)."""
        limit = LINK_MAX_M[profile] if max_m is None else max_m
        links = self.snappers[profile].link(np.array([lat]), np.array([lon]), limit)
        if links.node[0] < 0:
            raise NoRouteError(
                f"outside the network: the {what} {lat:.6f},{lon:.6f} is more than {limit:.0f} m "
                f"from any street usable {PROFILE_WORDS[profile]}"
            )
        node = int(links.node[0])
        g = self.graph(profile)
        offset = float(haversine_m(lat, lon, g.lat[node], g.lon[node]))
        return Anchor(lat, lon, node, offset)

    def try_anchor(self, lat: float, lon: float, profile: str, max_m: float | None = None) -> Anchor | None:
        """Like :meth:`anchor` but ``None`` when the place is too far from the graph."""
        try:
            return self.anchor(lat, lon, profile, "place", max_m)
        except NoRouteError:
            return None

    def tree(self, anchor: Anchor, profile: str, limit: float, *, reverse: bool = False) -> Tree:
        """Search from (or, with ``reverse``, towards) ``anchor`` up to ``limit``."""
        g = self.graph(profile)
        dist, pred = g.search(anchor.node, max(limit, 0.0), reverse=reverse)
        return Tree(
            g, anchor, dist[0] if dist.ndim == 2 else dist, pred[0] if pred.ndim == 2 else pred, reverse
        )


def walk_seconds(distance_m: float, speed_mps: float) -> int:
    """Whole seconds to walk ``distance_m`` (rounded up)."""
    return math.ceil(distance_m / speed_mps - 1e-9)
