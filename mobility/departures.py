"""Departure boards: the trips leaving a set of stops in a time window, planned and expected.

Pure functions over a :class:`~mobility.timetable.Timetable` and, when realtime is known, its
:class:`~mobility.realtime.overlay.RealtimeOverlay` (the same timetable patched by TripUpdates).
Times are GTFS seconds of the timetable's service date; the timetable holds the trips of the day
before that still run after midnight (day offset -1), so a board at 00:30 shows yesterday's late
trips. A trip does not depart from the last stop of its pattern, nor where pickup is off.

The boardings at a set of stops (where each trip's time is in the arrays) are gathered once per
timetable or overlay and stop set; a board is then one gather, one mask and one sort, and objects
are made only for the departures shown.
"""

from __future__ import annotations

import csv
import io
import weakref
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mobility.raptor import TransitArrays
from mobility.realtime.overlay import OverlayBase, RealtimeOverlay
from mobility.timetable import Timetable


@dataclass(frozen=True, slots=True)
class BoardDeparture:
    """One departure: ``planned_s`` (None for a trip the feed added) and expected ``when_s``."""

    stop: int
    trip_id: str
    route: int  # -1: an added trip without a known route
    headsign: str
    planned_s: int | None
    when_s: int
    cancelled: bool
    realtime: bool  # the realtime feed spoke of this trip (delayed, on time, cancelled or added)
    day: int  # 0: a trip of the service date, -1: of the day before

    @property
    def delay_s(self) -> int | None:
        """Expected minus planned departure; None when no realtime is known for the trip."""
        if not self.realtime or self.planned_s is None:
            return None
        return self.when_s - self.planned_s


def board(
    base: OverlayBase,
    overlay: RealtimeOverlay | None,
    stops: Iterable[int],
    from_s: int,
    to_s: int,
    *,
    days: Sequence[int] = (0, -1),
    limit: int | None = None,
) -> list[BoardDeparture]:
    """Departures at ``stops`` expected in ``[from_s, to_s]`` (cancelled ones at their planned
    time), by expected time, trip id and stop; only trip instances of the day offsets ``days``.

    ``overlay`` must have been built on ``base`` (None: the timetable as planned).
    """
    tt = base.tt
    transit = overlay.transit if overlay is not None else base.transit
    stop_set = sorted({int(s) for s in stops})
    want_day = np.zeros(3, dtype=bool)
    for d in days:
        want_day[int(d) + 1] = True
    index = _boarding_index(transit, tuple(stop_set))
    when = transit.dep_s[index.dep_at]
    rows = np.flatnonzero((when >= from_s) & (when <= to_s))
    out: list[BoardDeparture] = []
    if len(rows):
        when_all = when[rows].astype(np.int64)
        inst_all, stop_all, pos_all = index.inst[rows], index.stop[rows], index.pos[rows]
        orig = overlay.inst_orig[inst_all].astype(np.int64) if overlay is not None else inst_all
        day = np.where(orig >= 0, tt.inst_day[np.maximum(orig, 0)], 0).astype(np.int64)
        keep = np.flatnonzero(want_day[day + 1])
        rank = np.where(orig >= 0, _trip_rank(tt)[tt.inst_trip[np.maximum(orig, 0)]], -1)
        order = keep[np.lexsort((stop_all[keep], rank[keep], when_all[keep]))]
        if limit is not None:
            order = order[:limit]
        for k in order.tolist():
            out.append(_departure(base, overlay, int(stop_all[k]), int(inst_all[k]), int(orig[k]),
                                  int(pos_all[k]), int(when_all[k]), int(day[k])))  # fmt: skip
    if overlay is not None and overlay.cancelled:
        out.extend(_cancelled(base, overlay, stop_set, from_s, to_s, want_day))
    out.sort(key=lambda d: (d.when_s, d.trip_id, d.stop))
    return out if limit is None else out[:limit]


@dataclass(frozen=True)
class _BoardingIndex:
    """Every boarding at a set of stops: where its time is in ``dep_s``, its trip instance, the stop
    and the stop's position along the pattern."""

    dep_at: np.ndarray
    inst: np.ndarray
    stop: np.ndarray
    pos: np.ndarray


_BOARDINGS: dict[tuple[int, tuple[int, ...]], tuple[weakref.ref[np.ndarray], _BoardingIndex]] = {}
_BOARDINGS_MAX = 1024


