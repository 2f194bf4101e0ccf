"""Batch stop-to-stop queries: read ``query_id,from_stop_id,to_stop_id,departure`` rows, answer them,
write ``query_id,arrival,rides`` rows (arrival empty when the destination cannot be reached)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mobility.errors import QueryError, UnknownStopError
from mobility.journeys import format_gtfs_time, parse_gtfs_time
from mobility.raptor import Router
from mobility.timetable import Timetable

QUERY_COLUMNS = ("query_id", "from_stop_id", "to_stop_id", "departure")


@dataclass
class QueryBatch:
    """Queries resolved to stop groups (CSR arrays) and GTFS seconds."""

    query_ids: list[str]
    orig_off: np.ndarray
    orig: np.ndarray
    targ_off: np.ndarray
    targ: np.ndarray
    times_s: np.ndarray
    same_id: np.ndarray  # origin and destination name the same stop_id


def read_queries(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of a query CSV with their line numbers; QueryError on a missing column."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise QueryError(f"{path}: cannot open ({exc.strerror})") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        for col in QUERY_COLUMNS:
            if col not in header:
                raise QueryError(f"{path.name}, line 1: required column {col!r} is missing")
        reader.fieldnames = header
        return [(line, row) for line, row in enumerate(reader, start=2)]


def resolve_queries(tt: Timetable, rows: Sequence[tuple[int, dict[str, str]]], source: str) -> QueryBatch:
    """Turn query rows into stop groups and seconds; errors name the file, line and field."""
    ids: list[str] = []
    orig_parts: list[np.ndarray] = []
    targ_parts: list[np.ndarray] = []
    times = np.empty(len(rows), dtype=np.int64)
    same = np.zeros(len(rows), dtype=bool)
    for n, (line, row) in enumerate(rows):
        ids.append((row.get("query_id") or "").strip())
        groups = []
        for col in ("from_stop_id", "to_stop_id"):
            stop_id = (row.get(col) or "").strip()
            index = tt.stop_index(stop_id)
            if index < 0:
                raise UnknownStopError(f"{source}, line {line}, field {col}: unknown stop {stop_id!r}")
            groups.append(tt.stop_group(index))
        orig_parts.append(groups[0])
        targ_parts.append(groups[1])
        same[n] = (row.get("from_stop_id") or "").strip() == (row.get("to_stop_id") or "").strip()
        try:
            times[n] = parse_gtfs_time(row.get("departure") or "")
        except ValueError as exc:
            raise QueryError(f"{source}, line {line}, field departure: {exc}") from None
    lengths_o = [len(g) for g in orig_parts]
    lengths_t = [len(g) for g in targ_parts]
    orig_off = np.zeros(len(rows) + 1, dtype=np.int64)
    targ_off = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths_o, out=orig_off[1:])
    np.cumsum(lengths_t, out=targ_off[1:])
    empty = np.zeros(0, dtype=np.int32)
    return QueryBatch(
        ids,
        orig_off,
        np.concatenate(orig_parts) if orig_parts else empty,
        targ_off,
        np.concatenate(targ_parts) if targ_parts else empty,
        times,
        same,
    )


def answer_queries(router: Router, batch: QueryBatch) -> tuple[np.ndarray, np.ndarray]:
    """Earliest arrival (-1: unreachable) and rides of every query in ``batch``."""
    arrival, rides = router.batch(batch.orig_off, batch.orig, batch.targ_off, batch.targ, batch.times_s)
    arrival[batch.same_id] = batch.times_s[batch.same_id]
    rides[batch.same_id] = 0
    return arrival, rides


def write_answers(path: Path, query_ids: Sequence[str], arrival: np.ndarray, rides: np.ndarray) -> None:
    """Write ``query_id,arrival,rides`` (empty arrival and rides when unreachable)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(("query_id", "arrival", "rides"))
        for qid, a, r in zip(query_ids, arrival.tolist(), rides.tolist(), strict=True):
            w.writerow((qid, format_gtfs_time(a), r) if a >= 0 else (qid, "", ""))
