"""RAPTOR (Delling, Pajor, Werneck 2012) over the flat arrays of a :class:`~mobility.timetable.Timetable`.

The numba kernel works round by round: round ``k`` finds the earliest arrivals with at most ``k``
rides.  Two labels are kept per stop: ``best_ride`` (arrived by a vehicle: a walk may follow, and
it counts at the destination) and ``best_board`` (arrived by a vehicle or by one walk after a
vehicle: only boarding may follow), so walks never chain and a journey neither starts nor ends
with a walk.  Patterns never overtake, so the earliest trip that can be boarded at a stop is also
the best at every later stop.  Target pruning drops labels no earlier than the best arrival found
so far at the destination (only when every trip's times are non-decreasing along its stops).

Everything here is pure: integer ids in, integer seconds out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from mobility.timetable import Timetable

INF = np.int32(np.iinfo(np.int32).max)
MAX_ROUNDS = 32


@nb.njit(cache=True, inline="always")
def _first_trip(dep: np.ndarray, base: int, n_stops: int, pos: int, label: int, hi: int) -> int:
    lo = 0
    while lo < hi:
        mid = (lo + hi) >> 1
        if dep[base + mid * n_stops + pos] < label:
            lo = mid + 1
        else:
            hi = mid
    return lo


@nb.njit(cache=True)
def _raptor(
    pat_stop_off: np.ndarray,
    pat_stops: np.ndarray,
    pat_pickup: np.ndarray,
    pat_dropoff: np.ndarray,
    pat_trip_off: np.ndarray,
    pat_time_off: np.ndarray,
    arr: np.ndarray,
    dep: np.ndarray,
    stop_pat_off: np.ndarray,
    stop_pat: np.ndarray,
    stop_pat_pos: np.ndarray,
    tr_off: np.ndarray,
    tr_to: np.ndarray,
    tr_time: np.ndarray,
    origins: np.ndarray,
    t0: int,
    is_target: np.ndarray,
    max_rounds: int,
    prune: bool,
    ws_board: np.ndarray,
    ws_ride: np.ndarray,
    ws_board_round: np.ndarray,
    ws_marked: np.ndarray,
    ws_marked_list: np.ndarray,
    ws_ride_marked: np.ndarray,
    ws_ride_list: np.ndarray,
    ws_pat_start: np.ndarray,
    ws_pat_list: np.ndarray,
    record: bool,
    rec_ride_arr: np.ndarray,
    rec_ride_pat: np.ndarray,
    rec_ride_trip: np.ndarray,
    rec_ride_from: np.ndarray,
    rec_ride_to: np.ndarray,
    rec_ride_src_round: np.ndarray,
    rec_board_arr: np.ndarray,
    rec_board_src: np.ndarray,
    front_arr: np.ndarray,
    front_stop: np.ndarray,
) -> tuple[int, int]:
    inf = np.int32(2147483647)
    n_stop_total = ws_board.shape[0]
    for s in range(n_stop_total):
        ws_board[s] = inf
        ws_ride[s] = inf
    if record:
        rec_ride_arr[:, :] = inf
        rec_board_arr[:, :] = inf
        front_arr[:] = inf
        front_stop[:] = -1
    n_marked = 0
    for o in origins:
        if ws_board[o] > t0:
            ws_board[o] = t0
            ws_board_round[o] = 0
            if record:
                rec_board_arr[0, o] = t0
                rec_board_src[0, o] = -2
            if ws_marked[o] == 0:
                ws_marked[o] = 1
                ws_marked_list[n_marked] = o
                n_marked += 1
    target_best = inf
    target_round = -1
    for k in range(1, max_rounds + 1):
        if n_marked == 0:
            break
        # patterns to scan, each from its first marked position where boarding is allowed
        n_pat = 0
        for m in range(n_marked):
            s = ws_marked_list[m]
            for e in range(stop_pat_off[s], stop_pat_off[s + 1]):
                p = stop_pat[e]
                i = stop_pat_pos[e]
                if pat_pickup[pat_stop_off[p] + i] == 0:
                    continue
                if ws_pat_start[p] < 0:
                    ws_pat_start[p] = i
                    ws_pat_list[n_pat] = p
                    n_pat += 1
                elif i < ws_pat_start[p]:
                    ws_pat_start[p] = i
        n_ride = 0
        improved_target = False
        for q in range(n_pat):
            p = ws_pat_list[q]
            start = ws_pat_start[p]
            ws_pat_start[p] = -1
            so = pat_stop_off[p]
            n_stops = pat_stop_off[p + 1] - so
            n_trips = pat_trip_off[p + 1] - pat_trip_off[p]
            base = pat_time_off[p]
            cur = -1
            cur_pos = -1
            cur_round = -1
            for i in range(start, n_stops):
                s = pat_stops[so + i]
                if cur >= 0 and pat_dropoff[so + i] != 0:
                    a = arr[base + cur * n_stops + i]
                    if a < ws_ride[s] and (not prune or a < target_best):
                        ws_ride[s] = a
                        if ws_ride_marked[s] == 0:
                            ws_ride_marked[s] = 1
                            ws_ride_list[n_ride] = s
                            n_ride += 1
                        if record:
                            rec_ride_arr[k, s] = a
                            rec_ride_pat[k, s] = p
                            rec_ride_trip[k, s] = pat_trip_off[p] + cur
                            rec_ride_from[k, s] = cur_pos
                            rec_ride_to[k, s] = i
                            rec_ride_src_round[k, s] = cur_round
                        if is_target[s] != 0 and a < target_best:
                            target_best = a
                            target_round = k
                            improved_target = True
                            if record:
                                front_stop[k] = s
                # only stops whose label improved in the previous round can give a better trip: the
                # others were tried with the same label in an earlier round
                if ws_marked[s] != 0 and pat_pickup[so + i] != 0:
                    label = ws_board[s]
                    if label != inf and (not prune or label < target_best):
                        hi = -1
                        if cur < 0:
                            hi = n_trips
                        elif label <= dep[base + cur * n_stops + i]:
                            hi = cur
                        if hi > 0:
                            t = _first_trip(dep, base, n_stops, i, label, hi)
                            if t < hi:
                                cur = t
                                cur_pos = i
                                cur_round = ws_board_round[s]
        if record and improved_target:
            front_arr[k] = target_best
        for m in range(n_marked):
            ws_marked[ws_marked_list[m]] = 0
        n_marked = 0
        # one walk (or staying) after each ride
        for m in range(n_ride):
            s = ws_ride_list[m]
            ws_ride_marked[s] = 0
            a = ws_ride[s]
            if a < ws_board[s]:
                ws_board[s] = a
                ws_board_round[s] = k
                if record:
                    rec_board_arr[k, s] = a
                    rec_board_src[k, s] = s
                if ws_marked[s] == 0:
                    ws_marked[s] = 1
                    ws_marked_list[n_marked] = s
                    n_marked += 1
            for e in range(tr_off[s], tr_off[s + 1]):
                b = tr_to[e]
                y = a + tr_time[e]
                if y < ws_board[b] and (not prune or y < target_best):
                    ws_board[b] = y
                    ws_board_round[b] = k
                    if record:
                        rec_board_arr[k, b] = y
                        rec_board_src[k, b] = s
                    if ws_marked[b] == 0:
                        ws_marked[b] = 1
                        ws_marked_list[n_marked] = b
                        n_marked += 1
    for m in range(n_marked):
        ws_marked[ws_marked_list[m]] = 0
    return int(target_best), int(target_round)


@nb.njit(cache=True)
def _batch(
    pat_stop_off: np.ndarray,
    pat_stops: np.ndarray,
    pat_pickup: np.ndarray,
    pat_dropoff: np.ndarray,
    pat_trip_off: np.ndarray,
    pat_time_off: np.ndarray,
    arr: np.ndarray,
    dep: np.ndarray,
    stop_pat_off: np.ndarray,
    stop_pat: np.ndarray,
    stop_pat_pos: np.ndarray,
    tr_off: np.ndarray,
    tr_to: np.ndarray,
    tr_time: np.ndarray,
    q_orig_off: np.ndarray,
    q_orig: np.ndarray,
    q_targ_off: np.ndarray,
    q_targ: np.ndarray,
    q_time: np.ndarray,
    max_rounds: int,
    prune: bool,
    out_arr: np.ndarray,
    out_rides: np.ndarray,
) -> None:
    n_stops = stop_pat_off.shape[0] - 1
    n_pat = pat_stop_off.shape[0] - 1
    ws_board = np.empty(n_stops, np.int32)
    ws_ride = np.empty(n_stops, np.int32)
    ws_board_round = np.zeros(n_stops, np.int32)
    ws_marked = np.zeros(n_stops, np.uint8)
    ws_marked_list = np.zeros(n_stops, np.int32)
    ws_ride_marked = np.zeros(n_stops, np.uint8)
    ws_ride_list = np.zeros(n_stops, np.int32)
    ws_pat_start = np.full(n_pat, -1, np.int32)
    ws_pat_list = np.zeros(n_pat, np.int32)
    is_target = np.zeros(n_stops, np.uint8)
    d2 = np.zeros((1, 1), np.int32)
    d1 = np.zeros(1, np.int32)
    for q in range(q_time.shape[0]):
        origins = q_orig[q_orig_off[q] : q_orig_off[q + 1]]
        targets = q_targ[q_targ_off[q] : q_targ_off[q + 1]]
        for t in targets:
            is_target[t] = 1
        same = False
        for o in origins:
            if is_target[o] != 0:
                same = True
        if same:
            out_arr[q] = q_time[q]
            out_rides[q] = 0
        elif origins.shape[0] == 0 or targets.shape[0] == 0:
            out_arr[q] = 2147483647
            out_rides[q] = -1
        else:
            best, rides = _raptor(
                pat_stop_off, pat_stops, pat_pickup, pat_dropoff, pat_trip_off, pat_time_off, arr, dep,
                stop_pat_off, stop_pat, stop_pat_pos, tr_off, tr_to, tr_time,
                origins, q_time[q], is_target, max_rounds, prune,
                ws_board, ws_ride, ws_board_round, ws_marked, ws_marked_list, ws_ride_marked,
                ws_ride_list, ws_pat_start, ws_pat_list,
                False, d2, d2, d2, d2, d2, d2, d2, d2, d1, d1,
            )  # fmt: skip
            out_arr[q] = best
            out_rides[q] = rides
        for t in targets:
            is_target[t] = 0


_RAPTOR: Any = _raptor  # numba dispatchers, typed loosely for the type checker
_BATCH: Any = _batch


@dataclass
class Leg:
    """One ride of a journey (indices into the timetable)."""

    pattern: int
    trip: int  # trip instance
    board_stop: int
    board_s: int
    alight_stop: int
    alight_s: int
    walk_from: int = -1  # stop the traveller walked from to reach board_stop (-1: no walk)
    walk_s: int = 0


@dataclass
class Journey:
    """A journey: departure and arrival (GTFS seconds on the service date) and its rides."""

    departure_s: int
    arrival_s: int
    legs: list[Leg]

    @property
    def rides(self) -> int:
        """Number of vehicles boarded."""
        return len(self.legs)


class Router:
    """RAPTOR queries over one timetable with its installed footpaths (see ``Timetable.use_footpaths``)."""

    def __init__(self, tt: Timetable, max_rounds: int = MAX_ROUNDS) -> None:
        self.tt = tt
        self.max_rounds = max_rounds
        self.prune = bool(tt.monotone)
        n_stops, n_pat = tt.n_stops, tt.n_patterns
        self._ws = (
            np.empty(n_stops, np.int32),
            np.empty(n_stops, np.int32),
            np.zeros(n_stops, np.int32),
            np.zeros(n_stops, np.uint8),
            np.zeros(n_stops, np.int32),
            np.zeros(n_stops, np.uint8),
            np.zeros(n_stops, np.int32),
            np.full(n_pat, -1, np.int32),
            np.zeros(n_pat, np.int32),
        )
        self._is_target = np.zeros(n_stops, np.uint8)
        self._d2 = np.zeros((1, 1), np.int32)
        self._d1 = np.zeros(1, np.int32)
        self._rec: tuple[np.ndarray, ...] | None = None

    def _data(self) -> tuple[np.ndarray, ...]:
        tt = self.tt
        return (
            tt.pat_stop_off,
            tt.pat_stops,
            tt.pat_pickup,
            tt.pat_dropoff,
            tt.pat_trip_off,
            tt.pat_time_off,
            tt.arr_s,
            tt.dep_s,
            tt.stop_pat_off,
            tt.stop_pat,
            tt.stop_pat_pos,
            tt.tr_off,
            tt.tr_to,
            tt.tr_time_s,
        )

    def earliest_arrival(self, origins: np.ndarray, targets: np.ndarray, t0: int) -> tuple[int, int]:
        """Earliest arrival at any of ``targets`` leaving any of ``origins`` at ``t0``, and its rides.

        Returns ``(arrival_s, rides)``; ``(-1, -1)`` when unreachable.  A shared stop between origins
        and targets gives ``(t0, 0)``.
        """
        if np.intersect1d(origins, targets).size:
            return t0, 0
        if len(origins) == 0 or len(targets) == 0:
            return -1, -1
        self._is_target[targets] = 1
        try:
            best, rides = _RAPTOR(
                *self._data(),
                origins.astype(np.int32),
                int(t0),
                self._is_target,
                self.max_rounds,
                self.prune,
                *self._ws,
                False,
                *([self._d2] * 8),
                self._d1,
                self._d1,
            )
        finally:
            self._is_target[targets] = 0
        return (-1, -1) if best == INF else (int(best), int(rides))

    def batch(
        self,
        orig_off: np.ndarray,
        orig: np.ndarray,
        targ_off: np.ndarray,
        targ: np.ndarray,
        times_s: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Earliest arrivals of many queries at once (origins and targets in CSR form).

        Returns ``(arrival_s, rides)`` arrays; -1 marks an unreachable destination.
        """
        n = len(times_s)
        out_arr = np.empty(n, np.int32)
        out_rides = np.empty(n, np.int32)
        _BATCH(
            *self._data(),
            orig_off.astype(np.int64),
            orig.astype(np.int32),
            targ_off.astype(np.int64),
            targ.astype(np.int32),
            times_s.astype(np.int32),
            self.max_rounds,
            self.prune,
            out_arr,
            out_rides,
        )
        unreachable = out_arr == INF
        out_arr[unreachable] = -1
        out_rides[unreachable] = -1
        return out_arr, out_rides

    # -- Pareto set with journeys -----------------------------------------------------------------

    def _records(self) -> tuple[np.ndarray, ...]:
        if self._rec is None:
            k, s = self.max_rounds + 1, self.tt.n_stops
            self._rec = (
                np.empty((k, s), np.int32),  # ride arrival
                np.zeros((k, s), np.int32),  # ride pattern
                np.zeros((k, s), np.int32),  # ride trip instance
                np.zeros((k, s), np.int32),  # board position
                np.zeros((k, s), np.int32),  # alight position
                np.zeros((k, s), np.int32),  # round of the boarding label
                np.empty((k, s), np.int32),  # board label
                np.zeros((k, s), np.int32),  # board label source (-2 origin, s ride, else walk from)
                np.empty(k, np.int32),  # best target arrival per round (INF: no improvement)
                np.zeros(k, np.int32),  # target stop reached
            )
        return self._rec

    def pareto(self, origins: np.ndarray, targets: np.ndarray, t0: int) -> list[Journey]:
        """All Pareto-optimal journeys (arrival, rides) leaving at or after ``t0``, fewest rides first."""
        if np.intersect1d(origins, targets).size:
            return [Journey(int(t0), int(t0), [])]
        if len(origins) == 0 or len(targets) == 0:
            return []
        rec = self._records()
        self._is_target[targets] = 1
        try:
            _RAPTOR(
                *self._data(),
                origins.astype(np.int32),
                int(t0),
                self._is_target,
                self.max_rounds,
                self.prune,
                *self._ws,
                True,
                *rec,
            )
        finally:
            self._is_target[targets] = 0
        front_arr, front_stop = rec[8], rec[9]
        journeys = []
        for k in range(1, self.max_rounds + 1):
            if front_arr[k] != INF:
                journeys.append(self._reconstruct(k, int(front_stop[k]), rec))
        return journeys

    def _reconstruct(self, k: int, stop: int, rec: tuple[np.ndarray, ...]) -> Journey:
        ride_arr, ride_pat, ride_trip, ride_from, ride_to, ride_src_round, board_arr, board_src = rec[:8]
        tt = self.tt
        legs: list[Leg] = []
        while True:
            p = int(ride_pat[k, stop])
            trip = int(ride_trip[k, stop])
            i, _j = int(ride_from[k, stop]), int(ride_to[k, stop])
            so = int(tt.pat_stop_off[p])
            n_stops = int(tt.pat_stop_off[p + 1] - so)
            row = int(tt.pat_time_off[p]) + (trip - int(tt.pat_trip_off[p])) * n_stops
            board_stop = int(tt.pat_stops[so + i])
            leg = Leg(p, trip, board_stop, int(tt.dep_s[row + i]), stop, int(ride_arr[k, stop]))
            legs.append(leg)
            kb = int(ride_src_round[k, stop])
            src = int(board_src[kb, board_stop])
            if src == -2:
                break
            if src != board_stop:
                leg.walk_from = src
                leg.walk_s = int(board_arr[kb, board_stop]) - int(ride_arr[kb, src])
            k, stop = kb, src
        legs.reverse()
        return Journey(legs[0].board_s, legs[-1].alight_s, legs)

    # -- range and arrive-by ----------------------------------------------------------------------

    def departures_at(self, origins: np.ndarray, lo_s: int, hi_s: int) -> np.ndarray:
        """Sorted distinct departure times in ``[lo_s, hi_s]`` of trips that can be boarded at ``origins``."""
        tt = self.tt
        times: list[np.ndarray] = []
        for o in origins.tolist():
            for e in range(int(tt.stop_pat_off[o]), int(tt.stop_pat_off[o + 1])):
                p, i = int(tt.stop_pat[e]), int(tt.stop_pat_pos[e])
                so = int(tt.pat_stop_off[p])
                if tt.pat_pickup[so + i] == 0:
                    continue
                n_stops = int(tt.pat_stop_off[p + 1] - so)
                lo, hi = int(tt.pat_time_off[p]), int(tt.pat_time_off[p + 1])
                times.append(tt.dep_s[lo + i : hi : n_stops])
        if not times:
            return np.zeros(0, dtype=np.int64)
        all_t = np.unique(np.concatenate(times).astype(np.int64))
        return all_t[(all_t >= lo_s) & (all_t <= hi_s)]

    def range_query(self, origins: np.ndarray, targets: np.ndarray, t0: int, window_s: int) -> list[Journey]:
        """All Pareto-optimal journeys (later departure, earlier arrival, fewer rides) leaving in
        ``[t0, t0 + window_s]``, ordered by departure."""
        found: list[Journey] = []
        for dep in self.departures_at(origins, t0, t0 + window_s)[::-1].tolist():
            found.extend(self.pareto(origins, targets, dep))
        best: list[Journey] = []
        for j in found:
            dominated = any(
                o.departure_s >= j.departure_s
                and o.arrival_s <= j.arrival_s
                and o.rides <= j.rides
                and (o.departure_s, o.arrival_s, o.rides) != (j.departure_s, j.arrival_s, j.rides)
                for o in found
            )
            if not dominated and all(
                (o.departure_s, o.arrival_s, o.rides) != (j.departure_s, j.arrival_s, j.rides) for o in best
            ):
                best.append(j)
        best.sort(key=lambda j: (j.departure_s, j.rides))
        return best

    def latest_departure(self, origins: np.ndarray, targets: np.ndarray, arrive_by_s: int) -> list[Journey]:
        """Arrive-by: the journeys leaving as late as possible and arriving by ``arrive_by_s``.

        The earliest arrival is non-decreasing in the departure time, so a binary search over the
        departures at the origins finds the latest one that still arrives in time; its Pareto set
        (restricted to arrivals by ``arrive_by_s``) is returned, fewest rides first.
        """
        cands = self.departures_at(origins, 0, arrive_by_s)
        lo, hi = 0, len(cands) - 1
        best = -1
        while lo <= hi:
            mid = (lo + hi) // 2
            arrival, _ = self.earliest_arrival(origins, targets, int(cands[mid]))
            if 0 <= arrival <= arrive_by_s:
                best = mid
                lo = mid + 1
            else:
                hi = mid - 1
        if best < 0:
            return []
        journeys = self.pareto(origins, targets, int(cands[best]))
        return [j for j in journeys if j.arrival_s <= arrive_by_s]