def _boarding_index(transit: TransitArrays, stops: tuple[int, ...]) -> _BoardingIndex:
    """The boardings at ``stops`` of ``transit`` (built once per timetable or overlay and stop set;
    a trip does not board at the last stop of its pattern, nor where pickup is off)."""
    key = (id(transit.dep_s), stops)
    found = _BOARDINGS.get(key)
    if found is not None and found[0]() is transit.dep_s:
        return found[1]
    dep_at, inst, stop_of, pos = [], [], [], []
    for stop in stops:
        for e in range(int(transit.stop_pat_off[stop]), int(transit.stop_pat_off[stop + 1])):
            p, i = int(transit.stop_pat[e]), int(transit.stop_pat_pos[e])
            so = int(transit.pat_stop_off[p])
            n = int(transit.pat_stop_off[p + 1]) - so
            if i == n - 1 or transit.pat_pickup[so + i] == 0:
                continue
            t0, t1 = int(transit.pat_trip_off[p]), int(transit.pat_trip_off[p + 1])
            lo = int(transit.pat_time_off[p])
            dep_at.append(np.arange(lo + i, lo + (t1 - t0) * n, n, dtype=np.int64))
            inst.append(np.arange(t0, t1, dtype=np.int64))
            stop_of.append(np.full(t1 - t0, stop, dtype=np.int64))
            pos.append(np.full(t1 - t0, i, dtype=np.int64))

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    index = _BoardingIndex(cat(dep_at), cat(inst), cat(stop_of), cat(pos))
    if len(_BOARDINGS) >= _BOARDINGS_MAX:
        for k in [k for k, (ref, _) in _BOARDINGS.items() if ref() is None] or list(_BOARDINGS):
            _BOARDINGS.pop(k, None)
    _BOARDINGS[key] = (weakref.ref(transit.dep_s), index)
    return index


def _departure(
    base: OverlayBase,
    overlay: RealtimeOverlay | None,
    stop: int,
    inst: int,
    orig: int,
    pos: int,
    when: int,
    day: int,
) -> BoardDeparture:
    tt = base.tt
    if orig < 0:  # added by the realtime feed
        assert overlay is not None
        trip = overlay.added[int(overlay.inst_added[inst])]
        return BoardDeparture(
            stop, trip.trip_id, _route_index(tt, trip.route_id), "", None, when, False, True, 0
        )
    _, start, _ = base.rows(orig)
    t = int(tt.inst_trip[orig])
    live = overlay is not None and orig in overlay.patched
    planned = int(base.transit.dep_s[start + pos])
    headsign = str(tt.trip_headsigns[t])
    return BoardDeparture(
        stop, str(tt.trip_ids[t]), int(tt.trip_route[t]), headsign, planned, when, False, live, day
    )


def _cancelled(
    base: OverlayBase,
    overlay: RealtimeOverlay,
    stop_set: list[int],
    from_s: int,
    to_s: int,
    want_day: np.ndarray,
) -> list[BoardDeparture]:
    """The cancelled trips' departures at the stops, at their planned times."""
    tt = base.tt
    wanted = np.asarray(stop_set, dtype=np.int32)
    out = []
    for o in overlay.cancelled:
        day = int(tt.inst_day[o])
        if not want_day[day + 1]:
            continue
        p, start, n = base.rows(o)
        so = int(base.transit.pat_stop_off[p])
        seq = base.transit.pat_stops[so : so + n]
        for i in np.flatnonzero(np.isin(seq[:-1], wanted)).tolist():
            if base.transit.pat_pickup[so + i] == 0:
                continue
            planned = int(base.transit.dep_s[start + i])
            if from_s <= planned <= to_s:
                t = int(tt.inst_trip[o])
                out.append(
                    BoardDeparture(int(seq[i]), str(tt.trip_ids[t]), int(tt.trip_route[t]),
                                   str(tt.trip_headsigns[t]), planned, planned, True, True, day)
                )  # fmt: skip
    return out


_RANKS: dict[int, tuple[weakref.ref[Timetable], np.ndarray]] = {}


def _trip_rank(tt: Timetable) -> np.ndarray:
    """Each trip's place in the order of trip ids (ties on the board break by trip id)."""
    found = _RANKS.get(id(tt))
    if found is not None and found[0]() is tt:
        return found[1]
    order = np.argsort(tt.trip_ids.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    for key in [k for k, (ref, _) in _RANKS.items() if ref() is None]:
        _RANKS.pop(key, None)
    _RANKS[id(tt)] = (weakref.ref(tt), rank)
    return rank


def _route_index(tt: Timetable, route_id: str | None) -> int:
    if route_id is None:
        return -1
    hits = np.flatnonzero(tt.route_ids == route_id)
    return int(hits[0]) if len(hits) else -1


def platform_codes(paths: Sequence[str | Path]) -> dict[str, str]:
    """``stop_id -> platform_code`` from stops.txt of GTFS zips or folders (ids namespaced like the
    timetable's when there are several feeds); stops without a code are left out."""
    from mobility.gtfs import default_namespace

    out: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        prefix = default_namespace(path) + ":" if len(paths) > 1 else ""
        for row in _stops_rows(path):
            code = (row.get("platform_code") or "").strip()
            if code:
                out[prefix + (row.get("stop_id") or "").strip()] = code
    return out


def _stops_rows(path: Path) -> list[dict[str, str]]:
    try:
        if path.is_dir():
            raw = (path / "stops.txt").read_bytes() if (path / "stops.txt").is_file() else b""
        else:
            with zipfile.ZipFile(path) as zf:
                names = {Path(n).name: n for n in zf.namelist()}
                raw = zf.read(names["stops.txt"]) if "stops.txt" in names else b""
    except (OSError, zipfile.BadZipFile, KeyError):
        return []
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace")))
    return [{(k or "").strip(): (v or "") for k, v in row.items()} for row in reader]
