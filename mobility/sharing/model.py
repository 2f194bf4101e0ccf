"""Shared-mobility state (GBFS) as frozen, plain dataclasses.

A :class:`SharingSnapshot` is what one or several GBFS systems said at one moment: systems,
stations (with vehicles available per vehicle type and free docks), individual vehicles, vehicle
types, geofencing zones and pricing plans. Snapshots are immutable; live updates replace them.

Station-based vehicles (``Vehicle.station_id`` set, e.g. station-based car sharing) are never
free-floating: :attr:`Vehicle.is_free_floating` is false for them, and
:meth:`SharingSnapshot.free_floating_vehicles` leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: GBFS ``form_factor`` values (3.0; 2.3 uses the same words, ``other`` included).
FORM_FACTORS = ("bicycle", "cargo_bicycle", "car", "moped", "scooter_standing", "scooter_seated", "other")


@dataclass(frozen=True, slots=True)
class SharingSystem:
    """One GBFS system (``system_information`` plus where and when it was read)."""

    system_id: str
    name: str
    timezone: str | None
    version: str
    ttl_s: int
    last_updated: datetime | None
    operator: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleType:
    """A vehicle type of a system (``vehicle_types``).

    ``return_constraint`` (GBFS 2.3 and 3.0): ``free_floating``, ``roundtrip_station`` (back to
    the station it was taken from), ``any_station`` or ``hybrid``; None when the feed does not say.
    """

    system_id: str
    vehicle_type_id: str
    form_factor: str
    propulsion: str
    name: str | None = None
    max_range_m: float | None = None
    return_constraint: str | None = None


@dataclass(frozen=True, slots=True)
class Station:
    """A docking station or virtual station with its current status.

    ``vehicles_available`` maps ``vehicle_type_id`` to a count where the feed gives counts per
    type; ``num_vehicles_available`` is the total the feed reports.
    """

    system_id: str
    station_id: str
    name: str
    lat: float
    lon: float
    num_vehicles_available: int
    vehicles_available: Mapping[str, int] = field(default_factory=dict, hash=False)
    num_docks_available: int | None = None
    is_renting: bool = True
    is_returning: bool = True
    is_installed: bool = True
    capacity: int | None = None
    is_virtual: bool = False
    last_reported: datetime | None = None

    def available(self, vehicle_type_id: str) -> int:
        """Vehicles of one type available here (0 when the feed gives no count for it)."""
        return int(self.vehicles_available.get(vehicle_type_id, 0))


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One vehicle (``vehicle_status`` in 3.0, ``free_bike_status`` in 2.3).

    ``station_id`` is set for vehicles parked at a station, ``home_station_id`` for vehicles that
    must be returned to their home station (station-based car sharing); neither is free-floating.
    """

    system_id: str
    vehicle_id: str
    lat: float | None
    lon: float | None
    vehicle_type_id: str | None
    form_factor: str
    propulsion: str
    station_id: str | None
    is_reserved: bool
    is_disabled: bool
    current_range_m: float | None = None
    last_reported: datetime | None = None
    home_station_id: str | None = None

    @property
    def is_free_floating(self) -> bool:
        """True for a vehicle that can be picked up and left anywhere (no station, no home station)."""
        return (
            self.station_id is None
            and self.home_station_id is None
            and self.lat is not None
            and self.lon is not None
        )


@dataclass(frozen=True, slots=True)
class GeofencingRule:
    """One rule of a geofencing zone; ``vehicle_type_ids`` empty means every type."""

    vehicle_type_ids: tuple[str, ...]
    ride_start_allowed: bool
    ride_end_allowed: bool
    ride_through_allowed: bool
    maximum_speed_kph: float | None = None
    station_parking: bool | None = None


@dataclass(frozen=True, slots=True)
class GeofencingZone:
    """A geofencing zone: a GeoJSON (Multi)Polygon geometry in lon/lat with its rules."""

    system_id: str
    name: str | None
    geometry: Mapping[str, Any] = field(hash=False)
    rules: tuple[GeofencingRule, ...]


@dataclass(frozen=True, slots=True)
class PricingPlan:
    """A pricing plan (``system_pricing_plans``), price in the plan's currency."""

    system_id: str
    plan_id: str
    name: str
    currency: str
    price: float
    is_taxable: bool


@dataclass(frozen=True, slots=True)
class SharingSnapshot:
    """The state of one or several GBFS systems at ``as_of`` (an aware datetime)."""

    systems: tuple[SharingSystem, ...]
    stations: tuple[Station, ...]
    vehicles: tuple[Vehicle, ...]
    vehicle_types: tuple[VehicleType, ...]
    geofencing_zones: tuple[GeofencingZone, ...]
    as_of: datetime
    pricing_plans: tuple[PricingPlan, ...] = ()

    def free_floating_vehicles(self) -> tuple[Vehicle, ...]:
        """Vehicles that can be rented where they stand: not at a station, not reserved or disabled."""
        return tuple(
            v for v in self.vehicles if v.is_free_floating and not v.is_reserved and not v.is_disabled
        )

    def vehicle_type(self, system_id: str, vehicle_type_id: str | None) -> VehicleType | None:
        """The vehicle type of a system by id, or None."""
        for vt in self.vehicle_types:
            if vt.system_id == system_id and vt.vehicle_type_id == vehicle_type_id:
                return vt
        return None

    @staticmethod
    def empty(as_of: datetime) -> SharingSnapshot:
        """A snapshot without any system."""
        return SharingSnapshot((), (), (), (), (), as_of)

    @staticmethod
    def merge(snapshots: Iterable[SharingSnapshot], as_of: datetime | None = None) -> SharingSnapshot:
        """Several systems' snapshots as one; ``as_of`` defaults to the oldest one's (the safe side)."""
        snaps = list(snapshots)
        if not snaps:
            if as_of is None:
                raise ValueError("merge of no snapshots needs as_of")
            return SharingSnapshot.empty(as_of)
        return SharingSnapshot(
            systems=tuple(s for snap in snaps for s in snap.systems),
            stations=tuple(s for snap in snaps for s in snap.stations),
            vehicles=tuple(v for snap in snaps for v in snap.vehicles),
            vehicle_types=tuple(v for snap in snaps for v in snap.vehicle_types),
            geofencing_zones=tuple(z for snap in snaps for z in snap.geofencing_zones),
            as_of=as_of if as_of is not None else min(snap.as_of for snap in snaps),
            pricing_plans=tuple(p for snap in snaps for p in snap.pricing_plans),
        )
