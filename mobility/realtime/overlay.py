"""Realtime overlay: GTFS-Realtime TripUpdates applied to an immutable timetable.

The timetable is never changed. :func:`build_overlay` returns a :class:`RealtimeOverlay` holding
its own patched :class:`~mobility.raptor.TransitArrays` (same stops; untouched patterns shared by
value, patched ones rebuilt), which a router takes as ``Router(tt, footpaths,
transit=overlay.transit)``; a live store swaps the whole overlay object at once on each update.

What an update does:

* delays (relative, or absolute times) apply from their stop on and propagate along the trip to
  the next stop with an update; ``NO_DATA`` returns to the schedule; times are kept non-decreasing
  along the trip;
* a ``SKIPPED`` stop can be neither boarded nor left there: the trip moves to a pattern of its own
  with the stop's pickup and drop-off switched off;
* a ``CANCELED`` (or ``DELETED``) trip instance is removed;
* an ``ADDED``/``NEW`` trip with stop ids and absolute times becomes a pattern of its own;
* RAPTOR needs the trips of a pattern not to overtake each other (FIFO); a delayed trip that now
  overtakes or is overtaken is split off into another pattern with the same stops.

Trip instances are renumbered in the overlay: ``inst_orig[i]`` is the timetable's instance of
overlay instance ``i`` (-1 for added trips), and :meth:`RealtimeOverlay.trip_id` names it.
Stop time updates are matched to a trip's stops by ``stop_id``; an update with only a
``stop_sequence`` is taken as the 1-based position along the trip.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from mobility.errors import FeedProblem
from mobility.raptor import TransitArrays
from mobility.realtime.gtfs_rt import (
    RealtimeFeed,
    StopRelationship,
    StopTimeUpdate,
    TripRelationship,
    TripUpdate,
)

if TYPE_CHECKING:
    from mobility.timetable import Timetable

logger = logging.getLogger(__name__)


def service_day_epoch(date: dt.date, timezone: str) -> int:
    """POSIX seconds of "noon minus 12 h" of ``date`` in ``timezone`` (GTFS time zero)."""
    noon = dt.datetime.combine(date, dt.time(12), tzinfo=ZoneInfo(timezone))
    return int(noon.timestamp()) - 12 * 3600


def _with_raw_ids(ids: list[str], *, namespaced: bool) -> dict[str, int]:
    """Id -> index; for merged feeds ("feed:id") also the feed's own id where it is unambiguous,
    since a realtime feed speaks of its own ids."""
    out = {x: i for i, x in enumerate(ids)}
    if namespaced:
        raw: dict[str, int] = {}
        for i, x in enumerate(ids):
            key = x.split(":", 1)[-1]
            raw[key] = -1 if key in raw else i
        out.update({k: i for k, i in raw.items() if i >= 0 and k not in out})
    return out


class OverlayBase:
    """Indexes of one timetable that every overlay needs (built once, shared by all updates)."""

    def __init__(self, tt: Timetable) -> None:
        self.tt = tt
        self.transit = tt.transit
        counts = np.diff(tt.pat_trip_off)
        self.n_inst = int(tt.pat_trip_off[-1])
        self.inst_pat = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        self.inst_row = np.arange(self.n_inst, dtype=np.int64) - tt.pat_trip_off[self.inst_pat]
        self.trip_index = _with_raw_ids([str(t) for t in tt.trip_ids], namespaced=len(tt.feed_names) > 1)
        self.stop_lookup = _with_raw_ids([str(t) for t in tt.stop_ids], namespaced=len(tt.feed_names) > 1)
        order = np.argsort(tt.inst_trip, kind="stable")
        self._inst_by_trip = order
        self._trip_off = np.searchsorted(tt.inst_trip[order], np.arange(len(tt.trip_ids) + 1))
        self.epoch = service_day_epoch(tt.date, tt.timezone)
        self._by_stops: dict[bytes, int] | None = None

    def pattern_along(self, stops: np.ndarray) -> int:
        """A pattern with exactly these stops, boarding and alighting allowed at all (-1: none)."""
        if self._by_stops is None:
            tr = self.transit
            self._by_stops = {}
            for p in range(tr.n_patterns):
                a, b = int(tr.pat_stop_off[p]), int(tr.pat_stop_off[p + 1])
                if tr.pat_pickup[a:b].all() and tr.pat_dropoff[a:b].all():
                    self._by_stops.setdefault(tr.pat_stops[a:b].astype(np.int32).tobytes(), p)
        return self._by_stops.get(np.asarray(stops, dtype=np.int32).tobytes(), -1)

    def instance(self, trip: int, day: int) -> int:
        """The instance of timetable trip ``trip`` on day offset ``day`` (0 or -1), or -1."""
        lo, hi = int(self._trip_off[trip]), int(self._trip_off[trip + 1])
        for inst in self._inst_by_trip[lo:hi].tolist():
            if int(self.tt.inst_day[inst]) == day:
                return int(inst)
        return -1

    def rows(self, inst: int) -> tuple[int, int, int]:
        """(pattern, first time index, number of stops) of a timetable instance."""
        tr = self.transit
        p = int(self.inst_pat[inst])
        n = int(tr.pat_stop_off[p + 1] - tr.pat_stop_off[p])
        return p, int(tr.pat_time_off[p]) + int(self.inst_row[inst]) * n, n


@dataclass(frozen=True)
class AddedTrip:
    """A trip the feed added (not in the timetable)."""

    trip_id: str
    route_id: str | None
    stops: np.ndarray
    arr_s: np.ndarray
    dep_s: np.ndarray


@dataclass(frozen=True)
class Departure:
    """One departure at a stop, planned and expected (GTFS seconds of the service day)."""

    stop: int
    trip_id: str
    route_index: int  # -1 for an added trip without a known route
    headsign: str
    planned_s: int | None
    when_s: int
    cancelled: bool
    added: bool

    @property
    def delay_s(self) -> int | None:
        """Expected minus planned departure (None for added trips)."""
        return None if self.planned_s is None else self.when_s - self.planned_s


@dataclass(frozen=True)
class RealtimeOverlay:
    """An immutable realtime view of a timetable; see the module docs."""

    base: OverlayBase
    transit: TransitArrays
    inst_orig: np.ndarray  # overlay instance -> timetable instance (-1: added)
    inst_added: np.ndarray  # overlay instance -> index into ``added`` (-1: from the timetable)
    cancelled: frozenset[int]  # timetable instances
    patched: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(hash=False)  # arr, dep, skipped
    added: tuple[AddedTrip, ...] = ()
    problems: tuple[FeedProblem, ...] = ()
    applied: int = 0
    timestamp: dt.datetime | None = None

    @classmethod
    def empty(cls, base: OverlayBase) -> RealtimeOverlay:
        """The overlay of no update (the timetable as planned)."""
        return cls(
            base,
            base.transit,
            np.arange(base.n_inst, dtype=np.int64),
            np.full(base.n_inst, -1, dtype=np.int32),
            frozenset(),
            {},
        )

    def trip_id(self, inst: int) -> str:
        """The trip id of overlay instance ``inst``."""
        orig = int(self.inst_orig[inst])
        if orig < 0:
            return self.added[int(self.inst_added[inst])].trip_id
        return str(self.base.tt.trip_ids[self.base.tt.inst_trip[orig]])

    def delay_s(self, orig_inst: int, pos: int) -> int:
        """Departure delay of timetable instance ``orig_inst`` at stop position ``pos`` (0 if none)."""
        if orig_inst not in self.patched:
            return 0
        _, start, _ = self.base.rows(orig_inst)
        return int(self.patched[orig_inst][1][pos]) - int(self.base.transit.dep_s[start + pos])

    def departures(self, stop: int, from_s: int, to_s: int) -> list[Departure]:
        """Departures at ``stop`` expected (or planned, when cancelled) in ``[from_s, to_s]``."""
        tt, tr = self.base.tt, self.transit
        out: list[Departure] = []
        for e in range(int(tr.stop_pat_off[stop]), int(tr.stop_pat_off[stop + 1])):
            p, i = int(tr.stop_pat[e]), int(tr.stop_pat_pos[e])
            so = int(tr.pat_stop_off[p])
            if tr.pat_pickup[so + i] == 0:
                continue
            n = int(tr.pat_stop_off[p + 1]) - so
            t0 = int(tr.pat_trip_off[p])
            for r in range(int(tr.pat_trip_off[p + 1]) - t0):
                when = int(tr.dep_s[int(tr.pat_time_off[p]) + r * n + i])
                if from_s <= when <= to_s:
                    out.append(self._departure(stop, t0 + r, i, when, cancelled=False))
        for orig in self.cancelled:
            p, start, n = self.base.rows(orig)
            so = int(self.base.transit.pat_stop_off[p])
            for i in np.flatnonzero(self.base.transit.pat_stops[so : so + n] == stop).tolist():
                planned = int(self.base.transit.dep_s[start + i])
                if from_s <= planned <= to_s:
                    trip = int(tt.inst_trip[orig])
                    out.append(
                        Departure(stop, str(tt.trip_ids[trip]), int(tt.trip_route[trip]),
                                  str(tt.trip_headsigns[trip]), planned, planned, True, False)
                    )  # fmt: skip
        out.sort(key=lambda d: (d.when_s, d.trip_id))
        return out

    def _departure(self, stop: int, inst: int, pos: int, when: int, *, cancelled: bool) -> Departure:
        tt = self.base.tt
        orig = int(self.inst_orig[inst])
        if orig < 0:
            trip = self.added[int(self.inst_added[inst])]
            route = (
                self.base.tt.route_ids.tolist().index(trip.route_id) if trip.route_id in tt.route_ids else -1
            )
            return Departure(stop, trip.trip_id, route, "", None, when, cancelled, True)
        _, start, _ = self.base.rows(orig)
        planned = int(self.base.transit.dep_s[start + pos])
        t = int(tt.inst_trip[orig])
        return Departure(
            stop,
            str(tt.trip_ids[t]),
            int(tt.trip_route[t]),
            str(tt.trip_headsigns[t]),
            planned,
            when,
            cancelled,
            False,
        )


# ---------------------------------------------------------------------------------------------
# building


def _hms(text: str) -> int | None:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]) * 3600 + int(parts[1]) * 60 + int(parts[2])


def _find_instance(base: OverlayBase, tu: TripUpdate) -> int:
    """The timetable instance a trip update is about; raises ValueError when there is none."""
    trip = base.trip_index.get(tu.trip_id or "")
    if trip is None:
        raise ValueError(f"unknown trip_id {tu.trip_id!r}")
    day = 0
    if tu.start_date:
        try:
            start = dt.datetime.strptime(tu.start_date, "%Y%m%d").date()
        except ValueError as exc:
            raise ValueError(f"bad start_date {tu.start_date!r}") from exc
        day = (start - base.tt.date).days
        if day not in (0, -1):
            raise ValueError(f"start_date {tu.start_date} is not the timetable's service day")
    lo, hi = int(base._trip_off[trip]), int(base._trip_off[trip + 1])
    cands = [i for i in base._inst_by_trip[lo:hi].tolist() if int(base.tt.inst_day[i]) == day]
    if tu.start_time and len(cands) > 1:
        want = _hms(tu.start_time)
        for inst in cands:
            _, start_i, _ = base.rows(inst)
            if want is not None and int(base.transit.dep_s[start_i]) == want + day * 86_400:
                return int(inst)
    if not cands and tu.start_date is None:
        cands = [i for i in base._inst_by_trip[lo:hi].tolist() if int(base.tt.inst_day[i]) == -1]
    if not cands:
        raise ValueError(f"trip {tu.trip_id!r} does not run on the timetable's service day")
    return int(cands[0])


def _positions(base: OverlayBase, stops: np.ndarray, tu: TripUpdate) -> list[tuple[int, StopTimeUpdate]]:
    out = []
    cursor = 0
    n = len(stops)
    for k, u in enumerate(tu.stop_time_updates):
        if u.stop_id is not None:
            idx = base.stop_lookup.get(u.stop_id, -1)
            hits = np.flatnonzero(stops[cursor:] == idx) if idx >= 0 else np.zeros(0, dtype=np.int64)
            if len(hits) == 0:
                raise ValueError(f"stop_time_update/{k}: stop {u.stop_id!r} is not on the trip")
            j = cursor + int(hits[0])
        else:
            j = int(u.stop_sequence or 0) - 1
            if not cursor <= j < n:
                raise ValueError(f"stop_time_update/{k}: stop_sequence {u.stop_sequence} is not on the trip")
        out.append((j, u))
        cursor = j + 1
    return out


def _delay(given: int | None, abs_time: int | None, epoch: int, scheduled: int) -> int | None:
    if given is not None:
        return int(given)
    if abs_time:
        return int(abs_time) - epoch - scheduled
    return None


def patch_trip(base: OverlayBase, inst: int, tu: TripUpdate) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Realtime arrival and departure times and skipped flags of one timetable instance."""
    p, start, n = base.rows(inst)
    tr = base.transit
    so = int(tr.pat_stop_off[p])
    arr0 = tr.arr_s[start : start + n].astype(np.int64)
    dep0 = tr.dep_s[start : start + n].astype(np.int64)
    arr, dep = arr0.copy(), dep0.copy()
    skipped = np.zeros(n, dtype=bool)
    updates = _positions(base, tr.pat_stops[so : so + n], tu)
    # the trip-level delay counts only where no stop time update gives a prediction at all
    cur = int(tu.delay_s or 0) if not updates else 0
    first = updates[0][0] if updates else n
    arr[:first] += cur
    dep[:first] += cur
    for k, (j, u) in enumerate(updates):
        end = updates[k + 1][0] if k + 1 < len(updates) else n
        rest = j
        if u.relationship == StopRelationship.SKIPPED:
            skipped[j] = True
        elif u.relationship == StopRelationship.NO_DATA:
            cur = 0
        else:
            da = _delay(u.arrival_delay_s, u.arrival_time, base.epoch, int(arr0[j]))
            dd = _delay(u.departure_delay_s, u.departure_time, base.epoch, int(dep0[j]))
            da = da if da is not None else (dd if dd is not None else cur)
            dd = dd if dd is not None else da
            arr[j], dep[j] = arr0[j] + da, dep0[j] + dd
            cur, rest = dd, j + 1
        arr[rest:end] = arr0[rest:end] + cur
        dep[rest:end] = dep0[rest:end] + cur
    both = np.empty(2 * n, dtype=np.int64)
    both[0::2], both[1::2] = arr, dep
    np.maximum.accumulate(both, out=both)
    return both[0::2].astype(np.int32), both[1::2].astype(np.int32), skipped


