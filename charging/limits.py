"""Plausible physical ranges of the charging inputs and the size of a problem before it is built.

Two kinds of bounds, checked before any array is allocated:

* :class:`PhysicalRanges`: every number must be finite and physically plausible (a charging point
  of at most 1000 kW, a session of at most 1000 kWh, ...). A value beyond them is a typing error
  or an attack, never a site: ``1e308`` kW overflows the flow units and silently plans nothing.
  The command line and the HTTP API check the same ranges (:func:`check_ranges`).
* :class:`ProblemBounds`: how large a problem may get (sessions, horizon, slots, session-slots).
  :func:`problem_size` measures a problem from its sessions alone (no slot array is built), so a
  100-year horizon in one-minute slots is refused in microseconds. The API bounds every request;
  the command line prints the size it is about to solve and bounds nothing but the ranges.

Every violation raises :class:`~charging.errors.LimitExceededError` naming the field, the value
and the limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from charging.errors import LimitExceededError

if TYPE_CHECKING:  # this module stays light: the API's settings import its defaults
    from charging.model import LimitWindow, Session, SiteEvse, StepSeries

#: Defaults of :class:`PhysicalRanges` (also the defaults of the API's limits).
POINT_MAX_KW = 1000.0
SITE_MAX_KW = 100_000.0
SESSION_MAX_KWH = 1000.0
PRICE_MAX_ABS_EUR_PER_KWH = 100.0
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PhysicalRanges:
    """Largest plausible values; every number must also be finite.

    ``point_max_kw`` bounds a car's and a charging point's power, ``site_max_kw`` a grid
    connection, a time-varying limit and a PV forecast, ``session_max_kwh`` the energy of one
    session, ``price_max_abs_eur_per_kwh`` the size of a (possibly negative) price. Session times
    lie between ``earliest`` and ``latest``.
    """

    point_max_kw: float = POINT_MAX_KW
    site_max_kw: float = SITE_MAX_KW
    session_max_kwh: float = SESSION_MAX_KWH
    price_max_abs_eur_per_kwh: float = PRICE_MAX_ABS_EUR_PER_KWH
    earliest: datetime = EARLIEST
    latest: datetime = LATEST


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


@dataclass(frozen=True, slots=True)
class ProblemSize:
    """The size of a charging problem, known before it is built.

    ``session_slots`` is the number of decision variables: the sum over sessions of the slots in
    which each may charge (at most ``sessions x slots``).
    """

    sessions: int
    evses: int
    slots: int
    slot_minutes: int
    session_slots: int
    horizon_s: float

    def estimated_bytes(self) -> int:
        """A rough upper estimate of the memory the solve needs (slot arrays and the flow network)."""
        return 200 * self.slots + 1500 * self.session_slots + 2000 * self.sessions

    def describe(self) -> str:
        """One line for the user, e.g. ``12 sessions on 4 EVSEs, 96 slots of 15 min (1 d) ...``."""
        days = self.horizon_s / 86_400.0
        span = f"{days:.1f} d" if days >= 1 else f"{self.horizon_s / 3600.0:.1f} h"
        return (
            f"{_count(self.sessions, 'session')} on {_count(self.evses, 'EVSE')}, "
            f"{_count(self.slots, 'slot')} of {self.slot_minutes} min ({span}), "
            f"{_count(self.session_slots, 'session-slot')}"
        )


@dataclass(frozen=True, slots=True)
class ProblemBounds:
    """Largest problem a caller accepts (None: unbounded)."""

    max_sessions: int | None = None
    max_horizon_s: float | None = None
    max_slots: int | None = None
    max_session_slots: int | None = None
    min_slot_minutes: int = 1
    max_slot_minutes: int = 1440


def _check_number(
    field: str, value: float, *, low: float, high: float, low_open: bool, label: str | None = None
) -> None:
    """``value`` finite and within ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    name = label or field
    if not math.isfinite(value):
        raise LimitExceededError(field, value, "finite", f"{name}: {value} is not a finite number", "finite")
    if value < low or (low_open and value == low):
        constraint = "exclusiveMinimum" if low_open else "minimum"
        sign = ">" if low_open else ">="
        raise LimitExceededError(field, value, low, f"{name}: {value:g} must be {sign} {low:g}", constraint)
    if value > high:
        raise LimitExceededError(
            field, value, high, f"{name}: {value:g} is above the plausible maximum of {high:g}", "maximum"
        )


