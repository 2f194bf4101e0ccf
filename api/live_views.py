"""JSON views of the live state shared by the sharing, charging and hub routes.

What changes only when a feed delivers (the parsed stations, vehicles and chargers) is turned into
JSON-ready rows and coordinate arrays once per snapshot (:func:`sharing_index`,
:func:`charger_index`, cached by the identity of the snapshot they come from); a request then
filters arrays and copies rows. Freshness (``as_of``, ``age_s``, ``stale``) comes from
:meth:`~mobility.live.state.LiveState.feed_status`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import numpy as np

from charging.points import Location
from mobility.live.state import FeedStatus
from mobility.sharing.model import SharingSnapshot, Station, Vehicle
from mobility.streets.graph import haversine_m

BIKE_FORM_FACTORS = frozenset({"bicycle", "cargo_bicycle"})
CAR_FORM_FACTORS = frozenset({"car"})

BBox = tuple[float, float, float, float]


def rfc3339(t: datetime | None, tz: tzinfo) -> str | None:
    """``t`` in the city's time zone as RFC 3339 with offset (None stays None)."""
    return None if t is None else t.astimezone(tz).isoformat(timespec="seconds")


def freshness(
    statuses: Sequence[FeedStatus], kinds: Sequence[str], tz: tzinfo, *, stale_without: bool = True
) -> dict[str, Any]:
    """``as_of`` (oldest good state), ``age_s`` (largest) and ``stale`` of the feeds of ``kinds``.

    Feeds without any good state yet contribute no data and so no age; the block is stale when a
    feed with data is stale, or when no feed has data (``stale_without`` when none is configured).
    """
    mine = [s for s in statuses if s.kind in kinds]
    good = [s for s in mine if s.age_s is not None and s.as_of is not None]
    if not good:
        return {"as_of": None, "age_s": None, "stale": bool(mine) or stale_without}
    oldest = min(good, key=lambda s: s.as_of or datetime.max)
    return {
        "as_of": rfc3339(oldest.as_of, tz),
        "age_s": round(max(float(s.age_s or 0.0) for s in good), 1),
        "stale": any(s.stale for s in good),
    }


def in_bbox(lat: np.ndarray, lon: np.ndarray, bbox: BBox | None) -> np.ndarray:
    """Mask of the points inside ``bbox`` (all points without one; NaN never inside)."""
    if bbox is None:
        return np.ones(len(lat), dtype=bool)
    min_lon, min_lat, max_lon, max_lat = bbox
    return (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)


def distances_m(lat: np.ndarray, lon: np.ndarray, at_lat: float, at_lon: float) -> np.ndarray:
    """Great-circle distances from one point (NaN for points without coordinates)."""
    if not len(lat):
        return np.zeros(0)
    return np.asarray(haversine_m(at_lat, at_lon, lat, lon), dtype=float)


# ---------------------------------------------------------------------------------------------
# sharing


@dataclass(frozen=True)
class SharingIndex:
    """JSON rows and coordinate arrays of one sharing snapshot."""

    snapshot: SharingSnapshot
    stations: list[dict[str, Any]]
    station_lat: np.ndarray
    station_lon: np.ndarray
    station_system: np.ndarray
    station_forms: list[frozenset[str]]
    station_counts: list[dict[str, int]]  # vehicles available per form factor
    vehicles: list[dict[str, Any]]
    vehicle_lat: np.ndarray
    vehicle_lon: np.ndarray
    vehicle_system: np.ndarray
    vehicle_form: np.ndarray
    vehicle_free: np.ndarray  # free-floating and available


def _station_forms(
    snap: SharingSnapshot, st: Station, system_forms: dict[str, dict[str, str]]
) -> dict[str, int]:
    """Vehicles available per form factor at a station (form factors it serves, even at 0)."""
    types = system_forms.get(st.system_id, {})
    if st.vehicles_available:
        out: dict[str, int] = {}
        for vt, count in st.vehicles_available.items():
            form = types.get(vt, "other")
            out[form] = out.get(form, 0) + int(count)
        return out
    forms = set(types.values()) or {"bicycle"}  # GBFS: no vehicle_types means bicycles
    if len(forms) == 1:
        return {forms.pop(): st.num_vehicles_available}
    return {f: 0 for f in forms} | {"other": st.num_vehicles_available}


def _station_json(st: Station, tz: tzinfo, counts: dict[str, int]) -> dict[str, Any]:
    return {
        "system_id": st.system_id,
        "station_id": st.station_id,
        "name": st.name,
        "lat": st.lat,
        "lon": st.lon,
        "vehicles_available": st.num_vehicles_available,
        "docks_available": st.num_docks_available,
        "capacity": st.capacity,
        "vehicle_types_available": dict(st.vehicles_available),
        "form_factors": sorted(counts),
        "is_renting": st.is_renting,
        "is_returning": st.is_returning,
        "is_installed": st.is_installed,
        "is_virtual": st.is_virtual,
        "last_reported": rfc3339(st.last_reported, tz),
    }


def _vehicle_json(v: Vehicle, tz: tzinfo) -> dict[str, Any]:
    return {
        "system_id": v.system_id,
        "vehicle_id": v.vehicle_id,
        "lat": v.lat,
        "lon": v.lon,
        "form_factor": v.form_factor,
        "propulsion": v.propulsion,
        "vehicle_type_id": v.vehicle_type_id,
        "range_m": v.current_range_m,
        "station_id": v.station_id,
        "is_free_floating": v.is_free_floating,
        "is_reserved": v.is_reserved,
        "is_disabled": v.is_disabled,
        "last_reported": rfc3339(v.last_reported, tz),
    }


