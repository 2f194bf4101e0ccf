"""Charging points as published over OCPI 2.2.1 (Location → EVSE → Connector).

Deliberately light (standard library only): other packages put these charging points into their
own models, so importing this module must not pull in solvers or numeric libraries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from charging.errors import InvalidInputError


@dataclass(frozen=True, slots=True)
class Connector:
    """One plug of an EVSE (OCPI ``Connector``)."""

    connector_id: str
    standard: str
    format: str
    power_type: str
    max_voltage_v: int
    max_amperage_a: int
    max_electric_power_w: int | None = None

    @property
    def max_power_kw(self) -> float:
        """Maximum power in kW: ``max_electric_power`` when given, else voltage × current × phases."""
        if self.max_electric_power_w is not None:
            return self.max_electric_power_w / 1000.0
        phases = 3 if self.power_type == "AC_3_PHASE" else 1
        if self.power_type == "AC_3_PHASE":
            # OCPI gives the line-to-neutral voltage for three-phase connectors.
            return phases * self.max_voltage_v * self.max_amperage_a / 1000.0
        return self.max_voltage_v * self.max_amperage_a / 1000.0

    @property
    def phases(self) -> int:
        """Number of AC phases (1 for DC and single-phase AC)."""
        return 3 if self.power_type == "AC_3_PHASE" else 1


@dataclass(frozen=True, slots=True)
class Evse:
    """An EVSE of a charging location (OCPI ``EVSE``)."""

    uid: str
    evse_id: str | None
    status: str
    connectors: tuple[Connector, ...]
    lon: float | None = None
    lat: float | None = None

    @property
    def max_power_kw(self) -> float:
        """The most powerful connector's maximum power in kW (0 without connectors)."""
        return max((c.max_power_kw for c in self.connectors), default=0.0)

    @property
    def phases(self) -> int:
        """Phases of the most powerful connector."""
        if not self.connectors:
            return 1
        return max(self.connectors, key=lambda c: c.max_power_kw).phases


@dataclass(frozen=True, slots=True)
class Location:
    """A charging location (OCPI ``Location``) with its EVSEs."""

    location_id: str
    name: str | None
    lon: float
    lat: float
    time_zone: str | None
    evses: tuple[Evse, ...]


def _field(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise InvalidInputError(f"{where}: missing field {key!r}")
    return obj[key]


def _coordinates(obj: Mapping[str, Any], where: str) -> tuple[float, float]:
    coords = _field(obj, "coordinates", where)
    try:
        return float(coords["longitude"]), float(coords["latitude"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInputError(f"{where}: invalid coordinates {coords!r}") from exc


def parse_connector(obj: Mapping[str, Any], where: str = "connector") -> Connector:
    """Parse one OCPI 2.2.1 ``Connector`` object."""
    cid = str(_field(obj, "id", where))
    where = f"{where} {cid}"
    try:
        power_w = obj.get("max_electric_power")
        return Connector(
            connector_id=cid,
            standard=str(_field(obj, "standard", where)),
            format=str(_field(obj, "format", where)),
            power_type=str(_field(obj, "power_type", where)),
            max_voltage_v=int(_field(obj, "max_voltage", where)),
            max_amperage_a=int(_field(obj, "max_amperage", where)),
            max_electric_power_w=None if power_w is None else int(power_w),
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{where}: {exc}") from exc


def parse_evse(obj: Mapping[str, Any], where: str = "evse") -> Evse:
    """Parse one OCPI 2.2.1 ``EVSE`` object."""
    uid = str(_field(obj, "uid", where))
    where = f"{where} {uid}"
    lon = lat = None
    if "coordinates" in obj:
        lon, lat = _coordinates(obj, where)
    connectors = tuple(parse_connector(c, f"{where} connector") for c in obj.get("connectors", ()))
    evse_id = obj.get("evse_id")
    return Evse(
        uid,
        None if evse_id is None else str(evse_id),
        str(obj.get("status", "UNKNOWN")),
        connectors,
        lon,
        lat,
    )


def parse_location(obj: Mapping[str, Any]) -> Location:
    """Parse one OCPI 2.2.1 ``Location`` object (as in a ``GET /locations`` response)."""
    if not isinstance(obj, Mapping):
        raise InvalidInputError("location: expected a JSON object")
    lid = str(_field(obj, "id", "location"))
    where = f"location {lid}"
    lon, lat = _coordinates(obj, where)
    evses = tuple(parse_evse(e, f"{where} evse") for e in obj.get("evses", ()))
    name = obj.get("name")
    tz = obj.get("time_zone")
    return Location(
        lid, None if name is None else str(name), lon, lat, None if tz is None else str(tz), evses
    )


def parse_locations(payload: Any) -> list[Location]:
    """Parse a Location, a list of Locations, or an OCPI response envelope (``{"data": ...}``)."""
    if isinstance(payload, Mapping) and "data" in payload and "id" not in payload:
        payload = payload["data"]
    if isinstance(payload, Mapping):
        return [parse_location(payload)]
    if isinstance(payload, list):
        return [parse_location(item) for item in payload]
    raise InvalidInputError("locations: expected an object or a list of objects")
