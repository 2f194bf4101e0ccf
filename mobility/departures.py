"""Departure boards: the trips leaving a set of stops in a time window, planned and expected.

Pure functions over a :class:`~mobility.timetable.Timetable` and, when realtime is known, its
:class:`~mobility.realtime.overlay.RealtimeOverlay` (the same timetable patched by TripUpdates).
Times are GTFS seconds of the timetable's service date; the timetable holds the trips of the day
before that still run after midnight (day offset -1), so a board at 00:30 shows yesterday's late
trips. A trip does not depart from the last stop of its pattern, nor where pickup is off.

The scan is vectorised per (stop, pattern): a board over a station's platforms costs a few dozen
NumPy slices, not a loop over every trip.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    time), by expected time then trip id; only trip instances of the day offsets ``days``.

    ``overlay`` must have been built on ``base`` (None: the timetable as planned).
    """
    tt = base.tt
    transit = overlay.transit if overlay is not None else base.transit
    planned_dep = base.transit.dep_s
    stop_set = sorted({int(s) for s in stops})
    want_day = np.zeros(3, dtype=bool)
    for d in days:
        want_day[int(d) + 1] = True
    out: list[BoardDeparture] = []
    for stop in stop_set:
        for e in range(int(transit.stop_pat_off[stop]), int(transit.stop_pat_off[stop + 1])):
            p, i = int(transit.stop_pat[e]), int(transit.stop_pat_pos[e])
            so = int(transit.pat_stop_off[p])
            n = int(transit.pat_stop_off[p + 1]) - so
            if i == n - 1 or transit.pat_pickup[so + i] == 0:
                continue
            t0, t1 = int(transit.pat_trip_off[p]), int(transit.pat_trip_off[p + 1])
            if t1 == t0:
                continue
            lo = int(transit.pat_time_off[p])
            when = transit.dep_s[lo + i : lo + (t1 - t0) * n : n]
            rows = np.flatnonzero((when >= from_s) & (when <= to_s))
            if not len(rows):
                continue
            insts = rows + t0
            orig = overlay.inst_orig[insts] if overlay is not None else insts.astype(np.int64)
            for r, inst, o in zip(rows.tolist(), insts.tolist(), orig.tolist(), strict=True):
                w = int(when[r])
                if o < 0:  # added by the realtime feed
                    assert overlay is not None
                    if not want_day[1]:
                        continue
                    trip = overlay.added[int(overlay.inst_added[inst])]
                    route = _route_index(tt, trip.route_id)
                    out.append(BoardDeparture(stop, trip.trip_id, route, "", None, w, False, True, 0))
                    continue
                day = int(tt.inst_day[o])
                if not want_day[day + 1]:
                    continue
                _, start, _ = base.rows(o)
                t = int(tt.inst_trip[o])
                live = overlay is not None and o in overlay.patched
                headsign = str(tt.trip_headsigns[t])
                out.append(
                    BoardDeparture(stop, str(tt.trip_ids[t]), int(tt.trip_route[t]), headsign,
                                   int(planned_dep[start + i]), w, False, live, day)
                )  # fmt: skip
    if overlay is not None and overlay.cancelled:
        wanted = np.asarray(stop_set, dtype=np.int32)
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
                planned = int(planned_dep[start + i])
                if from_s <= planned <= to_s:
                    t = int(tt.inst_trip[o])
                    out.append(
                        BoardDeparture(int(seq[i]), str(tt.trip_ids[t]), int(tt.trip_route[t]),
                                       str(tt.trip_headsigns[t]), planned, planned, True, True, day)
                    )  # fmt: skip
    out.sort(key=lambda d: (d.when_s, d.trip_id, d.stop))
    return out if limit is None else out[:limit]


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
