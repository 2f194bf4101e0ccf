"""The compact timetable of one service date: patterns, stop times and footpaths as flat arrays.

Built from one or several GTFS feeds for a service date D (plus the trips of D-1 shifted by -24 h,
so that overnight trips can still be used).  Everything RAPTOR touches is a flat NumPy array with integer ids:

* a *pattern* is a set of trip instances with the same stop sequence and the same pickup/drop-off
  flags, which never overtake each other (every stop time of an earlier trip is <= that of a later
  one); its times are stored trip by trip (``n_trips x n_stops``) from ``pat_time_off[p]`` on;
* ``stop_pat_*`` lists, per stop, every (pattern, position) visiting it (CSR);
* ``rule_*`` are the stop pairs transfers.txt rules on (time -1: forbidden).

Footpaths are not part of the timetable: they come as a separate bundle
(:mod:`mobility.footpaths`), and the on-disk cache lives in :mod:`mobility.cache`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas and gtfs-kit load only when a timetable is built, not from the cache
    from mobility.gtfs import GtfsFeed
    from mobility.raptor import TransitArrays

logger = logging.getLogger(__name__)

DAY_S = 86_400
INF_S = np.iinfo(np.int32).max

Progress = Callable[[str, int, int], None]


def no_progress(stage: str, done: int, total: int) -> None:
    """A progress callback that reports nothing."""
    return None


@dataclass
class Timetable:
    """Flat arrays for one service date (see the module docstring)."""

    date: dt.date
    feed_names: list[str]
    timezone: str
    stop_ids: np.ndarray
    stop_names: np.ndarray
    stop_lat: np.ndarray
    stop_lon: np.ndarray
    stop_location_type: np.ndarray
    stop_parent: np.ndarray
    route_ids: np.ndarray
    route_short_names: np.ndarray
    route_long_names: np.ndarray
    route_types: np.ndarray
    trip_ids: np.ndarray
    trip_route: np.ndarray
    trip_headsigns: np.ndarray
    pat_stop_off: np.ndarray
    pat_stops: np.ndarray
    pat_pickup: np.ndarray
    pat_dropoff: np.ndarray
    pat_trip_off: np.ndarray
    pat_time_off: np.ndarray
    arr_s: np.ndarray
    dep_s: np.ndarray
    inst_trip: np.ndarray
    inst_day: np.ndarray
    stop_pat_off: np.ndarray
    stop_pat: np.ndarray
    stop_pat_pos: np.ndarray
    rule_from: np.ndarray
    rule_to: np.ndarray
    rule_time_s: np.ndarray  # -1 = forbidden by transfers.txt
    monotone: bool
    _stop_lookup: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)
    _children: dict[int, np.ndarray] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_stops(self) -> int:
        """Number of stops (all location types)."""
        return len(self.stop_ids)

    @property
    def n_patterns(self) -> int:
        """Number of patterns."""
        return len(self.pat_stop_off) - 1

    @property
    def n_trips(self) -> int:
        """Number of trip instances (frequency copies and D-1 trips counted separately)."""
        return len(self.inst_trip)

    @property
    def n_stop_times(self) -> int:
        """Number of stop events over all trip instances."""
        return len(self.arr_s)

    def stop_index(self, stop_id: str) -> int:
        """Integer index of ``stop_id``, or -1 when unknown."""
        if self._stop_lookup is None:
            self._stop_lookup = {str(s): i for i, s in enumerate(self.stop_ids)}
        return self._stop_lookup.get(stop_id, -1)

    def stop_group(self, index: int) -> np.ndarray:
        """The stops a query stop stands for: a station's children (location_type 0), else itself."""
        if self.stop_location_type[index] == 1:
            if self._children is None:
                kids = np.flatnonzero((self.stop_parent >= 0) & (self.stop_location_type == 0))
                parents = self.stop_parent[kids]
                order = np.argsort(parents, kind="stable")
                kids, parents = kids[order], parents[order]
                cuts = np.flatnonzero(np.diff(parents)) + 1
                self._children = {
                    int(group_parents[0]): group_kids.astype(np.int32)
                    for group_kids, group_parents in zip(
                        np.split(kids, cuts), np.split(parents, cuts), strict=True
                    )
                    if len(group_kids)
                }
            return self._children.get(int(index), np.zeros(0, dtype=np.int32))
        return np.array([index], dtype=np.int32)

    @property
    def transit(self) -> TransitArrays:
        """The arrays RAPTOR scans, as one immutable bundle (a realtime overlay supplies its own)."""
        from mobility.raptor import TransitArrays

        return TransitArrays(
            self.pat_stop_off,
            self.pat_stops,
            self.pat_pickup,
            self.pat_dropoff,
            self.pat_trip_off,
            self.pat_time_off,
            self.arr_s,
            self.dep_s,
            self.stop_pat_off,
            self.stop_pat,
            self.stop_pat_pos,
        )


