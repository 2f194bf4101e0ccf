"""OCPI 2.2.1 Locations of the demo city and one day of charging sessions at the station hub."""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scenarios.demo.city import FICTIONAL_LABEL, City, to_lat_lon
from scenarios.demo.gbfs import rfc3339

COUNTRY_CODE = "DE"
PARTY_ID = "KNO"
OPERATOR_NAME = "Stadtwerke Knotenstadt Ladenetz (fictional)"
HUB_LOCATION_ID = "LOC-HBF"
TIMEZONE = "Europe/Berlin"
SESSION_COLUMNS = ("session_id", "evse_id", "arrival", "departure", "energy_kwh", "max_kw")
STATUS_WEIGHTS = (
    ("AVAILABLE", 55),
    ("CHARGING", 25),
    ("OUTOFORDER", 6),
    ("BLOCKED", 5),
    ("RESERVED", 5),
    ("INOPERATIVE", 4),
)


@dataclass(frozen=True)
class EvseSpec:
    """One charge point: its power and whether it is DC."""

    uid: str
    power_kw: float
    dc: bool


# location id, name, landmark, street address, list of (power kW, DC?) per EVSE, parking type
LOCATIONS: tuple[tuple[str, str, str, str, tuple[tuple[float, bool], ...], str], ...] = (
    (
        HUB_LOCATION_ID,
        "Mobilitätshub Hauptbahnhof",
        "hbf",
        "Am Hauptbahnhof 1",
        ((22, False),) * 6 + ((150, True), (150, True), (50, True), (50, True)),
        "PARKING_GARAGE",
    ),
    ("LOC-MARKT", "Marktplatz", "grid_0_0", "Marktstraße 12", ((22, False), (22, False)), "ON_STREET"),
    (
        "LOC-RATHAUS",
        "Rathaus",
        "grid_0_1",
        "Bahnhofstraße 40",
        ((11, False), (11, False), (22, False)),
        "ON_STREET",
    ),
    ("LOC-KLINIKUM", "Klinikum", "ring_9", "Westring 5", ((11, False),) * 4, "PARKING_LOT"),
    (
        "LOC-HOCHSCHULE",
        "Hochschule",
        "ring_5",
        "Nordring 20",
        ((22, False), (22, False), (50, True)),
        "PARKING_LOT",
    ),
    (
        "LOC-GEWERBE",
        "Gewerbepark",
        "ring_11",
        "Südring 31",
        ((150, True), (150, True), (22, False)),
        "PARKING_LOT",
    ),
    ("LOC-STADTBAD", "Stadtbad", "grid_1_-1", "Schulstraße 3", ((11, False), (22, False)), "ON_STREET"),
)


def evse_specs(location_id: str) -> list[EvseSpec]:
    """EVSE uids and powers of a location (the uid equals the eMI3 EVSE id)."""
    for loc_id, _name, _lm, _addr, evses, _pt in LOCATIONS:
        if loc_id == location_id:
            short = loc_id.removeprefix("LOC-")
            return [
                EvseSpec(f"{COUNTRY_CODE}*{PARTY_ID}*E{short}{n:02d}", kw, dc)
                for n, (kw, dc) in enumerate(evses, start=1)
            ]
    raise KeyError(location_id)


def _connector(kw: float, now: datetime, *, dc: bool) -> dict[str, Any]:
    if dc:
        voltage, amperage = 500, round(kw * 1000 / 500)
        standard, fmt, power_type = "IEC_62196_T2_COMBO", "CABLE", "DC"
    else:
        voltage, amperage = 230, 16 if kw <= 11 else 32
        standard, fmt, power_type = "IEC_62196_T2", "SOCKET", "AC_3_PHASE"
    return {
        "id": "1",
        "standard": standard,
        "format": fmt,
        "power_type": power_type,
        "max_voltage": voltage,
        "max_amperage": amperage,
        "max_electric_power": int(kw * 1000),
        "tariff_ids": ["DC-STANDARD" if dc else "AC-STANDARD"],
        "last_updated": rfc3339(now),
    }


