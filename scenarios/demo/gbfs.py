"""GBFS 3.0 feeds of the demo city's three (fictional) sharing systems.

Contents are seeded; only ``last_updated``/``last_reported`` depend on the build time. Feed URLs in
``gbfs.json`` are absolute (the schema requires URIs) and end in ``<feed>.json`` next to gbfs.json,
so a client that loaded gbfs.json from a folder resolves every feed by its basename relative to it.
"""

from __future__ import annotations

import json
import math
import random
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from scenarios.demo.city import FICTIONAL_LABEL, City, to_lat_lon

GBFS_VERSION = "3.0"
DEMO_GBFS_BASE_URL = "http://127.0.0.1:8000/demo/gbfs"
TIMEZONE = "Europe/Berlin"
LANG = "de"
CONTACT = "sharing@knotenstadt.example.com"


def _text(value: str) -> list[dict[str, str]]:
    return [{"text": value, "language": LANG}]


def rfc3339(ts: datetime) -> str:
    """An aware datetime as RFC 3339 with offset, whole seconds."""
    if ts.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return ts.replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class SharingStation:
    """A sharing station in local coordinates."""

    station_id: str
    name: str
    x_m: float
    y_m: float
    capacity: int


def _envelope(data: dict[str, Any], now: datetime, ttl: int) -> dict[str, Any]:
    return {"last_updated": rfc3339(now), "ttl": ttl, "version": GBFS_VERSION, "data": data}


def _random_point(rng: random.Random, radius_m: float) -> tuple[float, float]:
    r = radius_m * math.sqrt(rng.random())
    a = rng.random() * 2 * math.pi
    return r * math.cos(a), r * math.sin(a)


def _station_list(city: City, prefix: str, system_id: str) -> list[SharingStation]:
    """The stations of ``system_id`` as ``layout.toml`` places them, ids ``<prefix>-01`` on."""
    text = resources.files(__package__).joinpath("layout.toml").read_text(encoding="utf-8")
    picks = tomllib.loads(text)["sharing_stations"][system_id]
    out = []
    for n, (landmark, name, capacity) in enumerate(picks, start=1):
        x, y = city.xy(city.landmarks[landmark])
        if landmark != "hbf":
            x, y = x + 12.0, y + 12.0  # on the corner, not in the junction
        out.append(SharingStation(f"{prefix}-{n:02d}", name, x, y, capacity))
    return out


def _system_information(system_id: str, name: str, short: str, now: datetime) -> dict[str, Any]:
    return {
        "system_id": system_id,
        "languages": [LANG],
        "name": _text(name),
        "short_name": _text(short),
        "operator": _text("Knotenstadt Mobil GmbH (fictional)"),
        "opening_hours": "Mo-Su 00:00-24:00",
        "start_date": "2024-04-01",
        "url": "https://knotenstadt.example.com/sharing",
        "feed_contact_email": CONTACT,
        "timezone": TIMEZONE,
        "license_url": "https://knotenstadt.example.com/sharing/license-fictional-demo-data",
    }


