"""Itineraries and legs: the planner's answer and the API's JSON shape.

``Itinerary.to_json()`` gives ``start``, ``end`` (RFC 3339 with offset), ``duration_s``,
``transfers`` and ``legs``; each leg has ``mode``, ``from``/``to`` places, ``start``/``end`` times
(``scheduled`` plus ``estimated``/``delay_s`` when realtime), ``realtime``, ``distance_m``,
``geometry`` (encoded polyline with precision 6, or a GeoJSON LineString) and, by kind, transit
fields (``route``, ``headsign``, ``trip_id``, ``intermediate_stops``), rental fields
(``system_id``, ``station``/``vehicle``, ``vehicle_type``, ``form_factor``, ``propulsion``,
``availability``) and charging fields (``evse_id``, ``status``, ``connector``, ``max_power_kw``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mobility.streets.polyline import encode

PRECISION = 6
TRANSIT_MODES = frozenset(
    {"BUS", "TRAM", "RAIL", "SUBWAY", "FERRY", "CABLE_CAR", "GONDOLA", "FUNICULAR", "TROLLEYBUS", "MONORAIL"}
)
MODES = frozenset({"WALK", "BIKE_SHARE", "CAR_SHARE", "CAR", "BIKE"}) | TRANSIT_MODES


def rfc3339(when: datetime) -> str:
    """RFC 3339 text with the UTC offset (raises on naive datetimes)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("itinerary times must be time-zone aware")
    return when.isoformat(timespec="seconds")


@dataclass(frozen=True)
class Place:
    """A point of an itinerary: a stop, a station, a vehicle, a charger or an address."""

    name: str
    lat: float
    lon: float
    stop_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{name, lat, lon, stop_id?}``."""
        out: dict[str, Any] = {"name": self.name, "lat": round(self.lat, 7), "lon": round(self.lon, 7)}
        if self.stop_id is not None:
            out["stop_id"] = self.stop_id
        return out


@dataclass(frozen=True)
class LegTime:
    """Scheduled time and, with realtime data, the estimate and its delay."""

    scheduled: datetime
    estimated: datetime | None = None
    delay_s: int | None = None

    @property
    def best(self) -> datetime:
        """The estimate when there is one, else the scheduled time."""
        return self.estimated or self.scheduled

    def to_json(self) -> dict[str, Any]:
        """``{scheduled, estimated?, delay_s?}``."""
        out: dict[str, Any] = {"scheduled": rfc3339(self.scheduled)}
        if self.estimated is not None:
            out["estimated"] = rfc3339(self.estimated)
        if self.delay_s is not None:
            out["delay_s"] = self.delay_s
        return out


@dataclass
class Leg:
    """One leg: walking, riding a vehicle of a route, a rental vehicle, or driving a car.

    ``points`` is the geometry as ``(lat, lon)`` pairs along the network.  ``transit``, ``rental``
    and ``charging`` hold the kind-specific fields, written into the JSON as they are.
    """

    mode: str
    origin: Place
    destination: Place
    start: LegTime
    end: LegTime
    distance_m: float
    points: list[tuple[float, float]] = field(default_factory=list)
    realtime: bool = False
    transit: dict[str, Any] | None = None
    rental: dict[str, Any] | None = None
    charging: dict[str, Any] | None = None

    @property
    def duration_s(self) -> int:
        """Seconds from start to end."""
        return int((self.end.best - self.start.best).total_seconds())

    def geometry_json(self, geometry: Literal["polyline", "geojson"] = "polyline") -> dict[str, Any]:
        """The geometry as ``{polyline, precision}`` or a GeoJSON LineString (lon, lat)."""
        points = self.points or [
            (self.origin.lat, self.origin.lon),
            (self.destination.lat, self.destination.lon),
        ]
        if geometry == "geojson":
            return {
                "type": "LineString",
                "coordinates": [[round(lon, 7), round(lat, 7)] for lat, lon in points],
            }
        return {"polyline": encode(points, PRECISION), "precision": PRECISION}

    def to_json(self, geometry: Literal["polyline", "geojson"] = "polyline") -> dict[str, Any]:
        """The leg in the API shape."""
        out: dict[str, Any] = {
            "mode": self.mode,
            "from": self.origin.to_json(),
            "to": self.destination.to_json(),
            "start": self.start.to_json(),
            "end": self.end.to_json(),
            "duration_s": self.duration_s,
            "realtime": self.realtime,
            "distance_m": round(self.distance_m, 1),
            "geometry": self.geometry_json(geometry),
        }
        for extra in (self.transit, self.rental, self.charging):
            if extra:
                out.update(extra)
        return out


@dataclass
class Itinerary:
    """A door-to-door itinerary: its legs in order."""

    legs: list[Leg]

    @property
    def start(self) -> datetime:
        """Start of the first leg."""
        return self.legs[0].start.best

    @property
    def end(self) -> datetime:
        """End of the last leg."""
        return self.legs[-1].end.best

    @property
    def duration_s(self) -> int:
        """Seconds from start to end."""
        return int((self.end - self.start).total_seconds())

    @property
    def transfers(self) -> int:
        """Vehicle changes: transit rides minus one (0 without transit)."""
        return max(0, sum(1 for leg in self.legs if leg.mode in TRANSIT_MODES) - 1)

    @property
    def walk_m(self) -> float:
        """Metres walked."""
        return sum(leg.distance_m for leg in self.legs if leg.mode == "WALK")

    @property
    def modes(self) -> list[str]:
        """The leg modes in order."""
        return [leg.mode for leg in self.legs]

    def to_json(self, geometry: Literal["polyline", "geojson"] = "polyline") -> dict[str, Any]:
        """The itinerary in the API shape (architecture notes, "API shape")."""
        return {
            "start": rfc3339(self.start),
            "end": rfc3339(self.end),
            "duration_s": self.duration_s,
            "transfers": self.transfers,
            "walk_distance_m": round(self.walk_m, 1),
            "legs": [leg.to_json(geometry) for leg in self.legs],
        }
