"""``GET /api/v1/hubs`` and ``GET /api/v1/hubs/{hub_id}``: the mobility hub aggregate the station
display reads (shape fixed in the API contract).

A hub is a ``[hubs.ID]`` table of ``knoten.toml`` (see :class:`api.settings.HubConfig`), or the
demo city's main station when no hub is configured. One answer joins the departures of its stops,
bike and car sharing within its radius, and its chargers per EVSE; every block says how fresh it is
(``as_of``, ``age_s``, ``stale``).

Per process, a hub's point and what lies within its radius are worked out once per snapshot of the
live state (sharing and chargers change only when a feed delivers); a request adds the departures.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import Response
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import BaseModel, Field

from api.context import Services, json_response, services, without_keys
from api.errors import ApiProblem
from api.live_views import (
    BIKE_FORM_FACTORS,
    CAR_FORM_FACTORS,
    ChargerIndex,
    SecondCache,
    SharingIndex,
    charger_index,
    distances_m,
    freshness,
    rfc3339,
    second_of,
    sharing_index,
)
from api.models import RequestModel, problems
from api.routes.departures import BoardQuery, DepartureOut, departure_board
from api.settings import HubConfig, Settings, resolved_hubs

log = logging.getLogger(__name__)

hubs_tag = Tag(name="hubs", description="Mobility hubs: departures, sharing and chargers in one answer")
SCOOTER_FORM_FACTORS = frozenset({"scooter_standing", "scooter_seated", "moped"})


class HubPath(RequestModel):
    """The hub asked for."""

    hub_id: str = Field(
        min_length=1,
        max_length=64,
        description="Hub id ([hubs.ID] in knoten.toml)",
        json_schema_extra={"example": "hbf"},
    )


class HubQuery(BoardQuery):
    """How many departures the hub's board shows."""


class HubSummary(BaseModel):
    """A hub in the list."""

    id: str
    name: str
    lat: float
    lon: float
    radius_m: float
    languages: list[str]


class HubsResponse(BaseModel):
    """Every hub."""

    hubs: list[HubSummary]


class Freshness(BaseModel):
    """How fresh a block is."""

    as_of: str | None
    age_s: float | None
    stale: bool


class DeparturesBlock(Freshness):
    """The hub's next departures."""

    realtime: bool
    items: list[DepartureOut]
    problem: str | None = None


class HubStation(BaseModel):
    """A sharing station near the hub."""

    system_id: str
    station_id: str
    name: str
    lat: float
    lon: float
    distance_m: float
    vehicles_available: int
    docks_available: int | None


class HubVehicle(BaseModel):
    """A free-floating vehicle near the hub."""

    system_id: str
    vehicle_id: str
    lat: float
    lon: float
    distance_m: float
    form_factor: str
    propulsion: str
    range_m: float | None


class ScootersBlock(Freshness):
    """Free-floating scooters and mopeds within the radius."""

    free_floating: int


class BikesBlock(Freshness):
    """Bike stations near the hub and free-floating bikes within the radius."""

    stations: list[HubStation]
    free_floating: int


class CarsBlock(Freshness):
    """Car-sharing stations and free-floating cars near the hub."""

    stations: list[HubStation]
    vehicles: list[HubVehicle]


class HubConnector(BaseModel):
    """A connector of an EVSE."""

    standard: str
    max_power_kw: float


class HubEvse(BaseModel):
    """An EVSE and its live status."""

    evse_uid: str
    evse_id: str | None
    status: str
    connectors: list[HubConnector]


class HubLocation(BaseModel):
    """A charging location of the hub."""

    location_id: str
    name: str | None
    lat: float
    lon: float
    distance_m: float
    evses: list[HubEvse]


class ChargersBlock(Freshness):
    """The hub's chargers per EVSE."""

    locations: list[HubLocation]


class HubResponse(HubSummary):
    """Everything the station display shows (see the API contract)."""

    as_of: str
    departures: DeparturesBlock
    bikes: BikesBlock
    cars: CarsBlock
    scooters: ScootersBlock
    chargers: ChargersBlock


@dataclass(frozen=True)
class _Hub:
    """A hub with its point worked out."""

    hub_id: str
    config: HubConfig
    lat: float
    lon: float

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.hub_id,
            "name": self.config.name,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "radius_m": self.config.radius_m,
            "languages": list(self.config.languages),
        }


