"""A slow, simple and independent reference router for stop-to-stop queries.

It follows docs/timetable semantics literally and shares no code with ``mobility``: feeds are read
with the csv module, every active trip instance is kept as plain stop events, and each round scans
*every* event (vectorised with NumPy): a trip can be ridden to stop j when it could be boarded at
some earlier stop i (board label <= departure, pickup_type != 1) and alighting at j is allowed
(drop_off_type != 1).  Round k gives the earliest arrivals with at most k rides; after each round
one walk (transfers.txt rules) may follow a ride.  No pruning, no patterns.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np

BIG = 10**12


def _table(path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        names = {Path(n).name: n for n in zf.namelist()}
        if name not in names:
            return []
        text = zf.read(names[name]).decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _secs(text: str) -> int:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


def _runs(calendar: list[dict[str, str]], dates: list[dict[str, str]], day: dt.date) -> set[str]:
    ymd = day.strftime("%Y%m%d")
    weekday = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[day.weekday()]
    active = {
        r["service_id"] for r in calendar if r[weekday] == "1" and r["start_date"] <= ymd <= r["end_date"]
    }
    for r in dates:
        if r["date"] == ymd and r["exception_type"] == "1":
            active.add(r["service_id"])
    for r in dates:
        if r["date"] == ymd and r["exception_type"] == "2":
            active.discard(r["service_id"])
    return active


class Reference:
    """All active stop events of one date, for one or several feeds (ids namespaced when several)."""

    def __init__(self, paths: list[Path], date: dt.date) -> None:
        self.stop_index: dict[str, int] = {}
        self.location_type: list[str] = []
        self.parent: list[str] = []
        ev_trip: list[int] = []
        ev_stop: list[int] = []
        ev_arr: list[int] = []
        ev_dep: list[int] = []
        ev_pick: list[bool] = []
        ev_drop: list[bool] = []
        walks: dict[tuple[int, int], int] = {}
        n_trip = 0
        for path in paths:
            prefix = ""
            if len(paths) > 1:
                prefix = path.name.removesuffix(".zip").removesuffix(".gtfs") + ":"
            stops = _table(path, "stops.txt")
            for row in stops:
                self.stop_index[prefix + row["stop_id"]] = len(self.stop_index)
                self.location_type.append(row.get("location_type", "") or "0")
                self.parent.append(prefix + row["parent_station"] if row.get("parent_station") else "")
            calendar = _table(path, "calendar.txt")
            dates = _table(path, "calendar_dates.txt")
            trips = {r["trip_id"]: r["service_id"] for r in _table(path, "trips.txt")}
            by_trip: dict[str, list[tuple[int, int, int, int, bool, bool]]] = {}
            for r in _table(path, "stop_times.txt"):
                by_trip.setdefault(r["trip_id"], []).append(
                    (
                        int(r["stop_sequence"]),
                        self.stop_index[prefix + r["stop_id"]],
                        _secs(r["arrival_time"]),
                        _secs(r["departure_time"]),
                        r.get("pickup_type", "") != "1",
                        r.get("drop_off_type", "") != "1",
                    )
                )
            freqs: dict[str, list[tuple[int, int, int]]] = {}
            for r in _table(path, "frequencies.txt"):
                freqs.setdefault(r["trip_id"], []).append(
                    (_secs(r["start_time"]), _secs(r["end_time"]), int(r["headway_secs"]))
                )
            for shift_day, base in ((date, 0), (date - dt.timedelta(days=1), -86400)):
                active = _runs(calendar, dates, shift_day)
                for trip_id, service in trips.items():
                    if service not in active or trip_id not in by_trip:
                        continue
                    events = sorted(by_trip[trip_id])
                    first_dep = events[0][3]
                    if trip_id in freqs:
                        shifts = []
                        for start, end, headway in freqs[trip_id]:
                            t = start
                            while t < end:
                                shifts.append(base + t - first_dep)
                                t += headway
                    else:
                        shifts = [base]
                    for shift in shifts:
                        for _, stop, arr, dep, pick, drop in events:
                            ev_trip.append(n_trip)
                            ev_stop.append(stop)
                            ev_arr.append(arr + shift)
                            ev_dep.append(dep + shift)
                            ev_pick.append(pick)
                            ev_drop.append(drop)
                        n_trip += 1
            # transfers: stop-level rows win over station-level rows
            stop_rows: dict[tuple[str, str], int] = {}
            station_rows: dict[tuple[str, str], int] = {}
            for r in _table(path, "transfers.txt"):
                a, b = prefix + r["from_stop_id"], prefix + r["to_stop_id"]
                kind = r.get("transfer_type", "") or "0"
                minutes = int(r.get("min_transfer_time", "") or 0)
                value = minutes if kind in ("0", "1", "2") else -1
                a_station = self.location_type[self.stop_index[a]] == "1"
                b_station = self.location_type[self.stop_index[b]] == "1"
                table = station_rows if a_station and b_station else stop_rows
                if a_station != b_station:
                    continue
                old = table.get((a, b))
                if old is None or old < 0 or 0 <= value < old:
                    table[(a, b)] = value
            members: dict[str, list[str]] = {}
            for sid, i in self.stop_index.items():
                if self.parent[i] and self.location_type[i] == "0":
                    members.setdefault(self.parent[i], []).append(sid)
            candidates: set[tuple[str, str]] = {k for k in stop_rows if k[0] != k[1]}
            for p, q in station_rows:
                for a in members.get(p, []):
                    for b in members.get(q, []):
                        if a != b:
                            candidates.add((a, b))
            for a, b in candidates:
                if (a, b) in stop_rows:
                    value = stop_rows[(a, b)]
                else:
                    pa = self.parent[self.stop_index[a]]
                    pb = self.parent[self.stop_index[b]]
                    value = station_rows.get((pa, pb), -1)
                if value >= 0:
                    walks[(self.stop_index[a], self.stop_index[b])] = value
        order = np.lexsort((np.arange(len(ev_trip)), np.array(ev_trip, dtype=np.int64)))
        self.trip = np.array(ev_trip, dtype=np.int64)[order]
        self.stop = np.array(ev_stop, dtype=np.int64)[order]
        self.arr = np.array(ev_arr, dtype=np.int64)[order]
        self.dep = np.array(ev_dep, dtype=np.int64)[order]
        self.pick = np.array(ev_pick, dtype=bool)[order]
        self.drop = np.array(ev_drop, dtype=bool)[order]
        first = np.ones(len(self.trip), dtype=bool)
        first[1:] = self.trip[1:] != self.trip[:-1]
        self.first_event = np.maximum.accumulate(np.where(first, np.arange(len(self.trip)), 0))
        self.walk_a = np.array([k[0] for k in walks], dtype=np.int64)
        self.walk_b = np.array([k[1] for k in walks], dtype=np.int64)
        self.walk_s = np.array(list(walks.values()), dtype=np.int64)
        self.n_stops = len(self.stop_index)

    def group(self, stop_id: str) -> set[int]:
        """The stops a query stop stands for (a station: its children of location_type 0)."""
        i = self.stop_index[stop_id]
        if self.location_type[i] == "1":
            return {
                j
                for sid, j in self.stop_index.items()
                if self.parent[j] == stop_id and self.location_type[j] == "0"
            }
        return {i}

    def query(self, from_id: str, to_id: str, t: int) -> tuple[int | None, int | None]:
        """(earliest arrival, fewest rides at that arrival), or (None, None) when unreachable."""
        origins, targets = self.group(from_id), self.group(to_id)
        if from_id == to_id or origins & targets:
            return t, 0
        board = np.full(self.n_stops, BIG, dtype=np.int64)
        board[list(origins)] = t
        target_list = np.array(sorted(targets), dtype=np.int64)
        best, best_k = BIG, None
        for k in range(1, 200):
            can_board = (board[self.stop] <= self.dep) & self.pick
            count = np.cumsum(can_board)
            before = count - can_board - (count[self.first_event] - can_board[self.first_event])
            ridden = (before > 0) & self.drop
            ride = np.full(self.n_stops, BIG, dtype=np.int64)
            np.minimum.at(ride, self.stop[ridden], self.arr[ridden])
            if len(target_list):
                reached = ride[target_list].min()
                if reached < best:
                    best, best_k = int(reached), k
            new_board = np.minimum(board, ride)
            if len(self.walk_a):
                np.minimum.at(new_board, self.walk_b, ride[self.walk_a] + self.walk_s)
            if np.array_equal(new_board, board):
                break
            board = new_board
        if best >= BIG:
            return None, None
        return best, best_k