def build_locations(city: City, seed: int, now: datetime) -> list[dict[str, Any]]:
    """OCPI 2.2.1 Location objects (with EVSEs and connectors) for the demo city."""
    rng = random.Random(seed * 15485863 + 5)
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    out = []
    for loc_id, name, landmark, address, _evses, parking in LOCATIONS:
        x, y = city.xy(city.landmarks[landmark])
        if landmark != "hbf":
            x, y = x - 15.0, y + 15.0
        lat, lon = to_lat_lon(x, y)
        evses = []
        for n, spec in enumerate(evse_specs(loc_id), start=1):
            e_lat, e_lon = to_lat_lon(x + 3.0 * n, y)
            caps = ["RFID_READER", "REMOTE_START_STOP_CAPABLE"] + (["CREDIT_CARD_PAYABLE"] if spec.dc else [])
            evses.append(
                {
                    "uid": spec.uid,
                    "evse_id": spec.uid,
                    "status": rng.choices(statuses, weights)[0],
                    "capabilities": caps,
                    "connectors": [_connector(spec.power_kw, now, dc=spec.dc)],
                    "coordinates": {"latitude": f"{e_lat:.6f}", "longitude": f"{e_lon:.6f}"},
                    "physical_reference": str(n),
                    "floor_level": "-1" if parking == "PARKING_GARAGE" else "0",
                    "parking_restrictions": ["EV_ONLY"],
                    "last_updated": rfc3339(now),
                }
            )
        out.append(
            {
                "country_code": COUNTRY_CODE,
                "party_id": PARTY_ID,
                "id": loc_id,
                "publish": True,
                "name": f"{name}, {FICTIONAL_LABEL}",
                "address": address,
                "city": "Knotenstadt",
                "postal_code": "59000",
                "state": "Nordrhein-Westfalen",
                "country": "DEU",
                "coordinates": {"latitude": f"{lat:.6f}", "longitude": f"{lon:.6f}"},
                "parking_type": parking,
                "evses": evses,
                "operator": {"name": OPERATOR_NAME, "website": "https://knotenstadt.example.com/laden"},
                "time_zone": TIMEZONE,
                "opening_times": {"twentyfourseven": True},
                "charging_when_closed": True,
                "last_updated": rfc3339(now),
            }
        )
    return out


def write_locations(city: City, seed: int, now: datetime, path: Path) -> dict[str, int]:
    """Write ``locations.json`` (a JSON list of Locations) and return counts."""
    locations = build_locations(city, seed, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(locations, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {
        "locations": len(locations),
        "evses": sum(len(loc["evses"]) for loc in locations),
        "connectors": sum(len(e["connectors"]) for loc in locations for e in loc["evses"]),
    }


def build_sessions(seed: int, day: date) -> list[dict[str, str]]:
    """One day of charging sessions at the station hub, per EVSE without overlaps."""
    rng = random.Random(seed * 32452843 + 7)
    tz = ZoneInfo(TIMEZONE)
    rows: list[tuple[datetime, str, datetime, datetime, float, float]] = []
    day_start = datetime.combine(day, time(0, 0), tzinfo=tz)
    for spec in evse_specs(HUB_LOCATION_ID):
        clock = day_start + timedelta(minutes=rng.randint(5 * 60, 7 * 60 + 30))
        end_of_day = day_start + timedelta(hours=22)
        while clock < end_of_day:
            if spec.dc:
                dwell = timedelta(minutes=rng.randint(15, 50))
                vehicle_kw = rng.choice((50.0, 100.0, 150.0, 250.0))
            else:
                dwell = timedelta(minutes=rng.randint(60, 9 * 60))
                vehicle_kw = rng.choice((7.4, 11.0, 11.0, 22.0))
            max_kw = min(spec.power_kw, vehicle_kw)
            arrival = clock
            departure = min(arrival + dwell, day_start + timedelta(hours=23, minutes=59))
            hours = (departure - arrival).total_seconds() / 3600.0
            need_kwh = rng.uniform(8.0, 60.0)
            energy = round(min(need_kwh, max_kw * hours * rng.uniform(0.55, 0.9)), 2)
            rows.append((arrival, spec.uid, arrival, departure, energy, max_kw))
            clock = departure + timedelta(minutes=rng.randint(5, 120 if spec.dc else 240))
    rows.sort(key=lambda r: (r[0], r[1]))
    out = []
    for n, (_a, evse, arrival, departure, energy, max_kw) in enumerate(rows, start=1):
        out.append(
            {
                "session_id": f"S{day:%Y%m%d}-{n:04d}",
                "evse_id": evse,
                "arrival": arrival.isoformat(),
                "departure": departure.isoformat(),
                "energy_kwh": f"{energy:.2f}",
                "max_kw": f"{max_kw:g}",
            }
        )
    return out


def write_sessions(seed: int, day: date, path: Path) -> int:
    """Write ``sessions.csv`` and return the number of sessions."""
    rows = build_sessions(seed, day)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(SESSION_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return len(rows)
