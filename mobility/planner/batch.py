"""Door-to-door batch queries: ``query_id,from_lat,from_lon,to_lat,to_lon,departure`` rows in,
``query_id,arrival,rides`` rows out (earliest arrival over walking and walk + transit; empty when
unreachable)."""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from pathlib import Path

from mobility.errors import NoRouteError, QueryError
from mobility.journeys import format_gtfs_time, parse_gtfs_time
from mobility.planner.plan import Planner
from mobility.planner.query import PlanQuery

log = logging.getLogger(__name__)
DOOR_COLUMNS = ("query_id", "from_lat", "from_lon", "to_lat", "to_lon", "departure")


def read_door_queries(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of a door-to-door query CSV with their line numbers (QueryError on missing columns)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in DOOR_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise QueryError(f"{path}: missing column(s) {', '.join(missing)}")
            return [
                (n + 2, {k: (v or "").strip() for k, v in row.items() if k}) for n, row in enumerate(reader)
            ]
    except OSError as exc:
        raise QueryError(f"{path}: cannot open ({exc.strerror})") from None


def _number(row: dict[str, str], key: str, where: str) -> float:
    try:
        return float(row[key])
    except ValueError:
        raise QueryError(f"{where}: {key} {row[key]!r} is not a number") from None


def answer_door_queries(
    planner: Planner,
    rows: list[tuple[int, dict[str, str]]],
    source: str,
    *,
    base: PlanQuery | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[str, int | None, int | None]]:
    """``(query_id, arrival_s, rides)`` per row; arrival None when unreachable or outside the network.

    ``base`` carries the modes and walking settings (its places and time are replaced per row).
    """
    out: list[tuple[str, int | None, int | None]] = []
    for i, (line, row) in enumerate(rows):
        where = f"{source}, line {line}"
        try:
            t = parse_gtfs_time(row["departure"])
        except ValueError as exc:
            raise QueryError(f"{where}: {exc}") from None
        coords = [_number(row, k, where) for k in DOOR_COLUMNS[1:5]]
        settings = {} if base is None else {
            "modes": base.modes, "walk_speed_mps": base.walk_speed_mps, "max_walk_m": base.max_walk_m,
            "max_transfer_m": base.max_transfer_m, "max_direct_walk_s": base.max_direct_walk_s,
        }  # fmt: skip
        try:
            q = PlanQuery(coords[0], coords[1], coords[2], coords[3], planner.at(t), **settings)  # type: ignore[arg-type]
            arrival, rides = planner.earliest(q)
        except NoRouteError as exc:
            log.info("%s: %s", where, exc)
            arrival, rides = None, None
        except QueryError as exc:
            raise QueryError(f"{where}: {exc}") from None
        out.append((row["query_id"], arrival, rides))
        if progress is not None:
            progress(i + 1, len(rows))
    return out


def write_door_answers(path: Path, answers: list[tuple[str, int | None, int | None]]) -> None:
    """Write ``query_id,arrival,rides`` (HH:MM:SS, may pass 24:00:00; empty when unreachable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["query_id", "arrival", "rides"])
        for qid, arrival, rides in answers:
            w.writerow(
                [qid, "" if arrival is None else format_gtfs_time(arrival), "" if rides is None else rides]
            )
