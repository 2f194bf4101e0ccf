"""Charging profiles for the charging stations: OCPP 2.0.1, OCPP 1.6 and OCPI 2.2.1.

One ``TxProfile`` (kind ``Absolute``) per session, with one period per change of power. Limits
are rounded down (whole watts, or tenths of an ampere) so that a station never gets more than
the plan allows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from charging.errors import InvalidInputError
from charging.model import SlotGrid
from charging.problem import Schedule

MAX_PERIODS = 1024


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """Electrical facts needed to express power as current."""

    voltage_v: float = 230.0
    phases: int = 3


def _tenths(value: float) -> float:
    """Round down to a multiple of 0.1 that also passes a float ``multipleOf: 0.1`` check."""
    k = math.floor(max(value, 0.0) * 10 + 1e-9)
    while k > 0:
        x = round(k / 10, 1)
        q = x / 0.1
        if int(q) == q:
            return x
        k -= 1
    return 0.0


def _periods(
    powers_kw: Sequence[float], slot_s: int, unit: str, spec: ProfileSpec
) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    for k, p in enumerate(powers_kw):
        if unit == "W":
            limit = _tenths(float(math.floor(max(p, 0.0) * 1000.0 + 1e-6)))
        else:
            limit = _tenths(max(p, 0.0) * 1000.0 / (spec.voltage_v * spec.phases))
        if not out or out[-1][1] != limit:
            out.append((k * slot_s, limit))
    if len(out) > MAX_PERIODS:
        raise InvalidInputError(f"profile needs {len(out)} periods, more than the {MAX_PERIODS} OCPP allows")
    return out


def _session_window(schedule: Schedule, grid: SlotGrid, i: int) -> tuple[datetime, int, list[float]]:
    p = schedule.problem
    start = grid.slot_start(int(p.first[i]))
    n = int(p.last[i] - p.first[i])
    return start, n * grid.slot_minutes * 60, [float(x) for x in schedule.session_power(i)]


def _rfc3339(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


class _SessionProfile(NamedTuple):
    """One session's charging window and its periods ``(start_s, limit)`` in the profile's unit."""

    position: int
    session_id: str
    evse_id: str
    start: datetime
    duration_s: int
    periods: list[tuple[int, float]]
    phases: int


def _session_profiles(
    schedule: Schedule,
    grid: SlotGrid,
    session_ids: Sequence[str],
    evse_ids: Sequence[str],
    unit: str,
    specs: Mapping[str, ProfileSpec] | None,
) -> Iterator[_SessionProfile]:
    """The profile of every session that charges at all, in session order (every format's core)."""
    _check_unit(unit)
    p = schedule.problem
    for i, sid in enumerate(session_ids):
        evse = evse_ids[int(p.evse[i])] if evse_ids else ""
        spec = (specs or {}).get(evse, ProfileSpec())
        start, duration_s, powers = _session_window(schedule, grid, i)
        if duration_s <= 0:
            continue
        periods = _periods(powers, grid.slot_minutes * 60, unit, spec)
        yield _SessionProfile(i, sid, evse, start, duration_s, periods, spec.phases)


def ocpp201_requests(
    schedule: Schedule,
    grid: SlotGrid,
    session_ids: Sequence[str],
    evse_ids: Sequence[str],
    *,
    evse_numbers: Mapping[str, int] | None = None,
    unit: str = "W",
    specs: Mapping[str, ProfileSpec] | None = None,
    first_profile_id: int = 1,
) -> list[dict[str, Any]]:
    """OCPP 2.0.1 ``SetChargingProfileRequest`` payloads, one per session."""
    numbers = dict(evse_numbers or {e: k + 1 for k, e in enumerate(evse_ids)})
    out: list[dict[str, Any]] = []
    for i, sid, evse, start, duration_s, periods, phases in _session_profiles(
        schedule, grid, session_ids, evse_ids, unit, specs
    ):
        sched: dict[str, Any] = {
            "id": first_profile_id + i,
            "startSchedule": _rfc3339(start),
            "duration": duration_s,
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [
                {"startPeriod": s, "limit": lim, "numberPhases": phases} for s, lim in periods
            ],
        }
        out.append(
            {
                "evseId": int(numbers[evse]),
                "chargingProfile": {
                    "id": first_profile_id + i,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Absolute",
                    "validFrom": _rfc3339(start),
                    "validTo": _rfc3339(start + timedelta(seconds=duration_s)),
                    "transactionId": sid[:36],
                    "chargingSchedule": [sched],
                },
            }
        )
    return out


def ocpp16_requests(  # noqa: PLR0913  OCPP 1.6 needs ids per session; options keyword-only
    schedule: Schedule,
    grid: SlotGrid,
    session_ids: Sequence[str],
    evse_ids: Sequence[str],
    *,
    connector_ids: Mapping[str, int] | None = None,
    transaction_ids: Mapping[str, int] | None = None,
    unit: str = "W",
    specs: Mapping[str, ProfileSpec] | None = None,
    first_profile_id: int = 1,
) -> list[dict[str, Any]]:
    """OCPP 1.6 ``SetChargingProfile`` payloads (``csChargingProfiles``), one per session."""
    numbers = dict(connector_ids or {e: k + 1 for k, e in enumerate(evse_ids)})
    out: list[dict[str, Any]] = []
    for i, sid, evse, start, duration_s, periods, phases in _session_profiles(
        schedule, grid, session_ids, evse_ids, unit, specs
    ):
        profile: dict[str, Any] = {
            "chargingProfileId": first_profile_id + i,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "validFrom": _rfc3339(start),
            "validTo": _rfc3339(start + timedelta(seconds=duration_s)),
            "chargingSchedule": {
                "duration": duration_s,
                "startSchedule": _rfc3339(start),
                "chargingRateUnit": unit,
                "chargingSchedulePeriod": [
                    {"startPeriod": s, "limit": lim, "numberPhases": phases} for s, lim in periods
                ],
            },
        }
        if transaction_ids and sid in transaction_ids:
            profile["transactionId"] = int(transaction_ids[sid])
        out.append({"connectorId": int(numbers[evse]), "csChargingProfiles": profile})
    return out


def ocpi_profiles(
    schedule: Schedule,
    grid: SlotGrid,
    session_ids: Sequence[str],
    *,
    unit: str = "W",
    specs: Mapping[str, ProfileSpec] | None = None,
    evse_ids: Sequence[str] = (),
) -> dict[str, dict[str, Any]]:
    """OCPI 2.2.1 ``ChargingProfile`` objects by session id (for ``SetChargingProfile``)."""
    out: dict[str, dict[str, Any]] = {}
    for _, sid, _, start, duration_s, periods, _ in _session_profiles(
        schedule, grid, session_ids, evse_ids, unit, specs
    ):
        out[sid] = {
            "start_date_time": _rfc3339(start),
            "duration": duration_s,
            "charging_rate_unit": unit,
            "charging_profile_period": [{"start_period": s, "limit": lim} for s, lim in periods],
        }
    return out


def _check_unit(unit: str) -> None:
    if unit not in ("W", "A"):
        raise InvalidInputError(f"charging rate unit must be 'W' or 'A', got {unit!r}")


PROFILE_FORMATS: tuple[str, ...] = ("ocpp201", "ocpp16", "ocpi")
"""Formats of :func:`profiles_for`: OCPP 2.0.1, OCPP 1.6 and OCPI 2.2.1."""


def profiles_for(
    profile_format: str,
    schedule: Schedule,
    grid: SlotGrid,
    session_ids: Sequence[str],
    evse_ids: Sequence[str],
    *,
    unit: str = "W",
) -> list[dict[str, Any]] | dict[str, dict[str, Any]]:
    """The charging profiles of a plan in ``profile_format`` (one of :data:`PROFILE_FORMATS`).

    The one place that picks the writer for a format name, used by the command line and the API.
    """
    if profile_format == "ocpp201":
        return ocpp201_requests(schedule, grid, session_ids, evse_ids, unit=unit)
    if profile_format == "ocpp16":
        return ocpp16_requests(schedule, grid, session_ids, evse_ids, unit=unit)
    if profile_format == "ocpi":
        return ocpi_profiles(schedule, grid, session_ids, unit=unit, evse_ids=evse_ids)
    raise InvalidInputError(
        f"unknown charging profile format {profile_format!r}; expected one of {', '.join(PROFILE_FORMATS)}"
    )