def added_trip(base: OverlayBase, tu: TripUpdate) -> AddedTrip:
    """An ADDED/NEW trip from its stop ids and absolute times; ValueError when unusable."""
    stops, arr, dep = [], [], []
    for k, u in enumerate(tu.stop_time_updates):
        idx = base.stop_lookup.get(u.stop_id or "", -1)
        if idx < 0:
            raise ValueError(f"stop_time_update/{k}: unknown stop {u.stop_id!r}")
        a = u.arrival_time or u.departure_time
        d = u.departure_time or u.arrival_time
        if not a or not d:
            raise ValueError(f"stop_time_update/{k}: added trip stop without an absolute time")
        stops.append(idx)
        arr.append(int(a) - base.epoch)
        dep.append(int(d) - base.epoch)
    if len(stops) < 2:
        raise ValueError("added trip with fewer than two stops")
    both = np.maximum.accumulate(np.column_stack([arr, dep]).ravel())
    return AddedTrip(
        tu.trip_id or tu.entity_id,
        tu.route_id,
        np.asarray(stops, dtype=np.int32),
        both[0::2].astype(np.int32),
        both[1::2].astype(np.int32),
    )


def fifo_chains(arr: np.ndarray, dep: np.ndarray) -> list[np.ndarray]:
    """Rows (trips) ordered by first departure and split into groups in which none overtakes another."""
    order = np.lexsort((arr[:, -1], dep[:, 0]))
    arr, dep = arr[order], dep[order]
    if len(order) < 2 or ((np.diff(arr, axis=0) >= 0).all() and (np.diff(dep, axis=0) >= 0).all()):
        return [order]
    last: list[int] = []
    members: list[list[int]] = []
    for i in range(len(order)):
        for c, j in enumerate(last):
            if (arr[j] <= arr[i]).all() and (dep[j] <= dep[i]).all():
                last[c] = i
                members[c].append(i)
                break
        else:
            last.append(i)
            members.append([i])
    return [order[np.asarray(m)] for m in members]


