"""RAPTOR (Delling, Pajor, Werneck 2012) over immutable bundles of flat arrays.

The router reads three bundles: :class:`TransitArrays` (patterns, trips and their times; from a
:class:`~mobility.timetable.Timetable`, or patched by a realtime overlay),
:class:`~mobility.footpaths.Footpaths` (the walks between rides, from any source) and a reusable
:class:`SearchState`.  The numba kernel works round by round: round ``k`` finds the earliest
arrivals with at most ``k`` rides.  Two labels are kept per stop: ``ride`` (arrived by a vehicle:
a walk may follow, and it counts at a target) and ``board`` (arrived by a vehicle or by one walk
after a vehicle: only boarding may follow), so walks never chain and a journey neither starts nor
ends with a footpath.  Patterns never overtake, so the earliest trip that can be boarded at a stop
is also the best at every later stop.  Target pruning drops labels no earlier than the best
arrival found so far (only when every trip's times are non-decreasing along its stops).

Queries may start at several stops at different times (``origin_delay_s``: the access walk) and
end at several stops with an egress time each (``target_egress_s``), which is what a door-to-door
planner needs.  Everything here is pure: integer ids in, integer seconds out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, cast

import numba as nb
import numpy as np

from mobility.footpaths import Footpaths
from mobility.journeys import Journey, Ride

if TYPE_CHECKING:
    from mobility.timetable import Timetable

INF = np.int32(np.iinfo(np.int32).max)
MAX_ROUNDS = 32

_F = TypeVar("_F", bound=Callable[..., Any])


def _kernel(*, inline: Literal["never", "always"] = "never") -> Callable[[_F], _F]:
    """``numba.njit`` with the compiled code cached on disk where a cache folder can be written.

    A cached kernel loads in milliseconds instead of compiling for seconds. Where numba finds no
    writable folder (a read-only install without a home directory) it compiles once per process.
    """

    def wrap(func: _F) -> _F:
        try:
            return cast(_F, nb.njit(cache=True, inline=inline)(func))
        except RuntimeError:  # numba: "cannot cache function ...: no locator available"
            return cast(_F, nb.njit(inline=inline)(func))

    return wrap


class TransitArrays(NamedTuple):
    """What RAPTOR scans: patterns with their stops and trips, and per stop the patterns visiting it.

    A pattern ``p`` has stops ``pat_stops[pat_stop_off[p]:pat_stop_off[p + 1]]`` with boarding and
    alighting flags, trip instances ``pat_trip_off[p]:pat_trip_off[p + 1]``, and their times
    (``n_trips x n_stops``, trip by trip) from ``pat_time_off[p]`` on in ``arr_s``/``dep_s``.
    """

    pat_stop_off: np.ndarray
    pat_stops: np.ndarray
    pat_pickup: np.ndarray
    pat_dropoff: np.ndarray
    pat_trip_off: np.ndarray
    pat_time_off: np.ndarray
    arr_s: np.ndarray
    dep_s: np.ndarray
    stop_pat_off: np.ndarray
    stop_pat: np.ndarray
    stop_pat_pos: np.ndarray

    @property
    def n_patterns(self) -> int:
        """Number of patterns."""
        return len(self.pat_stop_off) - 1


class SearchState(NamedTuple):
    """Working arrays of one search, reused across queries (one per thread)."""

    board: np.ndarray  # int32 per stop: best label from which a vehicle may be boarded
    ride: np.ndarray  # int32 per stop: best arrival by a vehicle
    board_round: np.ndarray  # round in which ``board`` was set
    marked: np.ndarray  # uint8 per stop: improved in the last round
    marked_list: np.ndarray
    ride_marked: np.ndarray
    ride_list: np.ndarray
    pat_start: np.ndarray  # int32 per pattern: first position to scan (-1: not queued)
    pat_list: np.ndarray
    egress_s: np.ndarray  # int32 per stop: egress time when a target, else -1

    @classmethod
    def for_size(cls, n_stops: int, n_patterns: int) -> SearchState:
        """Fresh working arrays for ``n_stops`` stops and ``n_patterns`` patterns."""
        return cls(
            np.empty(n_stops, np.int32),
            np.empty(n_stops, np.int32),
            np.zeros(n_stops, np.int32),
            np.zeros(n_stops, np.uint8),
            np.zeros(n_stops, np.int32),
            np.zeros(n_stops, np.uint8),
            np.zeros(n_stops, np.int32),
            np.full(n_patterns, -1, np.int32),
            np.zeros(n_patterns, np.int32),
            np.full(n_stops, -1, np.int32),
        )


class Records(NamedTuple):
    """Per round and stop, how each label was reached (to rebuild journeys)."""

    ride_arr: np.ndarray
    ride_pat: np.ndarray
    ride_trip: np.ndarray  # trip instance
    ride_from: np.ndarray  # board position in the pattern
    ride_to: np.ndarray  # alight position
    ride_src_round: np.ndarray  # round of the boarding label
    board_arr: np.ndarray
    board_src: np.ndarray  # -2 origin, s itself after a ride, else the stop walked from
    front_arr: np.ndarray  # best target arrival per round (INF: no improvement)
    front_stop: np.ndarray  # target stop reached

    @classmethod
    def for_size(cls, rounds: int, n_stops: int) -> Records:
        """Record arrays for ``rounds`` rounds (round 0 included) and ``n_stops`` stops."""
        k, s = rounds, n_stops
        return cls(
            np.empty((k, s), np.int32),
            np.zeros((k, s), np.int32),
            np.zeros((k, s), np.int32),
            np.zeros((k, s), np.int32),
            np.zeros((k, s), np.int32),
            np.zeros((k, s), np.int32),
            np.empty((k, s), np.int32),
            np.zeros((k, s), np.int32),
            np.empty(k, np.int32),
            np.zeros(k, np.int32),
        )


@_kernel(inline="always")
def _first_trip(dep: np.ndarray, base: int, n_stops: int, pos: int, label: int, hi: int) -> int:
    lo = 0
    while lo < hi:
        mid = (lo + hi) >> 1
        if dep[base + mid * n_stops + pos] < label:
            lo = mid + 1
        else:
            hi = mid
    return lo


@_kernel(inline="always")
def _mark(st: SearchState, s: int, n_marked: int) -> int:
    if st.marked[s] == 0:
        st.marked[s] = 1
        st.marked_list[n_marked] = s
        n_marked += 1
    return n_marked


@_kernel()
def _seed(st: SearchState, origins: np.ndarray, origin_s: np.ndarray, record: bool, rec: Records) -> int:  # noqa: FBT001  numba kernel: no keyword-only arguments in nopython mode
    """Reset the labels and place the origins; returns the number of marked stops."""
    inf = np.int32(2147483647)
    st.board[:] = inf
    st.ride[:] = inf
    if record:
        rec.ride_arr[:, :] = inf
        rec.board_arr[:, :] = inf
        rec.front_arr[:] = inf
        rec.front_stop[:] = -1
    n_marked = 0
    for i in range(origins.shape[0]):
        o = origins[i]
        t = origin_s[i]
        if st.board[o] > t:
            st.board[o] = t
            st.board_round[o] = 0
            if record:
                rec.board_arr[0, o] = t
                rec.board_src[0, o] = -2
            n_marked = _mark(st, o, n_marked)
    return n_marked


@_kernel()
def _queue_patterns(tr: TransitArrays, st: SearchState, n_marked: int) -> int:
    """Queue every pattern through a marked stop, from its first marked boarding position."""
    n_pat = 0
    for m in range(n_marked):
        s = st.marked_list[m]
        for e in range(tr.stop_pat_off[s], tr.stop_pat_off[s + 1]):
            p = tr.stop_pat[e]
            i = tr.stop_pat_pos[e]
            if tr.pat_pickup[tr.pat_stop_off[p] + i] == 0:
                continue
            if st.pat_start[p] < 0:
                st.pat_start[p] = i
                st.pat_list[n_pat] = p
                n_pat += 1
            elif i < st.pat_start[p]:
                st.pat_start[p] = i
    return n_pat


@_kernel()
def _scan_pattern(  # noqa: PLR0913  numba kernel: the bundles, the search state and scalars come in as arguments
    tr: TransitArrays, st: SearchState, p: int, k: int, prune: bool, best: np.ndarray,  # noqa: FBT001  numba kernel: no keyword-only arguments in nopython mode
    n_ride: int, record: bool, rec: Records,  # noqa: FBT001  numba kernel: no keyword-only arguments in nopython mode
) -> int:  # fmt: skip
    """Ride pattern ``p`` in round ``k``; ``best[0]`` is the best target arrival, ``best[1]`` its
    round.  Returns the new number of stops reached by a ride in this round."""
    inf = np.int32(2147483647)
    start = st.pat_start[p]
    st.pat_start[p] = -1
    so = tr.pat_stop_off[p]
    n_stops = tr.pat_stop_off[p + 1] - so
    n_trips = tr.pat_trip_off[p + 1] - tr.pat_trip_off[p]
    base = tr.pat_time_off[p]
    cur, cur_pos, cur_round = -1, -1, -1
    for i in range(start, n_stops):
        s = tr.pat_stops[so + i]
        if cur >= 0 and tr.pat_dropoff[so + i] != 0:
            a = tr.arr_s[base + cur * n_stops + i]
            if a < st.ride[s] and (not prune or a < best[0]):
                st.ride[s] = a
                if st.ride_marked[s] == 0:
                    st.ride_marked[s] = 1
                    st.ride_list[n_ride] = s
                    n_ride += 1
                if record:
                    rec.ride_arr[k, s] = a
                    rec.ride_pat[k, s] = p
                    rec.ride_trip[k, s] = tr.pat_trip_off[p] + cur
                    rec.ride_from[k, s] = cur_pos
                    rec.ride_to[k, s] = i
                    rec.ride_src_round[k, s] = cur_round
                egress = st.egress_s[s]
                if egress >= 0 and a + egress < best[0]:
                    best[0] = a + egress
                    best[1] = k
                    if record:
                        rec.front_stop[k] = s
        # only stops whose label improved in the previous round can give a better trip: the
        # others were tried with the same label in an earlier round
        if st.marked[s] != 0 and tr.pat_pickup[so + i] != 0:
            label = st.board[s]
            if label != inf and (not prune or label < best[0]):
                hi = -1
                if cur < 0:
                    hi = n_trips
                elif label <= tr.dep_s[base + cur * n_stops + i]:
                    hi = cur
                if hi > 0:
                    t = _first_trip(tr.dep_s, base, n_stops, i, label, hi)
                    if t < hi:
                        cur, cur_pos, cur_round = t, i, st.board_round[s]
    return n_ride


@_kernel()
def _walk(
    fp: Footpaths, st: SearchState, n_ride: int, k: int, prune: bool, target_best: int,  # noqa: FBT001  numba kernel: no keyword-only arguments in nopython mode
    record: bool, rec: Records,  # noqa: FBT001  numba kernel: no keyword-only arguments in nopython mode
) -> int:  # fmt: skip
    """One walk (or staying) after each ride of round ``k``; returns the number of marked stops."""
    n_marked = 0
    for m in range(n_ride):
        s = st.ride_list[m]
        st.ride_marked[s] = 0
        a = st.ride[s]
        if a < st.board[s]:
            st.board[s] = a
            st.board_round[s] = k
            if record:
                rec.board_arr[k, s] = a
                rec.board_src[k, s] = s
            n_marked = _mark(st, s, n_marked)
        for e in range(fp.off[s], fp.off[s + 1]):
            b = fp.to[e]
            y = a + fp.time_s[e]
            if y < st.board[b] and (not prune or y < target_best):
                st.board[b] = y
                st.board_round[b] = k
                if record:
                    rec.board_arr[k, b] = y
                    rec.board_src[k, b] = s
                n_marked = _mark(st, b, n_marked)
    return n_marked


@_kernel()
def _raptor(  # noqa: PLR0913  numba kernel: the bundles, the search state and scalars come in as arguments
    tr: TransitArrays, fp: Footpaths, st: SearchState, origins: np.ndarray, origin_s: np.ndarray,
    max_rounds: int, prune: bool, record: bool, rec: Records,  # noqa: FBT001  numba kernel: no keyword-only arguments in nopython mode
) -> tuple[int, int]:  # fmt: skip
    """Earliest arrival (egress included) at the stops with ``st.egress_s >= 0``, and its round."""
    n_marked = _seed(st, origins, origin_s, record, rec)
    best = np.array([2147483647, -1], dtype=np.int64)
    for k in range(1, max_rounds + 1):
        if n_marked == 0:
            break
        n_pat = _queue_patterns(tr, st, n_marked)
        before = best[0]
        n_ride = 0
        for q in range(n_pat):
            n_ride = _scan_pattern(tr, st, st.pat_list[q], k, prune, best, n_ride, record, rec)
        if record and best[0] < before:
            rec.front_arr[k] = best[0]
        for m in range(n_marked):
            st.marked[st.marked_list[m]] = 0
        n_marked = _walk(fp, st, n_ride, k, prune, best[0], record, rec)
    for m in range(n_marked):
        st.marked[st.marked_list[m]] = 0
    return int(best[0]), int(best[1])


@_kernel()
def _batch(  # noqa: PLR0913  numba kernel: queries in CSR form plus the bundles and search state
    tr: TransitArrays, fp: Footpaths, st: SearchState, q_orig_off: np.ndarray, q_orig: np.ndarray,
    q_targ_off: np.ndarray, q_targ: np.ndarray, q_time: np.ndarray, max_rounds: int, prune: bool,  # noqa: FBT001  numba kernel: no keyword-only arguments in nopython mode
    rec: Records, out_arr: np.ndarray, out_rides: np.ndarray,
) -> None:  # fmt: skip
    """Stop-to-stop queries in CSR form (origins and targets per query, one departure each)."""
    for q in range(q_time.shape[0]):
        origins = q_orig[q_orig_off[q] : q_orig_off[q + 1]]
        targets = q_targ[q_targ_off[q] : q_targ_off[q + 1]]
        for t in targets:
            st.egress_s[t] = 0
        same = False
        for o in origins:
            if st.egress_s[o] >= 0:
                same = True
        if same:
            out_arr[q] = q_time[q]
            out_rides[q] = 0
        elif origins.shape[0] == 0 or targets.shape[0] == 0:
            out_arr[q] = 2147483647
            out_rides[q] = -1
        else:
            start = np.full(origins.shape[0], q_time[q], dtype=np.int32)
            best, rides = _raptor(tr, fp, st, origins, start, max_rounds, prune, False, rec)
            out_arr[q] = best
            out_rides[q] = rides
        for t in targets:
            st.egress_s[t] = -1


_RAPTOR: Any = _raptor  # numba dispatchers, typed loosely for the type checker
_BATCH: Any = _batch


def _per_stop(values: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, np.int32) if values is None else np.asarray(values, dtype=np.int32)


class Router:
    """RAPTOR queries over one timetable's transit arrays and a set of footpaths."""

    def __init__(
        self,
        tt: Timetable,
        footpaths: Footpaths,
        *,
        transit: TransitArrays | None = None,
        max_rounds: int = MAX_ROUNDS,
    ) -> None:
        self.tt = tt
        self.transit = tt.transit if transit is None else transit
        self.footpaths = footpaths
        self.max_rounds = max_rounds
        self.prune = bool(tt.monotone)
        self._state = SearchState.for_size(tt.n_stops, self.transit.n_patterns)
        self._no_records = Records.for_size(1, 1)
        self._records: Records | None = None

    def _run(
        self,
        origins: np.ndarray,
        targets: np.ndarray,
        t0: int,
        origin_delay_s: np.ndarray | None,
        target_egress_s: np.ndarray | None,
        rec: Records | None,
    ) -> tuple[int, int]:
        origins = np.asarray(origins, dtype=np.int32)
        targets = np.asarray(targets, dtype=np.int32)
        start = (int(t0) + _per_stop(origin_delay_s, len(origins))).astype(np.int32)
        egress = self._state.egress_s
        egress[targets] = _per_stop(target_egress_s, len(targets))
        try:
            return _RAPTOR(
                self.transit, self.footpaths, self._state, origins, start, self.max_rounds, self.prune,
                rec is not None, self._no_records if rec is None else rec,
            )  # type: ignore[no-any-return]  # fmt: skip
        finally:
            egress[targets] = -1

    def earliest_arrival(
        self,
        origins: np.ndarray,
        targets: np.ndarray,
        t0: int,
        *,
        origin_delay_s: np.ndarray | None = None,
        target_egress_s: np.ndarray | None = None,
    ) -> tuple[int, int]:
        """Earliest arrival at any of ``targets`` leaving any of ``origins`` at ``t0``, and its rides.

        Origin ``i`` is reached at ``t0 + origin_delay_s[i]``; reaching target ``j`` at ``a`` counts
        as ``a + target_egress_s[j]``.  Returns ``(arrival_s, rides)``; ``(-1, -1)`` when
        unreachable.  Without delays and egress times a stop shared by origins and targets gives
        ``(t0, 0)``; with them, journeys need a ride (walking the whole way is the caller's option).
        """
        plain = origin_delay_s is None and target_egress_s is None
        if plain and np.intersect1d(origins, targets).size:
            return t0, 0
        if len(origins) == 0 or len(targets) == 0:
            return -1, -1
        best, rides = self._run(origins, targets, t0, origin_delay_s, target_egress_s, None)
        return (-1, -1) if best == INF else (int(best), int(rides))

    def batch(
        self,
        orig_off: np.ndarray,
        orig: np.ndarray,
        targ_off: np.ndarray,
        targ: np.ndarray,
        times_s: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Earliest arrivals of many stop-to-stop queries at once (origins and targets in CSR form).

        Returns ``(arrival_s, rides)`` arrays; -1 marks an unreachable destination.
        """
        n = len(times_s)
        out_arr = np.empty(n, np.int32)
        out_rides = np.empty(n, np.int32)
        _BATCH(
            self.transit, self.footpaths, self._state,
            orig_off.astype(np.int64), orig.astype(np.int32), targ_off.astype(np.int64),
            targ.astype(np.int32), times_s.astype(np.int32), self.max_rounds, self.prune,
            self._no_records, out_arr, out_rides,
        )  # fmt: skip
        unreachable = out_arr == INF
        out_arr[unreachable] = -1
        out_rides[unreachable] = -1
        return out_arr, out_rides

    # -- Pareto set with journeys -----------------------------------------------------------------

    def pareto(
        self,
        origins: np.ndarray,
        targets: np.ndarray,
        t0: int,
        *,
        origin_delay_s: np.ndarray | None = None,
        target_egress_s: np.ndarray | None = None,
    ) -> list[Journey]:
        """All Pareto-optimal journeys (arrival, rides) leaving at or after ``t0``, fewest rides first.

        ``origin_delay_s`` and ``target_egress_s`` as in :meth:`earliest_arrival`; a journey's
        ``arrival_s`` includes the egress time.
        """
        plain = origin_delay_s is None and target_egress_s is None
        if plain and np.intersect1d(origins, targets).size:
            return [Journey(int(t0), int(t0), [])]
        if len(origins) == 0 or len(targets) == 0:
            return []
        if self._records is None:
            self._records = Records.for_size(self.max_rounds + 1, self.tt.n_stops)
        rec = self._records
        self._run(origins, targets, t0, origin_delay_s, target_egress_s, rec)
        journeys = []
        for k in range(1, self.max_rounds + 1):
            if rec.front_arr[k] != INF:
                journeys.append(self._reconstruct(k, int(rec.front_stop[k]), rec))
        return journeys

    def _reconstruct(self, k: int, stop: int, rec: Records) -> Journey:
        tr = self.transit
        arrival = int(rec.front_arr[k])
        rides: list[Ride] = []
        while True:
            p = int(rec.ride_pat[k, stop])
            trip = int(rec.ride_trip[k, stop])
            i = int(rec.ride_from[k, stop])
            so = int(tr.pat_stop_off[p])
            n_stops = int(tr.pat_stop_off[p + 1] - so)
            row = int(tr.pat_time_off[p]) + (trip - int(tr.pat_trip_off[p])) * n_stops
            board_stop = int(tr.pat_stops[so + i])
            ride = Ride(p, trip, board_stop, int(tr.dep_s[row + i]), stop, int(rec.ride_arr[k, stop]))
            rides.append(ride)
            kb = int(rec.ride_src_round[k, stop])
            src = int(rec.board_src[kb, board_stop])
            if src == -2:
                break
            if src != board_stop:
                ride.walk_from = src
                ride.walk_s = int(rec.board_arr[kb, board_stop]) - int(rec.ride_arr[kb, src])
            k, stop = kb, src
        rides.reverse()
        return Journey(rides[0].board_s, arrival, rides, egress_s=arrival - rides[-1].alight_s)

    # -- range and arrive-by ----------------------------------------------------------------------

    def departures_at(
        self, origins: np.ndarray, lo_s: int, hi_s: int, *, origin_delay_s: np.ndarray | None = None
    ) -> np.ndarray:
        """Sorted distinct times in ``[lo_s, hi_s]`` at which leaving catches a trip at ``origins``.

        With ``origin_delay_s`` a departure ``d`` at origin ``i`` means leaving at ``d - delay[i]``.
        """
        tr = self.transit
        delays = _per_stop(origin_delay_s, len(origins))
        times: list[np.ndarray] = []
        for o, delay in zip(np.asarray(origins).tolist(), delays.tolist(), strict=True):
            for e in range(int(tr.stop_pat_off[o]), int(tr.stop_pat_off[o + 1])):
                p, i = int(tr.stop_pat[e]), int(tr.stop_pat_pos[e])
                so = int(tr.pat_stop_off[p])
                if tr.pat_pickup[so + i] == 0:
                    continue
                n_stops = int(tr.pat_stop_off[p + 1] - so)
                lo, hi = int(tr.pat_time_off[p]), int(tr.pat_time_off[p + 1])
                times.append(tr.dep_s[lo + i : hi : n_stops].astype(np.int64) - delay)
        if not times:
            return np.zeros(0, dtype=np.int64)
        all_t = np.unique(np.concatenate(times))
        return all_t[(all_t >= lo_s) & (all_t <= hi_s)]

    def range_query(self, origins: np.ndarray, targets: np.ndarray, t0: int, window_s: int) -> list[Journey]:
        """All Pareto-optimal journeys (later departure, earlier arrival, fewer rides) leaving in
        ``[t0, t0 + window_s]``, ordered by departure."""
        found: list[Journey] = []
        for dep in self.departures_at(origins, t0, t0 + window_s)[::-1].tolist():
            found.extend(self.pareto(origins, targets, dep))
        best: list[Journey] = []
        for j in found:
            key = (j.departure_s, j.arrival_s, j.n_rides)
            dominated = any(
                o.departure_s >= j.departure_s
                and o.arrival_s <= j.arrival_s
                and o.n_rides <= j.n_rides
                and (o.departure_s, o.arrival_s, o.n_rides) != key
                for o in found
            )
            if not dominated and all((o.departure_s, o.arrival_s, o.n_rides) != key for o in best):
                best.append(j)
        best.sort(key=lambda j: (j.departure_s, j.n_rides))
        return best

    def latest_departure(
        self,
        origins: np.ndarray,
        targets: np.ndarray,
        arrive_by_s: int,
        *,
        origin_delay_s: np.ndarray | None = None,
        target_egress_s: np.ndarray | None = None,
    ) -> list[Journey]:
        """Arrive-by: the journeys leaving as late as possible and arriving by ``arrive_by_s``.

        The earliest arrival is non-decreasing in the departure time, so a binary search over the
        departures at the origins finds the latest one that still arrives in time; its Pareto set
        (restricted to arrivals by ``arrive_by_s``) is returned, fewest rides first.
        """
        kw = {"origin_delay_s": origin_delay_s, "target_egress_s": target_egress_s}
        cands = self.departures_at(origins, 0, arrive_by_s, origin_delay_s=origin_delay_s)
        lo, hi, best = 0, len(cands) - 1, -1
        while lo <= hi:
            mid = (lo + hi) // 2
            arrival, _ = self.earliest_arrival(origins, targets, int(cands[mid]), **kw)
            if 0 <= arrival <= arrive_by_s:
                best, lo = mid, mid + 1
            else:
                hi = mid - 1
        if best < 0:
            return []
        journeys = self.pareto(origins, targets, int(cands[best]), **kw)
        return [j for j in journeys if j.arrival_s <= arrive_by_s]
