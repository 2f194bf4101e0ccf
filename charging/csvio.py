"""CSV formats of the charging tools (sessions, prices, PV, EVSEs, limit windows, plans).

Every parse error names the file, the row (as in a spreadsheet: the header is row 1) and the field.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from charging.errors import InvalidInputError
from charging.model import LimitWindow, Session, SiteEvse, SlotGrid, StepSeries
from charging.problem import Schedule

SESSION_COLUMNS = ("session_id", "evse_id", "arrival", "departure", "energy_kwh", "max_kw")
PLAN_COLUMNS = ("session_id", "slot_start", "power_kw")


def _rows(path: Path, required: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    try:
        fh = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    with fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise InvalidInputError(
                f"{path}: missing column(s) {', '.join(missing)} (header: {','.join(header)})"
            )
        for n, row in enumerate(reader, start=2):
            if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
                continue
            yield n, row


def parse_time(value: str, where: str) -> datetime:
    """An ISO 8601 time with UTC offset."""
    text = (value or "").strip()
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{where}: not an ISO 8601 time: {text!r}") from None
    if t.tzinfo is None:
        raise InvalidInputError(f"{where}: time {text!r} has no UTC offset")
    return t


def parse_float(value: str, where: str) -> float:
    """A finite number."""
    text = (value or "").strip()
    try:
        x = float(text)
    except ValueError:
        raise InvalidInputError(f"{where}: not a number: {text!r}") from None
    if not math.isfinite(x):
        raise InvalidInputError(f"{where}: not a finite number: {text!r}")
    return x


def read_sessions(path: str | Path) -> list[Session]:
    """Sessions from ``session_id,evse_id,arrival,departure,energy_kwh,max_kw``."""
    path = Path(path)
    out: list[Session] = []
    seen: dict[str, int] = {}
    for n, row in _rows(path, SESSION_COLUMNS):

        def where(field: str, n: int = n) -> str:
            return f"{path}: row {n}: {field}"

        sid = (row["session_id"] or "").strip()
        if not sid:
            raise InvalidInputError(f"{where('session_id')}: empty")
        if sid in seen:
            raise InvalidInputError(f"{where('session_id')}: duplicate {sid!r} (first in row {seen[sid]})")
        seen[sid] = n
        evse = (row["evse_id"] or "").strip()
        if not evse:
            raise InvalidInputError(f"{where('evse_id')}: empty")
        arrival = parse_time(row["arrival"], where("arrival"))
        departure = parse_time(row["departure"], where("departure"))
        if departure <= arrival:
            raise InvalidInputError(
                f"{where('departure')}: {departure.isoformat()} is not after arrival {arrival.isoformat()}"
            )
        energy = parse_float(row["energy_kwh"], where("energy_kwh"))
        if energy < 0:
            raise InvalidInputError(f"{where('energy_kwh')}: must be >= 0, got {energy:g}")
        max_kw = parse_float(row["max_kw"], where("max_kw"))
        if max_kw <= 0:
            raise InvalidInputError(f"{where('max_kw')}: must be > 0, got {max_kw:g}")
        out.append(Session(sid, evse, arrival, departure, energy, max_kw))
    if not out:
        raise InvalidInputError(f"{path}: no sessions")
    return out


def read_step_series(path: str | Path, time_column: str, value_column: str) -> StepSeries:
    """A step function from a two-column CSV (e.g. ``slot_start,price_eur_per_kwh``)."""
    path = Path(path)
    starts: list[datetime] = []
    values: list[float] = []
    for n, row in _rows(path, (time_column, value_column)):
        starts.append(parse_time(row[time_column], f"{path}: row {n}: {time_column}"))
        values.append(parse_float(row[value_column], f"{path}: row {n}: {value_column}"))
    if not starts:
        raise InvalidInputError(f"{path}: no rows")
    return StepSeries(tuple(starts), tuple(values))


def read_prices(path: str | Path) -> StepSeries:
    """Time-of-use prices ``slot_start,price_eur_per_kwh``."""
    return read_step_series(path, "slot_start", "price_eur_per_kwh")


def read_pv(path: str | Path) -> StepSeries:
    """A PV forecast ``slot_start,pv_kw``."""
    series = read_step_series(path, "slot_start", "pv_kw")
    if any(v < 0 for v in series.values):
        raise InvalidInputError(f"{path}: pv_kw must be >= 0")
    return series


def read_limit_windows(path: str | Path) -> list[LimitWindow]:
    """Grid-operator limits (e.g. §14a EnWG) ``start,end,limit_kw``."""
    path = Path(path)
    out: list[LimitWindow] = []
    for n, row in _rows(path, ("start", "end", "limit_kw")):
        start = parse_time(row["start"], f"{path}: row {n}: start")
        end = parse_time(row["end"], f"{path}: row {n}: end")
        if end <= start:
            raise InvalidInputError(f"{path}: row {n}: end: not after start")
        limit = parse_float(row["limit_kw"], f"{path}: row {n}: limit_kw")
        if limit < 0:
            raise InvalidInputError(f"{path}: row {n}: limit_kw: must be >= 0, got {limit:g}")
        out.append(LimitWindow(start, end, limit))
    return out


def read_evses(path: str | Path) -> list[SiteEvse]:
    """EVSEs ``evse_id,max_kw[,min_kw][,phases]``."""
    path = Path(path)
    out: list[SiteEvse] = []
    for n, row in _rows(path, ("evse_id", "max_kw")):
        eid = (row["evse_id"] or "").strip()
        if not eid:
            raise InvalidInputError(f"{path}: row {n}: evse_id: empty")
        max_kw = parse_float(row["max_kw"], f"{path}: row {n}: max_kw")
        if max_kw <= 0:
            raise InvalidInputError(f"{path}: row {n}: max_kw: must be > 0, got {max_kw:g}")
        min_kw = parse_float(row.get("min_kw") or "0", f"{path}: row {n}: min_kw")
        if not 0 <= min_kw <= max_kw:
            raise InvalidInputError(f"{path}: row {n}: min_kw: must be between 0 and max_kw")
        phases = (row.get("phases") or "L1L2L3").strip() or "L1L2L3"
        out.append(SiteEvse(eid, max_kw, min_kw, phases))
    return out


def plan_rows(schedule: Schedule, grid: SlotGrid, session_ids: Sequence[str]) -> list[tuple[str, str, float]]:
    """``(session_id, slot_start, power_kw)`` for every slot of every session's window.

    Powers are rounded down to 1 mW so that rounding never lifts a slot above a limit.
    """
    p = schedule.problem
    out: list[tuple[str, str, float]] = []
    tz = grid.start.tzinfo
    starts = [grid.slot_start(k).astimezone(tz).isoformat() for k in range(grid.n_slots)]
    floored = (np.floor(np.maximum(schedule.power_kw, 0.0) * 1e6) / 1e6).tolist()
    for i, sid in enumerate(session_ids):
        a, first = int(schedule.offset[i]), int(p.first[i])
        for k in range(int(p.last[i]) - first):
            out.append((sid, starts[first + k], floored[a + k]))
    return out


def write_plan(path: str | Path, schedule: Schedule, grid: SlotGrid, session_ids: Sequence[str]) -> int:
    """Write PLAN.csv (``session_id,slot_start,power_kw``); returns the number of rows."""
    rows = plan_rows(schedule, grid, session_ids)
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(PLAN_COLUMNS)
        for sid, start, power in rows:
            w.writerow((sid, start, f"{power:.6f}"))
    return len(rows)