class HubViews:
    """Per-process hub views: points, and what lies near each hub per live snapshot."""

    def __init__(self, svc: Services, settings: Settings) -> None:
        self.svc = svc
        self.settings = settings
        self.tz = ZoneInfo(settings.timezone)
        self._hubs: dict[str, _Hub] | None = None
        self._lock = threading.Lock()
        self._sharing: dict[str, tuple[SharingIndex, dict[str, Any]]] = {}
        self._chargers: dict[str, tuple[ChargerIndex, list[dict[str, Any]]]] = {}
        self._answers = SecondCache()

    def hubs(self) -> dict[str, _Hub]:
        """Every hub by id, its point from the settings or the mean of its stops."""
        if self._hubs is not None:
            return self._hubs
        with self._lock:
            if self._hubs is not None:
                return self._hubs
            configs = resolved_hubs(self.settings)
            out: dict[str, _Hub] = {}
            for hub_id, config in configs.items():
                if config.lat is not None and config.lon is not None:
                    out[hub_id] = _Hub(hub_id, config, config.lat, config.lon)
                    continue
                board = departure_board()
                found = [info for s in config.stops if (info := board.stop_info(s)) is not None]
                if not found:
                    raise ApiProblem(
                        503,
                        "Hub not placed",
                        f"hub {hub_id!r}: none of its stops ({', '.join(config.stops)}) is in the timetable; "
                        "give lat/lon or known stops",
                    )
                lat = float(np.mean([f["lat"] for f in found]))
                lon = float(np.mean([f["lon"] for f in found]))
                out[hub_id] = _Hub(hub_id, config, lat, lon)
            if out:  # without any hub (no demo built yet) look again next time
                self._hubs = out
            return out

    def hub(self, hub_id: str) -> _Hub:
        """One hub; 404 problem naming the known ones (before any hub needs the timetable)."""
        configs = resolved_hubs(self.settings) if self._hubs is None else self._hubs
        if hub_id not in configs:
            known = ", ".join(sorted(configs)) or "none configured"
            raise ApiProblem(404, "Unknown hub", f"no hub {hub_id!r} (known: {known})")
        return self.hubs()[hub_id]

    # -- sharing -------------------------------------------------------------------------------

    def sharing_near(self, hub: _Hub, index: SharingIndex) -> dict[str, Any]:
        """Bike and car stations, free-floating bikes, scooters and cars near ``hub``."""
        cached = self._sharing.get(hub.hub_id)
        if cached is not None and cached[0] is index:
            return cached[1]
        radius = hub.config.radius_m
        listed = set(hub.config.stations)
        d_st = distances_m(index.station_lat, index.station_lon, hub.lat, hub.lon)
        bikes: list[dict[str, Any]] = []
        cars: list[dict[str, Any]] = []
        for i in np.argsort(d_st, kind="stable").tolist():
            row = index.stations[i]
            if d_st[i] > radius and f"{row['system_id']}:{row['station_id']}" not in listed:
                continue
            counts = index.station_counts[i]
            for forms, target in ((BIKE_FORM_FACTORS, bikes), (CAR_FORM_FACTORS, cars)):
                if forms & index.station_forms[i]:
                    target.append(
                        {
                            "system_id": row["system_id"],
                            "station_id": row["station_id"],
                            "name": row["name"],
                            "lat": row["lat"],
                            "lon": row["lon"],
                            "distance_m": round(float(d_st[i]), 1),
                            "vehicles_available": sum(counts.get(f, 0) for f in forms),
                            "docks_available": row["docks_available"],
                            "capacity": row["capacity"],
                            "is_renting": row["is_renting"],
                        }
                    )
        d_v = distances_m(index.vehicle_lat, index.vehicle_lon, hub.lat, hub.lon)
        near = index.vehicle_free & (d_v <= radius)
        kinds = index.vehicle_form
        free_cars = []
        for i in np.flatnonzero(near & np.isin(kinds, list(CAR_FORM_FACTORS))).tolist():
            v = index.vehicles[i]
            free_cars.append(
                {
                    "system_id": v["system_id"],
                    "vehicle_id": v["vehicle_id"],
                    "lat": v["lat"],
                    "lon": v["lon"],
                    "distance_m": round(float(d_v[i]), 1),
                    "form_factor": v["form_factor"],
                    "propulsion": v["propulsion"],
                    "range_m": v["range_m"],
                }
            )
        free_cars.sort(key=lambda v: v["distance_m"])
        result = {
            "bike_stations": bikes,
            "free_bikes": int((near & np.isin(kinds, list(BIKE_FORM_FACTORS))).sum()),
            "car_stations": cars,
            "free_cars": free_cars,
            "free_scooters": int((near & np.isin(kinds, list(SCOOTER_FORM_FACTORS))).sum()),
        }
        self._sharing[hub.hub_id] = (index, result)
        return result

    # -- chargers ------------------------------------------------------------------------------

    def chargers_near(self, hub: _Hub, index: ChargerIndex) -> list[dict[str, Any]]:
        """The hub's listed charging locations, else those within its radius, per EVSE."""
        cached = self._chargers.get(hub.hub_id)
        if cached is not None and cached[0] is index:
            return cached[1]
        d = distances_m(index.lat, index.lon, hub.lat, hub.lon)
        if hub.config.chargers:
            picked = [index.by_id[c] for c in hub.config.chargers if c in index.by_id]
        else:
            picked = [i for i in np.argsort(d, kind="stable").tolist() if d[i] <= hub.config.radius_m]
        out = []
        for i in picked:
            row = index.rows[i]
            out.append(
                {
                    "location_id": row["location_id"],
                    "name": row["name"],
                    "lat": row["lat"],
                    "lon": row["lon"],
                    "distance_m": round(float(d[i]), 1),
                    "evses": [
                        {
                            "evse_uid": e["evse_uid"],
                            "evse_id": e["evse_id"],
                            "status": e["status"],
                            "max_power_kw": e["max_power_kw"],
                            "connectors": [
                                {"standard": c["standard"], "max_power_kw": c["max_power_kw"]}
                                for c in e["connectors"]
                            ],
                        }
                        for e in row["evses"]
                    ],
                }
            )
        self._chargers[hub.hub_id] = (index, out)
        return out

    # -- the aggregate -------------------------------------------------------------------------

    def document(self, hub: _Hub, limit: int, window_s: int) -> dict[str, Any]:
        """The hub answer of the API contract, now (the same within a second of the same state)."""
        tz = self.tz
        now = dt.datetime.now(tz)
        state = self.svc.live_state()
        shared = sharing_index(state.sharing(now), tz)
        points = charger_index(state.chargers(now))
        key = (second_of(state.clock), "hub", hub.hub_id, limit, window_s)
        deps = (shared, points, state.overlay())
        cached: dict[str, Any] | None = self._answers.get(key, deps)
        if cached is None:
            cached = self._document(hub, limit, window_s, now, shared, points)
            self._answers.put(key, deps, cached)
        return cached

    def _document(
        self,
        hub: _Hub,
        limit: int,
        window_s: int,
        now: dt.datetime,
        shared: SharingIndex,
        points: ChargerIndex,
    ) -> dict[str, Any]:
        tz = self.tz
        statuses = self.svc.live_state().feed_status()
        try:
            result = departure_board().departures(list(hub.config.stops), now, window_s, limit)
            departures = {
                **freshness(statuses, ("gtfs-rt",), tz, stale_without=False),
                "realtime": result.realtime,
                "items": result.items,
            }
        except ApiProblem as exc:  # no timetable: the hub still shows sharing and chargers
            if exc.status != 503:
                raise
            departures = {"as_of": None, "age_s": None, "stale": True, "realtime": False, "items": [],
                          "problem": exc.detail}  # fmt: skip
        sharing = self.sharing_near(hub, shared)
        chargers = self.chargers_near(hub, points)
        gbfs = freshness(statuses, ("gbfs",), tz)
        return {
            **hub.summary(),
            "as_of": rfc3339(now, tz),
            "departures": departures,
            "bikes": {**gbfs, "stations": sharing["bike_stations"], "free_floating": sharing["free_bikes"]},
            "cars": {**gbfs, "stations": sharing["car_stations"], "vehicles": sharing["free_cars"]},
            "scooters": {**gbfs, "free_floating": sharing["free_scooters"]},
            "chargers": {**freshness(statuses, ("ocpi",), tz), "locations": chargers},
        }


