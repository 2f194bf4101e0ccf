"""Nearest usable street node of a point (KD-tree on a local metric projection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from mobility.streets.graph import EARTH_RADIUS_M, ProfileGraph, haversine_m


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
        # the projection is only nearly metric: take the true (haversine) nearest of a few candidates
        k = min(8, self.graph.n_nodes)
        dist, idx = self.tree.query(self._xy(lat, lon), k=k, distance_upper_bound=max_m * 1.01 + 1.0)
        dist, idx = np.atleast_2d(dist).reshape(lat.size, k), np.atleast_2d(idx).reshape(lat.size, k)
        ok = np.isfinite(dist)
        safe = np.where(ok, idx, 0)
        true = haversine_m(lat[:, None], lon[:, None], self.graph.lat[safe], self.graph.lon[safe])
        true = np.where(ok, true, np.inf)
        best = np.argmin(true, axis=1)
        rows = np.arange(lat.size)
        d = true[rows, best]
        node = np.where(d <= max_m, idx[rows, best], -1).astype(np.int32)
        return Links(node, np.where(node >= 0, d, np.inf))

    def within(self, lat: float, lon: float, radius_m: float) -> np.ndarray:
        """Every node within ``radius_m`` metres of a point."""
        if self.tree is None:
            return np.zeros(0, dtype=np.int32)
        return np.asarray(self.tree.query_ball_point(self._xy([lat], [lon])[0], radius_m), dtype=np.int32)