# ----------------------------------------------------------------------------------------------
# building


def transfer_rules(feed: GtfsFeed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stop pairs transfers.txt rules on, as ``(from, to, time_s)`` with time -1 = forbidden.

    A stop-level row (a -> b, a != b) wins over a station-level row (P -> Q between parent
    stations, covering every child of P to every child of Q, different stops only).  Rows from a
    stop to itself and rows pairing a station with a stop are ignored.  Transfer types 0, 1 and 2
    allow the walk in min_transfer_time seconds; 3, 4 and 5 forbid it.  Two rows for the same pair
    at the same level keep the shortest allowed walk.
    """
    is_station = feed.stop_location_type == 1
    children: dict[int, list[int]] = {}
    stop_level: dict[tuple[int, int], int] = {}
    station_level: dict[tuple[int, int], int] = {}

    def merge(table: dict[tuple[int, int], int], key: tuple[int, int], value: int) -> None:
        old = table.get(key)
        if old is None or old < 0 or (0 <= value < old):
            table[key] = value

    for a, b, kind, time_s in zip(
        feed.xfer_from.tolist(),
        feed.xfer_to.tolist(),
        feed.xfer_type.tolist(),
        feed.xfer_min_time_s.tolist(),
        strict=True,
    ):
        value = max(int(time_s), 0) if kind in (0, 1, 2) else -1
        if is_station[a] and is_station[b]:
            station_level_key = (a, b)
            merge(station_level, station_level_key, value)
        elif not is_station[a] and not is_station[b] and a != b:
            merge(stop_level, (a, b), value)
    rules: dict[tuple[int, int], int] = {}
    for (p, q), value in station_level.items():
        for node in (p, q):
            if node not in children:
                children[node] = np.flatnonzero(
                    (feed.stop_parent == node) & (feed.stop_location_type == 0)
                ).tolist()
        for a in children[p]:
            for b in children[q]:
                if a != b:
                    rules[(a, b)] = value
    rules.update(stop_level)
    if not rules:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty.copy(), empty.copy()
    keys = np.array(list(rules.keys()), dtype=np.int32)
    return keys[:, 0].copy(), keys[:, 1].copy(), np.array(list(rules.values()), dtype=np.int32)


@dataclass
class _Slice:
    """The part of one feed a service date needs, still with that feed's own indices."""

    feed: GtfsFeed
    pat_stops: list[np.ndarray]
    pat_pickup: list[np.ndarray]
    pat_dropoff: list[np.ndarray]
    pat_arr: list[np.ndarray]  # (n_trips, n_stops) each
    pat_dep: list[np.ndarray]
    pat_inst_trip: list[np.ndarray]
    pat_inst_day: list[np.ndarray]
    rules: tuple[np.ndarray, np.ndarray, np.ndarray]
    monotone: bool


def _fifo_chains(arr: np.ndarray, dep: np.ndarray) -> np.ndarray:
    """Split trips (rows, sorted by first departure) into chains in which no trip overtakes another."""
    n = arr.shape[0]
    chain = np.zeros(n, dtype=np.int64)
    last: list[int] = []
    for i in range(n):
        for c, j in enumerate(last):
            if (arr[j] <= arr[i]).all() and (dep[j] <= dep[i]).all():
                chain[i] = c
                last[c] = i
                break
        else:
            chain[i] = len(last)
            last.append(i)
    return chain


def _trip_instances(feed: GtfsFeed, date: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The trip instances running on ``date``: ``(trip, time shift in s, day offset 0 or -1)``.

    Plain trips run once per active service day, trips in frequencies.txt as copies; the trips of
    the day before are shifted by -24 h and kept only while they still run after midnight.
    """
    n_trips = len(feed.trip_ids)
    length = np.diff(feed.st_off)
    has_rows = length > 0
    first_dep = np.zeros(n_trips, dtype=np.int64)
    max_dep = np.full(n_trips, -1, dtype=np.int64)
    first_dep[has_rows] = feed.st_dep_s[feed.st_off[:-1][has_rows]]
    if len(feed.st_dep_s):
        max_dep[has_rows] = np.maximum.reduceat(feed.st_dep_s.astype(np.int64), feed.st_off[:-1][has_rows])
    is_freq = np.zeros(n_trips, dtype=bool)
    is_freq[feed.freq_trip] = True
    inst_trip: list[np.ndarray] = []
    inst_shift: list[np.ndarray] = []
    inst_day: list[np.ndarray] = []
    for day_offset in (0, -1):
        n_before = sum(len(x) for x in inst_trip)
        active_service = feed.service_active(date + dt.timedelta(days=day_offset))
        active = np.zeros(n_trips, dtype=bool)
        known = feed.trip_service >= 0
        active[known] = active_service[feed.trip_service[known]]
        active &= length >= 2
        base = day_offset * DAY_S
        plain = np.flatnonzero(active & ~is_freq)
        inst_trip.append(plain)
        inst_shift.append(np.full(len(plain), base, dtype=np.int64))
        rows = np.flatnonzero(active[feed.freq_trip])
        if len(rows):
            start = feed.freq_start_s[rows].astype(np.int64)
            end = feed.freq_end_s[rows].astype(np.int64)
            head = feed.freq_headway_s[rows].astype(np.int64)
            count = np.maximum((end - start + head - 1) // head, 0)
            rep = np.repeat(np.arange(len(rows)), count)
            k = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
            trips = feed.freq_trip[rows][rep]
            inst_trip.append(trips)
            inst_shift.append(base + start[rep] + k * head[rep] - first_dep[trips])
        inst_day.append(np.full(sum(len(x) for x in inst_trip) - n_before, day_offset, dtype=np.int8))
    trip_of = np.concatenate(inst_trip).astype(np.int64)
    shift = np.concatenate(inst_shift).astype(np.int64)
    day = np.concatenate(inst_day).astype(np.int8)
    keep = max_dep[trip_of] + shift >= 0
    return trip_of[keep], shift[keep], day[keep]


def _slice_feed(feed: GtfsFeed, date: dt.date) -> _Slice:
    """Trip instances of ``date`` (and of the day before, shifted by -24 h) grouped into patterns."""
    n_trips = len(feed.trip_ids)
    trip_of, shift, day = _trip_instances(feed, date)
    first_dep = np.zeros(n_trips, dtype=np.int64)
    has_rows = np.diff(feed.st_off) > 0
    first_dep[has_rows] = feed.st_dep_s[feed.st_off[:-1][has_rows]]

    # monotone times within every trip (arrival <= departure <= next arrival)?
    arr_all = feed.st_arr_s.astype(np.int64)
    dep_all = feed.st_dep_s.astype(np.int64)
    same_trip = np.ones(len(arr_all), dtype=bool)
    same_trip[feed.st_off[1:-1][feed.st_off[1:-1] < len(arr_all)]] = False
    monotone = bool((arr_all <= dep_all).all() and (dep_all[:-1] <= arr_all[1:])[same_trip[1:]].all())

    # pattern of every used trip: same stops and the same pickup/drop-off flags
    used = np.unique(trip_of)
    key_of: dict[bytes, int] = {}
    pattern_of_trip = np.full(n_trips, -1, dtype=np.int64)
    stops_b, pick_b, drop_b = feed.st_stop, feed.st_pickup, feed.st_dropoff
    off = feed.st_off
    for t in used.tolist():
        a, b = off[t], off[t + 1]
        key = stops_b[a:b].tobytes() + pick_b[a:b].tobytes() + drop_b[a:b].tobytes()
        pattern_of_trip[t] = key_of.setdefault(key, len(key_of))
    n_pat = len(key_of)
    pat = pattern_of_trip[trip_of]
    first = first_dep[trip_of] + shift
    last_arr = feed.st_arr_s[off[trip_of + 1] - 1].astype(np.int64) + shift
    order = np.lexsort((last_arr, first, pat))
    trip_of, shift, day, pat = trip_of[order], shift[order], day[order], pat[order]
    bounds = np.searchsorted(pat, np.arange(n_pat + 1))

    out = _Slice(feed, [], [], [], [], [], [], [], transfer_rules(feed), monotone)
    for p in range(n_pat):
        lo, hi = int(bounds[p]), int(bounds[p + 1])
        trips = trip_of[lo:hi]
        t0 = int(trips[0])
        n_stops = int(off[t0 + 1] - off[t0])
        idx = off[trips][:, None] + np.arange(n_stops)[None, :]
        arr = (arr_all[idx] + shift[lo:hi, None]).astype(np.int32)
        dep = (dep_all[idx] + shift[lo:hi, None]).astype(np.int32)
        if hi - lo > 1 and ((np.diff(arr, axis=0) < 0).any() or (np.diff(dep, axis=0) < 0).any()):
            chain = _fifo_chains(arr, dep)
            groups = [np.flatnonzero(chain == c) for c in range(int(chain.max()) + 1)]
        else:
            groups = [np.arange(hi - lo)]
        for g in groups:
            out.pat_stops.append(stops_b[off[t0] : off[t0 + 1]])
            out.pat_pickup.append(pick_b[off[t0] : off[t0 + 1]])
            out.pat_dropoff.append(drop_b[off[t0] : off[t0 + 1]])
            out.pat_arr.append(arr[g])
            out.pat_dep.append(dep[g])
            out.pat_inst_trip.append(trips[g])
            out.pat_inst_day.append(day[lo:hi][g])
    return out


def _concat(parts: Sequence[np.ndarray], dtype: type | np.dtype, width: int = 0) -> np.ndarray:
    if not parts:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(p).reshape(-1) for p in parts]).astype(dtype)


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=out[1:])
    return out


def _read_slices(feed_paths: Sequence[Path], date: dt.date, progress: Progress) -> list[_Slice]:
    """Read every feed (namespaced when there are several) and slice it for ``date``."""
    from mobility.gtfs import default_namespace, load_feed

    namespaced = len(feed_paths) > 1
    slices: list[_Slice] = []
    total = 2 * len(feed_paths) + 1
    for i, path in enumerate(feed_paths):
        progress(f"reading {path.name}", 2 * i, total)
        feed = load_feed(path, default_namespace(path) if namespaced else "")
        progress(f"patterns of {path.name}", 2 * i + 1, total)
        slices.append(_slice_feed(feed, date))
    progress("indexing", 2 * len(feed_paths), total)
    return slices


def _pattern_arrays(slices: Sequence[_Slice], stop_base: np.ndarray) -> dict[str, np.ndarray]:
    """The patterns of all slices as flat arrays, and per stop the (pattern, position) visiting it."""
    pat_stops = [ps + stop_base[i] for i, s in enumerate(slices) for ps in s.pat_stops]
    pat_arr = [a for s in slices for a in s.pat_arr]
    pat_dep = [d for s in slices for d in s.pat_dep]
    pat_len = [len(p) for p in pat_stops]
    pat_stop_off = _offsets(pat_len)
    flat_stops = _concat(pat_stops, np.int32)
    pos = np.arange(len(flat_stops), dtype=np.int64) - np.repeat(pat_stop_off[:-1], pat_len)
    pat_id = np.repeat(np.arange(len(pat_stops), dtype=np.int32), pat_len)
    n_stops = int(stop_base[-1])
    order = np.lexsort((pos, pat_id, flat_stops))
    stop_pat_off = np.zeros(n_stops + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat_stops, minlength=n_stops), out=stop_pat_off[1:])
    return {
        "pat_stop_off": pat_stop_off,
        "pat_stops": flat_stops,
        "pat_pickup": _concat([p for s in slices for p in s.pat_pickup], np.uint8),
        "pat_dropoff": _concat([p for s in slices for p in s.pat_dropoff], np.uint8),
        "pat_trip_off": _offsets([a.shape[0] for a in pat_arr]),
        "pat_time_off": _offsets([a.size for a in pat_arr]),
        "arr_s": _concat(pat_arr, np.int32),
        "dep_s": _concat(pat_dep, np.int32),
        "stop_pat_off": stop_pat_off,
        "stop_pat": pat_id[order].astype(np.int32),
        "stop_pat_pos": pos[order].astype(np.int32),
    }


def build_timetable(
    paths: Sequence[str | Path],
    date: dt.date,
    progress: Progress = no_progress,
) -> Timetable:
    """Build the timetable of ``date`` from one or several GTFS feeds.

    With more than one feed every id is namespaced with the feed's file stem
    (``"mta_subway:101N"``).  ``progress(stage, done, total)`` is called as feeds are processed.

    Raises
    ------
    GtfsError
        When a feed is malformed.

    A date without any service gives a timetable without trips (``n_trips == 0``).
    """
    feed_paths = [Path(p) for p in paths]
    logger.info(
        "building the timetable of %s from %s", date.isoformat(), ", ".join(p.name for p in feed_paths)
    )
    slices = _read_slices(feed_paths, date, progress)
    stop_base = _offsets([len(s.feed.stop_ids) for s in slices])
    route_base = _offsets([len(s.feed.route_ids) for s in slices])
    trip_base = _offsets([len(s.feed.trip_ids) for s in slices])
    patterns = _pattern_arrays(slices, stop_base)

    def cat(attr: str, dtype: type | np.dtype) -> np.ndarray:
        return _concat([getattr(s.feed, attr) for s in slices], dtype)

    parent = np.concatenate(
        [
            np.where(s.feed.stop_parent >= 0, s.feed.stop_parent + stop_base[i], -1)
            for i, s in enumerate(slices)
        ]
    ).astype(np.int32)
    rule_parts = [
        (s.rules[0] + stop_base[i], s.rules[1] + stop_base[i], s.rules[2]) for i, s in enumerate(slices)
    ]
    inst_trip = _concat([t + trip_base[i] for i, s in enumerate(slices) for t in s.pat_inst_trip], np.int64)
    used_trips = np.unique(inst_trip)  # only the trips running on the date are kept
    return Timetable(
        date=date,
        feed_names=[p.name for p in feed_paths],
        timezone=slices[0].feed.timezone,
        stop_ids=cat("stop_ids", np.str_),
        stop_names=cat("stop_names", np.str_),
        stop_lat=cat("stop_lat", np.float64),
        stop_lon=cat("stop_lon", np.float64),
        stop_location_type=cat("stop_location_type", np.int8),
        stop_parent=parent,
        route_ids=cat("route_ids", np.str_),
        route_short_names=cat("route_short_names", np.str_),
        route_long_names=cat("route_long_names", np.str_),
        route_types=cat("route_types", np.int32),
        trip_ids=cat("trip_ids", np.str_)[used_trips],
        trip_route=np.concatenate(
            [
                np.where(s.feed.trip_route >= 0, s.feed.trip_route + route_base[i], -1)
                for i, s in enumerate(slices)
            ]
        ).astype(np.int32)[used_trips],
        trip_headsigns=cat("trip_headsigns", np.str_)[used_trips],
        **patterns,
        inst_trip=np.searchsorted(used_trips, inst_trip).astype(np.int32),
        inst_day=_concat([d for s in slices for d in s.pat_inst_day], np.int8),
        rule_from=_concat([r[0] for r in rule_parts], np.int32),
        rule_to=_concat([r[1] for r in rule_parts], np.int32),
        rule_time_s=_concat([r[2] for r in rule_parts], np.int32),
        monotone=all(s.monotone for s in slices),
    )
