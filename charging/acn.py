"""Readers for Caltech ACN-Data sessions: acnportal ``EventQueue`` JSON and ACN-Data CSV exports.

Plain ``json``/``gzip``/``csv`` only; acnportal itself is not needed. In the EventQueue format every
time is a period index (``period_min`` minutes from the simulation start) and an EV charges in the
periods ``arrival <= t < departure``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from charging.errors import InvalidInputError
from charging.model import Session


@dataclass(frozen=True, slots=True)
class AcnEv:
    """One EV of an acnportal event queue (times in periods)."""

    session_id: str
    station_id: str
    arrival: int
    departure: int
    estimated_departure: int
    requested_energy_kwh: float
    max_power_kw: float


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def load_event_queue(path: str | Path) -> list[AcnEv]:
    """EVs of an acnportal ``EventQueue`` serialised with ``to_json`` (plug-in events only)."""
    path = Path(path)
    try:
        with _open_text(path) as fh:
            doc: Any = json.load(fh)
        if isinstance(doc, str):  # acnportal writes the JSON document as a JSON string
            doc = json.loads(doc)
        ctx = doc["context_dict"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{path}: not an acnportal EventQueue JSON ({exc})") from exc
    evs: list[AcnEv] = []
    for entry in ctx.values():
        if not str(entry.get("class", "")).endswith("events.event.PluginEvent"):
            continue
        ev = ctx[entry["attributes"]["ev"]]["attributes"]
        battery = ctx[ev["_battery"]]["attributes"]
        evs.append(
            AcnEv(
                session_id=str(ev["_session_id"]),
                station_id=str(ev["_station_id"]),
                arrival=int(ev["_arrival"]),
                departure=int(ev["_departure"]),
                estimated_departure=int(ev.get("_estimated_departure", ev["_departure"])),
                requested_energy_kwh=float(ev["_requested_energy"]),
                max_power_kw=float(battery["_max_power"]),
            )
        )
    evs.sort(key=lambda e: (e.arrival, e.session_id))
    return evs


def event_queue_sessions(evs: list[AcnEv], start: datetime, period_min: float) -> list[Session]:
    """Sessions with aware datetimes: period ``k`` starts at ``start + k * period_min``."""
    if start.tzinfo is None:
        raise InvalidInputError("start must be timezone-aware")
    step = timedelta(minutes=period_min)
    return [
        Session(
            e.session_id,
            e.station_id,
            start + e.arrival * step,
            start + e.departure * step,
            e.requested_energy_kwh,
            e.max_power_kw,
        )
        for e in evs
    ]


def load_acn_csv(path: str | Path, max_kw: float = 6.6) -> list[Session]:
    """Sessions of an ACN-Data CSV export.

    Columns used: arrival, departure, requested_energy (kWh), station_id, session_id.

    Rows without a positive requested energy fall back to the delivered energy.
    """
    path = Path(path)
    out: list[Session] = []
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        for n, row in enumerate(reader, start=2):
            try:
                arrival = datetime.fromisoformat(row["arrival"])
                departure = datetime.fromisoformat(row["departure"])
                requested = float(row.get("requested_energy (kWh)") or 0.0)
                if not requested > 0:
                    requested = float(row["delivered_energy (kWh)"])
                out.append(
                    Session(row["session_id"], row["station_id"], arrival, departure, requested, max_kw)
                )
            except (KeyError, ValueError) as exc:
                raise InvalidInputError(f"{path}: row {n}: {exc}") from exc
    return out