@dataclass
class _NewPattern:
    stops: np.ndarray
    pickup: np.ndarray
    dropoff: np.ndarray
    arr: np.ndarray  # (n_trips, n_stops)
    dep: np.ndarray
    inst: np.ndarray  # timetable instances (-1: added)
    added: np.ndarray  # index into added (-1: from the timetable)


def _offsets(lengths: np.ndarray) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=out[1:])
    return out


def _rebuild_pattern(
    base: OverlayBase,
    p: int,
    patched: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]],
    cancelled: set[int],
    joining: Sequence[tuple[int, AddedTrip]] = (),
) -> list[_NewPattern]:
    """Pattern ``p`` with patched times, without cancelled trips and with the added trips that
    run along exactly its stops (``joining``: index into the added trips, trip): the first returned
    pattern replaces ``p``, the others (FIFO splits, trips with skipped stops) are appended."""
    tr = base.transit
    so, n = int(tr.pat_stop_off[p]), int(tr.pat_stop_off[p + 1] - tr.pat_stop_off[p])
    t0, t1 = int(tr.pat_trip_off[p]), int(tr.pat_trip_off[p + 1])
    lo, hi = int(tr.pat_time_off[p]), int(tr.pat_time_off[p + 1])
    insts = np.asarray([i for i in range(t0, t1) if i not in cancelled], dtype=np.int64)
    arr = tr.arr_s[lo:hi].reshape(-1, n)[insts - t0].copy()
    dep = tr.dep_s[lo:hi].reshape(-1, n)[insts - t0].copy()
    added_of = np.full(len(insts) + len(joining), -1, dtype=np.int32)
    if joining:
        arr = np.vstack([arr, *[t.arr_s[None, :] for _, t in joining]])
        dep = np.vstack([dep, *[t.dep_s[None, :] for _, t in joining]])
        added_of[len(insts) :] = [k for k, _ in joining]
        insts = np.concatenate([insts, np.full(len(joining), -1, dtype=np.int64)])
    groups: dict[bytes, list[int]] = {b"": []}
    masks: dict[bytes, np.ndarray] = {}
    for r, inst in enumerate(insts.tolist()):
        key = b""
        if inst in patched:
            a, d, skip = patched[inst]
            arr[r], dep[r] = a, d
            if skip.any():
                key = skip.tobytes()
                masks[key] = skip
        groups.setdefault(key, []).append(r)
    stops, pick, drop = tr.pat_stops[so : so + n], tr.pat_pickup[so : so + n], tr.pat_dropoff[so : so + n]
    out: list[_NewPattern] = []
    for key, rows_list in groups.items():
        rows = np.asarray(rows_list, dtype=np.int64)
        if key and not len(rows):
            continue
        gp, gd = pick, drop
        if key:
            gp, gd = pick.copy(), drop.copy()
            gp[masks[key]] = 0
            gd[masks[key]] = 0
        chains = fifo_chains(arr[rows], dep[rows]) if len(rows) else [rows]
        for chain in chains:
            sel = rows[chain]
            out.append(_NewPattern(stops, gp, gd, arr[sel], dep[sel], insts[sel], added_of[sel]))
    return out


