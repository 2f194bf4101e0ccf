"""Nearest usable street node of a point (KD-tree on a local metric projection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from mobility.streets.graph import EARTH_RADIUS_M, ProfileGraph


@dataclass
class Links:
    """Points linked to a graph: node per point (-1: none within the limit) and the distance to it."""

    node: np.ndarray  # int32
    distance_m: np.ndarray  # float64 (inf when unlinked)

    @property
    def unlinked(self) -> np.ndarray:
        """Indices of the points that found no node within the limit."""
        return np.nonzero(self.node < 0)[0]


class Snapper:
    """KD-tree over one profile graph's nodes."""

    def __init__(self, graph: ProfileGraph) -> None:
        self.graph = graph
        self.lat0 = float(np.mean(graph.lat)) if graph.n_nodes else 0.0
        self._kx = np.radians(1.0) * EARTH_RADIUS_M * np.cos(np.radians(self.lat0))
        self._ky = np.radians(1.0) * EARTH_RADIUS_M
        self.tree = cKDTree(self._xy(graph.lat, graph.lon)) if graph.n_nodes else None

    def _xy(self, lat: Any, lon: Any) -> np.ndarray:
        return np.column_stack(
            [np.asarray(lon, dtype=float) * self._kx, np.asarray(lat, dtype=float) * self._ky]
        )

    def link(self, lat: np.ndarray, lon: np.ndarray, max_m: float) -> Links:
        """Nearest node of each point within ``max_m`` metres."""
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        if self.tree is None or lat.size == 0:
            return Links(np.full(lat.size, -1, dtype=np.int32), np.full(lat.size, np.inf))
        dist, idx = self.tree.query(self._xy(lat, lon), k=1, distance_upper_bound=max_m)
        node = np.where(np.isfinite(dist), idx, -1).astype(np.int32)
        return Links(node, np.asarray(dist, dtype=float))

    def within(self, lat: float, lon: float, radius_m: float) -> np.ndarray:
        """Every node within ``radius_m`` metres of a point."""
        if self.tree is None:
            return np.zeros(0, dtype=np.int32)
        return np.asarray(self.tree.query_ball_point(self._xy([lat], [lon])[0], radius_m), dtype=np.int32)