def _write(folder: Path, name: str, doc: dict[str, Any]) -> None:
    (folder / f"{name}.json").write_text(
        json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _gbfs_index(system_id: str, feeds: list[str], now: datetime) -> dict[str, Any]:
    base = f"{DEMO_GBFS_BASE_URL}/{system_id}"
    entries = [{"name": "gbfs", "url": f"{base}/gbfs.json"}] + [
        {"name": f, "url": f"{base}/{f}.json"} for f in feeds
    ]
    return _envelope({"feeds": entries}, now, 3600)


def write_gbfs(city: City, seed: int, now: datetime, out_dir: Path) -> dict[str, dict[str, int]]:
    """Write the three systems under ``out_dir/<system_id>/`` and return counts per system."""
    rng = random.Random(seed * 104729 + 3)
    counts: dict[str, dict[str, int]] = {}
    counts["knotenrad"] = _docked_bikes(city, rng, now, out_dir / "knotenrad")
    counts["knotenscoot"] = _free_floating_scooters(rng, now, out_dir / "knotenscoot")
    counts["knotencar"] = _car_sharing(city, rng, now, out_dir / "knotencar")
    return counts


# (feed name, ttl in seconds) in the order every system writes them; a system skips the feeds it lacks
_FEED_TTLS_S = (
    ("system_information", 86400),
    ("vehicle_types", 86400),
    ("station_information", 86400),
    ("station_status", 60),
    ("vehicle_status", 30),
    ("system_pricing_plans", 86400),
)


def _write_system(
    folder: Path, system_id: str, short_name: str, now: datetime, data: dict[str, dict[str, Any]]
) -> None:
    """Write one system's feeds (``data`` by feed name, system information added) and its ``gbfs.json``."""
    name = f"{short_name}, {FICTIONAL_LABEL}"
    data = {"system_information": _system_information(system_id, name, short_name, now), **data}
    feeds = []
    for feed, ttl in _FEED_TTLS_S:
        if feed in data:
            _write(folder, feed, _envelope(data[feed], now, ttl))
            feeds.append(feed)
    _write(folder, "gbfs", _gbfs_index(system_id, feeds, now))


def _station_information(st: SharingStation, **extra: Any) -> dict[str, Any]:
    """A station's ``station_information`` entry: what every system says, then ``extra``."""
    lat, lon = to_lat_lon(st.x_m, st.y_m)
    return {
        "station_id": st.station_id,
        "name": _text(st.name),
        "lat": lat,
        "lon": lon,
        "address": f"{st.name}, Knotenstadt",
        "capacity": st.capacity,
        "is_virtual_station": False,
        **extra,
    }


def _vehicle_type(
    type_id: str,
    form_factor: str,
    propulsion: str,
    name: str,
    *,
    plan_id: str,
    return_constraint: str,
    accessories: list[str] | None = None,
    **specs: Any,
) -> dict[str, Any]:
    """A ``vehicle_types`` entry with one pricing plan; ``specs`` (speed, range, power) in order."""
    entry = {
        "vehicle_type_id": type_id,
        "form_factor": form_factor,
        "propulsion_type": propulsion,
        "name": _text(name),
        "wheel_count": 4 if form_factor == "car" else 2,
        **specs,
        "return_constraint": return_constraint,
    }
    if accessories is not None:
        entry["vehicle_accessories"] = accessories
    entry["default_pricing_plan_id"] = plan_id
    entry["pricing_plan_ids"] = [plan_id]
    return entry


def _pricing_plan(
    plan_id: str, name: str, price_eur: float, description: str, **pricing: list[dict[str, float]]
) -> dict[str, Any]:
    """A ``system_pricing_plans`` entry (taxable, in euros); ``pricing``: per-minute, per-km segments."""
    return {
        "plan_id": plan_id,
        "name": _text(name),
        "currency": "EUR",
        "price": price_eur,
        "is_taxable": True,
        "description": _text(description),
        **pricing,
    }


def _segment(start: int, rate_eur: float, interval: int) -> list[dict[str, float]]:
    """One pricing segment: ``rate_eur`` per started ``interval`` (minutes or km) from ``start`` on."""
    return [{"start": start, "rate": rate_eur, "interval": interval}]


def _bike_types() -> list[dict[str, Any]]:
    """KnotenRad's vehicle types: city bikes and pedelecs."""
    return [
        _vehicle_type(
            "bike",
            "bicycle",
            "human",
            "KnotenRad Stadtrad",
            plan_id="rad-basis",
            return_constraint="any_station",
        ),
        _vehicle_type(
            "ebike",
            "bicycle",
            "electric_assist",
            "KnotenRad Pedelec",
            plan_id="rad-pedelec",
            return_constraint="any_station",
            max_permitted_speed=25,
            max_range_meters=60000.0,
        ),
    ]


def _bike_plans() -> list[dict[str, Any]]:
    """KnotenRad's pricing plans."""
    return [
        _pricing_plan(
            "rad-basis",
            "Basistarif",
            0.0,
            "1 € je angefangene 30 Minuten (fiktiv).",
            per_min_pricing=_segment(0, 1.0, 30),
        ),
        _pricing_plan(
            "rad-pedelec",
            "Pedelec",
            1.0,
            "1 € Entsperren, dann 0,10 € je Minute (fiktiv).",
            per_min_pricing=_segment(0, 0.1, 1),
        ),
    ]


def _docked_bikes(city: City, rng: random.Random, now: datetime, folder: Path) -> dict[str, int]:
    system_id = "knotenrad"
    folder.mkdir(parents=True, exist_ok=True)
    stations = _station_list(city, "kr", "knotenrad")
    types = _bike_types()
    info: list[dict[str, Any]] = []
    status: list[dict[str, Any]] = []
    for st in stations:
        docks = [{"vehicle_type_ids": ["bike", "ebike"], "count": st.capacity}]
        info.append(_station_information(st, vehicle_docks_capacity=docks))
        disabled_docks = 1 if rng.random() < 0.15 else 0
        bikes = rng.randint(0, st.capacity - disabled_docks)
        ebikes = rng.randint(0, bikes // 3)
        installed = rng.random() > 0.05
        free = st.capacity - disabled_docks - bikes
        status.append(
            {
                "station_id": st.station_id,
                "num_vehicles_available": bikes,
                "num_vehicles_disabled": 0,
                "vehicle_types_available": [
                    {"vehicle_type_id": "bike", "count": bikes - ebikes},
                    {"vehicle_type_id": "ebike", "count": ebikes},
                ],
                "num_docks_available": free,
                "num_docks_disabled": disabled_docks,
                "vehicle_docks_available": [{"vehicle_type_ids": ["bike", "ebike"], "count": free}],
                "is_installed": installed,
                "is_renting": installed,
                "is_returning": installed,
                "last_reported": rfc3339(now - timedelta(seconds=rng.randint(5, 240))),
            }
        )
    plans = _bike_plans()
    _write_system(
        folder,
        system_id,
        "KnotenRad",
        now,
        {
            "vehicle_types": {"vehicle_types": types},
            "station_information": {"stations": info},
            "station_status": {"stations": status},
            "system_pricing_plans": {"plans": plans},
        },
    )
    return {"stations": len(stations), "vehicles": sum(int(s["num_vehicles_available"]) for s in status)}


def _free_floating_scooters(rng: random.Random, now: datetime, folder: Path) -> dict[str, int]:
    system_id = "knotenscoot"
    folder.mkdir(parents=True, exist_ok=True)
    types = [
        _vehicle_type(
            "escooter",
            "scooter_standing",
            "electric",
            "Knoten E-Scooter",
            plan_id="scoot-minute",
            return_constraint="free_floating",
            max_permitted_speed=20,
            max_range_meters=30000.0,
        )
    ]
    vehicles = []
    for n in range(1, 41):
        x, y = _random_point(rng, 1100.0)
        lat, lon = to_lat_lon(x, y)
        charge = rng.uniform(0.08, 1.0)
        vehicles.append(
            {
                "vehicle_id": f"ks-{n:03d}",
                "lat": lat,
                "lon": lon,
                "is_reserved": rng.random() < 0.05,
                "is_disabled": charge < 0.1,
                "vehicle_type_id": "escooter",
                "current_range_meters": round(30000.0 * charge, 1),
                "current_fuel_percent": round(charge, 2),
                "last_reported": rfc3339(now - timedelta(seconds=rng.randint(5, 300))),
                "pricing_plan_id": "scoot-minute",
            }
        )
    plans = [
        _pricing_plan(
            "scoot-minute",
            "Minutentarif",
            1.0,
            "1 € Entsperren, dann 0,19 € je Minute (fiktiv).",
            per_min_pricing=_segment(0, 0.19, 1),
        )
    ]
    _write_system(
        folder,
        system_id,
        "KnotenScoot",
        now,
        {
            "vehicle_types": {"vehicle_types": types},
            "vehicle_status": {"vehicles": vehicles},
            "system_pricing_plans": {"plans": plans},
        },
    )
    return {"stations": 0, "vehicles": len(vehicles)}


def _car_types() -> list[dict[str, Any]]:
    """KnotenCar's vehicle types: station-based electric and petrol cars, free-floating e-cars."""
    comfort = ["air_conditioning", "automatic", "navigation"]
    return [
        _vehicle_type(
            "ecar",
            "car",
            "electric",
            "Kompakt-Elektroauto",
            plan_id="car-station",
            return_constraint="roundtrip_station",
            accessories=comfort,
            max_permitted_speed=150,
            max_range_meters=320000.0,
            rated_power=100000,
        ),
        _vehicle_type(
            "car",
            "car",
            "combustion",
            "Kleinwagen (Benzin)",
            plan_id="car-station",
            return_constraint="roundtrip_station",
            accessories=["air_conditioning", "manual"],
            max_permitted_speed=160,
            max_range_meters=600000.0,
        ),
        _vehicle_type(
            "ecar-flex",
            "car",
            "electric",
            "Elektroauto Flex",
            plan_id="car-flex",
            return_constraint="free_floating",
            accessories=list(comfort),
            max_permitted_speed=150,
            max_range_meters=400000.0,
        ),
    ]


def _car_plans() -> list[dict[str, Any]]:
    """KnotenCar's pricing plans: station-based and flex."""
    return [
        _pricing_plan(
            "car-station",
            "Stationstarif",
            0.0,
            "3 € je Stunde plus 0,25 € je km (fiktiv).",
            per_min_pricing=_segment(0, 3.0, 60),
            per_km_pricing=_segment(0, 0.25, 1),
        ),
        _pricing_plan(
            "car-flex",
            "Flextarif",
            0.0,
            "0,29 € je Minute, 50 km inklusive (fiktiv).",
            per_min_pricing=_segment(0, 0.29, 1),
            per_km_pricing=_segment(50, 0.29, 1),
        ),
    ]


def _flex_cars(rng: random.Random, now: datetime, *, first_number: int, count: int) -> list[dict[str, Any]]:
    """Free-floating e-cars parked at random within 1 km of the centre, numbered on from ``first_number``."""
    vehicles = []
    for n_vehicle in range(first_number, first_number + count):
        x, y = _random_point(rng, 1000.0)
        lat, lon = to_lat_lon(x, y)
        fill = rng.uniform(0.15, 1.0)
        vehicles.append(
            {
                "vehicle_id": f"kc-{n_vehicle:03d}",
                "lat": lat,
                "lon": lon,
                "is_reserved": False,
                "is_disabled": False,
                "vehicle_type_id": "ecar-flex",
                "current_range_meters": round(400000.0 * fill, 1),
                "current_fuel_percent": round(fill, 2),
                "pricing_plan_id": "car-flex",
                "last_reported": rfc3339(now - timedelta(seconds=rng.randint(10, 600))),
            }
        )
    return vehicles


def _car_sharing(city: City, rng: random.Random, now: datetime, folder: Path) -> dict[str, int]:
    system_id = "knotencar"
    folder.mkdir(parents=True, exist_ok=True)
    stations = _station_list(city, "kc", "knotencar")
    types = _car_types()
    info: list[dict[str, Any]] = []
    status: list[dict[str, Any]] = []
    vehicles: list[dict[str, Any]] = []
    n_vehicle = 0
    for st in stations:
        places = [{"vehicle_type_ids": ["ecar", "car"], "count": st.capacity}]
        info.append(_station_information(st, parking_type="parking_lot", vehicle_types_capacity=places))
        parked = {"ecar": 0, "car": 0}
        for _ in range(rng.randint(1, st.capacity)):
            n_vehicle += 1
            vtype = "ecar" if rng.random() < 0.5 else "car"
            fill = rng.uniform(0.2, 1.0)
            reserved = rng.random() < 0.15
            if not reserved:
                parked[vtype] += 1
            vehicles.append(
                {
                    "vehicle_id": f"kc-{n_vehicle:03d}",
                    "station_id": st.station_id,
                    "home_station_id": st.station_id,
                    "is_reserved": reserved,
                    "is_disabled": False,
                    "vehicle_type_id": vtype,
                    "current_range_meters": round((320000.0 if vtype == "ecar" else 600000.0) * fill, 1),
                    "current_fuel_percent": round(fill, 2),
                    "pricing_plan_id": "car-station",
                    "last_reported": rfc3339(now - timedelta(seconds=rng.randint(10, 600))),
                }
            )
        status.append(
            {
                "station_id": st.station_id,
                "num_vehicles_available": parked["ecar"] + parked["car"],
                "vehicle_types_available": [{"vehicle_type_id": k, "count": v} for k, v in parked.items()],
                "is_installed": True,
                "is_renting": True,
                "is_returning": True,
                "last_reported": rfc3339(now - timedelta(seconds=rng.randint(10, 300))),
            }
        )
    vehicles += _flex_cars(rng, now, first_number=n_vehicle + 1, count=8)
    plans = _car_plans()
    _write_system(
        folder,
        system_id,
        "KnotenCar",
        now,
        {
            "vehicle_types": {"vehicle_types": types},
            "station_information": {"stations": info},
            "station_status": {"stations": status},
            "vehicle_status": {"vehicles": vehicles},
            "system_pricing_plans": {"plans": plans},
        },
    )
    return {"stations": len(stations), "vehicles": len(vehicles)}