def check_ranges(
    sessions: Sequence[Session],
    site_limit_kw: float,
    *,
    prices: StepSeries | None = None,
    pv_kw: StepSeries | None = None,
    limit_windows: Sequence[LimitWindow] = (),
    evses: Sequence[SiteEvse] = (),
    ranges: PhysicalRanges | None = None,
) -> None:
    """Raise :class:`LimitExceededError` for the first non-finite or implausible number.

    ``field`` of the error is the path in the HTTP request (``sessions[3].max_kw``); the message
    names the session or EVSE by its id, as the CSV files do.
    """
    r = ranges or PhysicalRanges()
    _check_number("site_limit_kw", site_limit_kw, low=0.0, high=r.site_max_kw, low_open=True)
    _check_sessions(sessions, r)
    _check_evses(evses, r)
    for i, w in enumerate(limit_windows):
        _check_number(
            f"limit_windows[{i}].limit_kw",
            w.limit_kw,
            low=0.0,
            high=r.site_max_kw,
            low_open=False,
            label=f"limit window from {w.start.isoformat()}: limit_kw",
        )
    if prices is not None:
        top = r.price_max_abs_eur_per_kwh
        _check_series("prices", "price_eur_per_kwh", prices, -top, top, "price")
    if pv_kw is not None:
        _check_series("pv", "pv_kw", pv_kw, 0.0, r.site_max_kw, "pv forecast")


def _check_sessions(sessions: Sequence[Session], r: PhysicalRanges) -> None:
    """Energy, power and times of every session within the physical ranges."""
    for i, s in enumerate(sessions):
        where = f"sessions[{i}]"
        label = f"session {s.session_id}"
        _check_number(
            f"{where}.energy_kwh",
            s.energy_kwh,
            low=0.0,
            high=r.session_max_kwh,
            low_open=False,
            label=f"{label}: energy_kwh",
        )
        _check_number(
            f"{where}.max_kw", s.max_kw, low=0.0, high=r.point_max_kw, low_open=True, label=f"{label}: max_kw"
        )
        for name, t in (("arrival", s.arrival), ("departure", s.departure)):
            if t.tzinfo is None:
                continue  # reported by validate_sessions
            if not r.earliest <= t <= r.latest:
                raise LimitExceededError(
                    f"{where}.{name}",
                    t.isoformat(),
                    f"{r.earliest.isoformat()}/{r.latest.isoformat()}",
                    f"{label}: {name} {t.isoformat()} is outside {r.earliest.year}..{r.latest.year - 1}",
                    "range",
                )


def _check_evses(evses: Sequence[SiteEvse], r: PhysicalRanges) -> None:
    """Maximum and minimum power of every EVSE within a charging point's range."""
    for i, e in enumerate(evses):
        label = f"evse {e.evse_id}"
        for name, value, low_open in (("max_kw", e.max_kw, True), ("min_kw", e.min_kw, False)):
            _check_number(
                f"evses[{i}].{name}",
                value,
                low=0.0,
                high=r.point_max_kw,
                low_open=low_open,
                label=f"{label}: {name}",
            )


def _check_series(field: str, column: str, series: StepSeries, low: float, high: float, what: str) -> None:
    """Every value of a step series (prices, PV) within ``low..high``."""
    for i, v in enumerate(series.values):
        _check_number(
            f"{field}[{i}].{column}",
            v,
            low=low,
            high=high,
            low_open=False,
            label=f"{what} from {series.starts[i].isoformat()}",
        )


def problem_size(sessions: Sequence[Session], slot_minutes: int) -> ProblemSize:
    """The size of the problem :func:`charging.model.build_problem` would build (nothing allocated).

    Slots are counted as :func:`charging.model.slot_grid` lays them out; a session's slots are
    those lying wholly within its stay.
    """
    if slot_minutes <= 0 or not sessions:
        return ProblemSize(len(sessions), 0, 0, max(slot_minutes, 0), 0, 0.0)
    first = min(s.arrival for s in sessions)
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(minutes=slot_minutes)
    start = midnight + ((first - midnight) // step) * step
    end = max(s.departure for s in sessions)
    slots = max(1, math.ceil((end - start) / step))
    session_slots = 0
    for s in sessions:
        a = -((start - s.arrival) // step)
        b = (s.departure - start) // step
        session_slots += max(0, b - a)
    evses = len({s.evse_id for s in sessions})
    return ProblemSize(
        len(sessions), evses, slots, slot_minutes, session_slots, (end - start).total_seconds()
    )


def check_size(size: ProblemSize, bounds: ProblemBounds) -> None:
    """Raise :class:`LimitExceededError` when ``size`` is beyond ``bounds``."""
    if not bounds.min_slot_minutes <= size.slot_minutes <= bounds.max_slot_minutes:
        lo, hi = bounds.min_slot_minutes, bounds.max_slot_minutes
        raise LimitExceededError(
            "slot_minutes",
            size.slot_minutes,
            f"{lo}..{hi}",
            f"slot_minutes: {size.slot_minutes} not in {lo}..{hi}",
            "range",
        )
    checks: list[tuple[str, float, float | None, str]] = [
        ("sessions", size.sessions, bounds.max_sessions, "sessions"),
        (
            "horizon_s",
            size.horizon_s,
            bounds.max_horizon_s,
            "seconds from the first slot to the last departure",
        ),
        ("slots", size.slots, bounds.max_slots, "slots"),
        ("session_slots", size.session_slots, bounds.max_session_slots, "session-slots (slots x sessions)"),
    ]
    for field, value, limit, what in checks:
        if limit is not None and value > limit:
            raise LimitExceededError(
                field, value, limit, f"problem too large: {value:g} {what}, the limit is {limit:g}", "maximum"
            )