def _stop_index(pat_stops: np.ndarray, pat_stop_off: np.ndarray, n_stops: int) -> tuple[np.ndarray, ...]:
    lengths = np.diff(pat_stop_off)
    pos = np.arange(len(pat_stops), dtype=np.int64) - np.repeat(pat_stop_off[:-1], lengths)
    pat_id = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    order = np.lexsort((pos, pat_id, pat_stops))
    off = np.zeros(n_stops + 1, dtype=np.int64)
    np.cumsum(np.bincount(pat_stops, minlength=n_stops), out=off[1:])
    return off, pat_id[order].astype(np.int32), pos[order].astype(np.int32)


def _assemble(
    base: OverlayBase,
    replaced: dict[int, _NewPattern | None],
    extra: list[_NewPattern],
) -> tuple[TransitArrays, np.ndarray, np.ndarray]:
    """New transit arrays: untouched patterns copied in runs, replaced ones swapped, extras appended."""
    tr = base.transit
    n_pat = tr.n_patterns
    counts = np.diff(tr.pat_trip_off).copy()
    for p, np_ in replaced.items():
        counts[p] = 0 if np_ is None else len(np_.inst)
    all_counts = np.concatenate([counts, [len(e.inst) for e in extra]]).astype(np.int64)
    lengths = np.concatenate([np.diff(tr.pat_stop_off), [len(e.stops) for e in extra]]).astype(np.int64)
    arr_parts: list[np.ndarray] = []
    dep_parts: list[np.ndarray] = []
    inst_parts: list[np.ndarray] = []
    added_parts: list[np.ndarray] = []
    run = 0
    for p in [*sorted(replaced), n_pat]:
        if run < p:  # untouched patterns run..p-1
            a, b = int(tr.pat_time_off[run]), int(tr.pat_time_off[p])
            arr_parts.append(tr.arr_s[a:b])
            dep_parts.append(tr.dep_s[a:b])
            ia, ib = int(tr.pat_trip_off[run]), int(tr.pat_trip_off[p])
            inst_parts.append(np.arange(ia, ib, dtype=np.int64))
            added_parts.append(np.full(ib - ia, -1, dtype=np.int32))
        if p < n_pat:
            np_ = replaced[p]
            if np_ is not None:
                arr_parts.append(np_.arr.ravel())
                dep_parts.append(np_.dep.ravel())
                inst_parts.append(np_.inst)
                added_parts.append(np_.added)
        run = p + 1
    for e in extra:
        arr_parts.append(e.arr.ravel())
        dep_parts.append(e.dep.ravel())
        inst_parts.append(e.inst)
        added_parts.append(e.added)
    if extra:
        pat_stops = np.concatenate([tr.pat_stops, *[e.stops for e in extra]]).astype(np.int32)
        pickup = np.concatenate([tr.pat_pickup, *[e.pickup for e in extra]]).astype(np.uint8)
        dropoff = np.concatenate([tr.pat_dropoff, *[e.dropoff for e in extra]]).astype(np.uint8)
        pat_stop_off = _offsets(lengths)
        stop_pat_off, stop_pat, stop_pat_pos = _stop_index(pat_stops, pat_stop_off, base.tt.n_stops)
    else:
        pat_stops, pickup, dropoff, pat_stop_off = (
            tr.pat_stops,
            tr.pat_pickup,
            tr.pat_dropoff,
            tr.pat_stop_off,
        )
        stop_pat_off, stop_pat, stop_pat_pos = tr.stop_pat_off, tr.stop_pat, tr.stop_pat_pos
    transit = TransitArrays(
        pat_stop_off,
        pat_stops,
        pickup,
        dropoff,
        _offsets(all_counts),
        _offsets(all_counts * lengths),
        np.concatenate(arr_parts).astype(np.int32),
        np.concatenate(dep_parts).astype(np.int32),
        stop_pat_off,
        stop_pat,
        stop_pat_pos,
    )
    return transit, np.concatenate(inst_parts), np.concatenate(added_parts)