def _build_sharing(snap: SharingSnapshot, tz: tzinfo) -> SharingIndex:
    system_forms: dict[str, dict[str, str]] = {}
    for vt in snap.vehicle_types:
        system_forms.setdefault(vt.system_id, {})[vt.vehicle_type_id] = vt.form_factor
    counts = [_station_forms(snap, st, system_forms) for st in snap.stations]
    placed = [v for v in snap.vehicles if v.lat is not None and v.lon is not None]
    return SharingIndex(
        snap,
        [_station_json(st, tz, c) for st, c in zip(snap.stations, counts, strict=True)],
        np.array([st.lat for st in snap.stations], dtype=float),
        np.array([st.lon for st in snap.stations], dtype=float),
        np.array([st.system_id for st in snap.stations], dtype=object),
        [frozenset(c) for c in counts],
        counts,
        [_vehicle_json(v, tz) for v in placed],
        np.array([v.lat for v in placed], dtype=float),
        np.array([v.lon for v in placed], dtype=float),
        np.array([v.system_id for v in placed], dtype=object),
        np.array([v.form_factor for v in placed], dtype=object),
        np.array(
            [v.is_free_floating and not v.is_reserved and not v.is_disabled for v in placed], dtype=bool
        ),
    )


_lock = threading.Lock()
_sharing_cache: list[tuple[SharingSnapshot, tzinfo, SharingIndex]] = []
_charger_cache: list[tuple[list[Location], ChargerIndex]] = []


def sharing_index(snap: SharingSnapshot, tz: tzinfo) -> SharingIndex:
    """The index of ``snap`` (built once per snapshot object)."""
    for known, known_tz, index in _sharing_cache:
        if known is snap and known_tz is tz:
            return index
    index = _build_sharing(snap, tz)
    with _lock:
        _sharing_cache[:] = [*_sharing_cache[-3:], (snap, tz, index)]
    return index


# ---------------------------------------------------------------------------------------------
# chargers


@dataclass(frozen=True)
class ChargerIndex:
    """JSON rows and coordinate arrays of a list of OCPI Locations."""

    locations: list[Location]
    rows: list[dict[str, Any]]
    lat: np.ndarray
    lon: np.ndarray
    by_id: dict[str, int]


def _location_json(loc: Location) -> dict[str, Any]:
    return {
        "location_id": loc.location_id,
        "name": loc.name,
        "lat": loc.lat,
        "lon": loc.lon,
        "evses": [
            {
                "evse_uid": e.uid,
                "evse_id": e.evse_id,
                "status": e.status,
                "max_power_kw": round(e.max_power_kw, 3),
                "connectors": [
                    {
                        "connector_id": c.connector_id,
                        "standard": c.standard,
                        "format": c.format,
                        "power_type": c.power_type,
                        "max_power_kw": round(c.max_power_kw, 3),
                    }
                    for c in e.connectors
                ],
            }
            for e in loc.evses
        ],
    }


def charger_index(locations: list[Location]) -> ChargerIndex:
    """The index of a Locations list (built once per distinct list of Location objects)."""
    for known, index in _charger_cache:
        if len(known) == len(locations) and all(a is b for a, b in zip(known, locations, strict=True)):
            return index
    index = ChargerIndex(
        locations,
        [_location_json(loc) for loc in locations],
        np.array([loc.lat for loc in locations], dtype=float),
        np.array([loc.lon for loc in locations], dtype=float),
        {loc.location_id: i for i, loc in enumerate(locations)},
    )
    with _lock:
        _charger_cache[:] = [*_charger_cache[-3:], (locations, index)]
    return index


def filter_evses(
    row: dict[str, Any], status: str | None, connector: str | None, min_power_kw: float | None
) -> dict[str, Any] | None:
    """A location row with only the EVSEs matching the filters (None when none matches)."""
    if status is None and connector is None and min_power_kw is None:
        return row
    evses = [
        e
        for e in row["evses"]
        if (status is None or e["status"] == status)
        and (connector is None or any(c["standard"] == connector for c in e["connectors"]))
        and (min_power_kw is None or e["max_power_kw"] >= min_power_kw)
    ]
    return {**row, "evses": evses} if evses else None


# ---------------------------------------------------------------------------------------------
# answers of the same second


class SecondCache:
    """Documents computed within the same second from the same live objects, per process.

    A live answer changes when a feed delivers (new snapshot, Locations or overlay objects) and as
    time passes (``as_of``, ``age_s``, the next departures); within one second of the wall clock and
    of the live state's clock, with the same objects behind it, it is the same answer. ``deps`` are
    the live objects an answer was made from, compared by identity (the cache holds them, so their
    ids cannot be reused while an entry lives).
    """

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._entries: dict[tuple[Any, ...], tuple[tuple[object, ...], Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], deps: tuple[object, ...]) -> Any | None:
        """The document stored under ``key`` when made from the very objects ``deps``."""
        entry = self._entries.get(key)
        if (
            entry is None
            or len(entry[0]) != len(deps)
            or any(a is not b for a, b in zip(entry[0], deps, strict=True))
        ):
            return None
        return entry[1]

    def put(self, key: tuple[Any, ...], deps: tuple[object, ...], doc: Any) -> None:
        """Store ``doc``; entries of other seconds go first when the cache is full."""
        with self._lock:
            if len(self._entries) >= self.max_entries:
                second = key[0]
                self._entries = {k: v for k, v in self._entries.items() if k[0] == second}
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
            self._entries[key] = (deps, doc)


def second_of(clock: Any) -> tuple[int, int]:
    """The current second of the wall clock and of a live state's clock (tests move the latter)."""
    return int(time.time()), int(clock())
