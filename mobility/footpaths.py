"""Footpaths between stops: the walks RAPTOR may take between two rides.

A :class:`Footpaths` bundle is immutable and independent of the timetable it serves, so that
different sources can be swapped in without touching the router: exactly the walks transfers.txt
allows (:func:`gtfs_footpaths`), those plus crow-fly walks within a radius
(:func:`crow_fly_footpaths`), or walks measured on the street network (``mobility.streets``), all
combined with transfers.txt's rules by :func:`with_transfer_rules`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from mobility.timetable import Timetable

EARTH_RADIUS_M = 6_371_000.0


class Footpaths(NamedTuple):
    """Walks from each stop in CSR form: stop ``s`` walks to ``to[off[s]:off[s + 1]]``."""

    off: np.ndarray  # int64, n_stops + 1
    to: np.ndarray  # int32 stop index
    time_s: np.ndarray  # int32 walking time

    @classmethod
    def from_pairs(cls, n_stops: int, frm: np.ndarray, to: np.ndarray, time_s: np.ndarray) -> Footpaths:
        """Footpaths from ``(from, to, time_s)`` triples (any order)."""
        frm = np.asarray(frm, dtype=np.int64)
        order = np.lexsort((to, frm))
        off = np.zeros(n_stops + 1, dtype=np.int64)
        if len(frm):
            np.cumsum(np.bincount(frm, minlength=n_stops), out=off[1:])
        return cls(off, np.asarray(to)[order].astype(np.int32), np.asarray(time_s)[order].astype(np.int32))

    @classmethod
    def none(cls, n_stops: int) -> Footpaths:
        """No walks at all (staying at a stop is always possible)."""
        empty = np.zeros(0, dtype=np.int32)
        return cls(np.zeros(n_stops + 1, dtype=np.int64), empty, empty.copy())

    @property
    def n_paths(self) -> int:
        """Number of directed walks."""
        return len(self.to)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The walks as ``(from, to, time_s)`` arrays."""
        frm = np.repeat(np.arange(len(self.off) - 1, dtype=np.int32), np.diff(self.off))
        return frm, self.to, self.time_s


def gtfs_footpaths(tt: Timetable) -> Footpaths:
    """Footpaths of ``--transfers gtfs``: exactly the walks transfers.txt allows."""
    ok = tt.rule_time_s >= 0
    return Footpaths.from_pairs(tt.n_stops, tt.rule_from[ok], tt.rule_to[ok], tt.rule_time_s[ok])


def with_transfer_rules(tt: Timetable, frm: np.ndarray, to: np.ndarray, time_s: np.ndarray) -> Footpaths:
    """Walks ``(from, to, time_s)`` from another source, with transfers.txt taking precedence.

    A pair that transfers.txt rules on (allowed or forbidden) keeps that rule; every other given
    pair of different stops keeps its walking time.
    """
    frm = np.asarray(frm, dtype=np.int64)
    to = np.asarray(to, dtype=np.int64)
    n = np.int64(tt.n_stops)
    keep = (frm != to) & ~np.isin(frm * n + to, tt.rule_from.astype(np.int64) * n + tt.rule_to)
    ok = tt.rule_time_s >= 0
    return Footpaths.from_pairs(
        tt.n_stops,
        np.concatenate((tt.rule_from[ok], frm[keep])),
        np.concatenate((tt.rule_to[ok], to[keep])),
        np.concatenate((tt.rule_time_s[ok], np.asarray(time_s)[keep])),
    )


def pairs_within(xy: np.ndarray, radius_m: float, *, block: int = 1 << 16) -> np.ndarray:
    """Every pair ``(i, j)``, ``i < j``, of points ``xy`` (metres) at most ``radius_m`` apart.

    A uniform grid of ``radius_m`` cells: a pair within the radius lies in one cell or in two
    neighbouring ones, so each point is compared only with the points of its own cell and of four
    of its neighbours (each pair of cells once). The test is the squared distance against
    ``radius_m ** 2`` as scipy's ``cKDTree.query_pairs`` does it, so both give the same pairs; plain
    NumPy keeps scipy out of a command's start. ``block`` bounds the candidate pairs held at once.
    """
    xy = np.asarray(xy, dtype=np.float64)
    n = len(xy)
    if n < 2 or not radius_m > 0:
        return np.zeros((0, 2), dtype=np.int64)
    # cells a little wider than the radius: rounding can never put two points within the
    # radius two cells apart
    cell = np.floor(xy / (radius_m * (1.0 + 1e-9))).astype(np.int64)
    cell -= cell.min(axis=0)
    width = int(cell[:, 1].max()) + 3  # room for the -1/+1 neighbours in the second coordinate
    key = (cell[:, 0] + 1) * width + cell[:, 1] + 1
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    limit = radius_m * radius_m
    found: list[np.ndarray] = []
    for dx, dy in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):
        target = key + (dx * width + dy)
        lo = np.searchsorted(sorted_key, target, side="left")
        counts = np.searchsorted(sorted_key, target, side="right") - lo
        for start in range(0, n, block):
            stop = min(start + block, n)
            c = counts[start:stop]
            total = int(c.sum())
            if total == 0:
                continue
            i = np.repeat(np.arange(start, stop, dtype=np.int64), c)
            first = np.repeat(lo[start:stop] - (np.cumsum(c) - c), c)
            j = order[first + np.arange(total, dtype=np.int64)]
            d = xy[i] - xy[j]
            keep = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] <= limit
            if dx == 0 and dy == 0:
                keep &= i < j
            i, j = i[keep], j[keep]
            found.append(np.column_stack((np.minimum(i, j), np.maximum(i, j))))
    return np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)


def crow_fly_footpaths(tt: Timetable, *, radius_m: float = 400.0, speed_mps: float = 1.2) -> Footpaths:
    """transfers.txt walks plus crow-fly walks between stops within ``radius_m``.

    Every pair of different stops within the radius that transfers.txt does not rule on gets
    ``ceil(distance / speed)`` seconds.
    """
    usable = np.flatnonzero(
        np.isfinite(tt.stop_lat) & np.isfinite(tt.stop_lon) & (tt.stop_location_type == 0)
    )
    if len(usable) < 2 or radius_m <= 0:
        return gtfs_footpaths(tt)
    lat0 = np.deg2rad(np.nanmean(tt.stop_lat[usable]))
    xy = np.column_stack(
        (
            np.deg2rad(tt.stop_lon[usable]) * np.cos(lat0) * EARTH_RADIUS_M,
            np.deg2rad(tt.stop_lat[usable]) * EARTH_RADIUS_M,
        )
    )
    pairs = pairs_within(xy, radius_m)
    if len(pairs) == 0:
        return gtfs_footpaths(tt)
    i = np.concatenate((pairs[:, 0], pairs[:, 1]))
    j = np.concatenate((pairs[:, 1], pairs[:, 0]))
    walk_s = np.ceil(np.hypot(*(xy[i] - xy[j]).T) / speed_mps).astype(np.int32)
    return with_transfer_rules(tt, usable[i], usable[j], walk_s)