def build_overlay(
    base: OverlayBase,
    updates: RealtimeFeed | Sequence[TripUpdate],
    *,
    timestamp: dt.datetime | None = None,
) -> RealtimeOverlay:
    """Apply TripUpdates to the timetable behind ``base``; returns a new, immutable overlay.

    An update that cannot be applied (unknown trip or stop, a day the timetable does not cover,
    ...) is skipped and listed in ``problems``; the others apply.
    """
    problems: list[FeedProblem] = []
    trip_updates: Sequence[TripUpdate]
    if isinstance(updates, RealtimeFeed):
        trip_updates = updates.trip_updates
        problems.extend(updates.problems)
        timestamp = timestamp or updates.timestamp
    else:
        trip_updates = updates
    patched: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    cancelled: set[int] = set()
    added: list[AddedTrip] = []
    applied = 0
    for tu in trip_updates:
        try:
            if tu.relationship in (TripRelationship.ADDED, TripRelationship.NEW):
                added.append(added_trip(base, tu))
            elif tu.relationship in (TripRelationship.CANCELED, TripRelationship.DELETED):
                cancelled.add(_find_instance(base, tu))
            elif tu.relationship == TripRelationship.SCHEDULED:
                inst = _find_instance(base, tu)
                patched[inst] = patch_trip(base, inst, tu)
            else:
                raise ValueError(f"schedule_relationship {tu.relationship.name} is not supported")
            applied += 1
        except ValueError as exc:
            problems.append(FeedProblem("trip_updates", f"entity {tu.entity_id!r}", str(exc)))
    for inst in cancelled:
        patched.pop(inst, None)
    joining: dict[int, list[tuple[int, AddedTrip]]] = {}
    alone: list[tuple[int, AddedTrip]] = []
    for k, trip in enumerate(added):
        p = base.pattern_along(trip.stops)
        (alone if p < 0 else joining.setdefault(p, [])).append((k, trip))
    touched = sorted({int(base.inst_pat[i]) for i in (*patched, *cancelled)} | set(joining))
    replaced: dict[int, _NewPattern | None] = {}
    extra: list[_NewPattern] = []
    for p in touched:
        parts = _rebuild_pattern(base, p, patched, cancelled, joining.get(p, ()))
        replaced[p] = parts[0] if parts else None
        extra.extend(parts[1:])
    for k, trip in alone:
        ones = np.ones(len(trip.stops), dtype=np.uint8)
        extra.append(
            _NewPattern(trip.stops, ones, ones, trip.arr_s[None, :], trip.dep_s[None, :],
                        np.full(1, -1, np.int64), np.full(1, k, np.int32))
        )  # fmt: skip
    transit, inst_orig, inst_added = _assemble(base, replaced, extra)
    if problems:
        logger.info("realtime: %d updates applied, %d skipped", applied, len(problems))
    return RealtimeOverlay(
        base, transit, inst_orig, inst_added, frozenset(cancelled), patched, tuple(added), tuple(problems),
        applied, timestamp,
    )  # fmt: skip