def hub_views() -> HubViews:
    """The process's :class:`HubViews`."""
    from flask import current_app

    found: HubViews = current_app.extensions["knoten.hubs"]
    return found


def create_hubs_blueprint() -> APIBlueprint:
    """Routes of the hubs capability under ``/api/v1/hubs``."""
    bp = APIBlueprint("hubs", __name__, url_prefix="/api/v1/hubs", abp_tags=[hubs_tag])

    @bp.get("", responses={200: HubsResponse, **problems(503)})
    def list_hubs() -> Response:
        """Every mobility hub with its point, radius and display languages."""
        hubs = hub_views().hubs()
        return json_response({"hubs": [h.summary() for h in hubs.values()]}, max_age_s=10)

    @bp.get("/<hub_id>", responses={200: HubResponse, **problems(400, 404, 503)})
    def get_hub(path: HubPath, query: HubQuery) -> Response:
        """A hub's departures, bikes and docks, shared cars and chargers, with their freshness.

        The ETag leaves out the time of the answer and the data ages: a display polling with
        If-None-Match gets 304 until a departure, an offer, a charger or a staleness changes.
        """
        views = hub_views()
        hub = views.hub(path.hub_id)
        doc = views.document(hub, query.limit, query.window_s)
        stable = without_keys({k: v for k, v in doc.items() if k != "as_of"}, frozenset({"age_s"}))
        return json_response(doc, max_age_s=10, etag_of=stable)

    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach the hub routes and the process's hub views to ``app``."""
    app.extensions["knoten.hubs"] = HubViews(services(app), settings)
    app.register_api(create_hubs_blueprint())
    app.config["KNOTEN_CAPABILITIES"].append("hubs")
