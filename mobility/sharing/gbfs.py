"""GBFS 2.x / 3.0 parsing with validation against the official JSON Schemas.

One code path serves files, folders and URLs: :func:`read_system` starts from a discovery file
(``gbfs.json``; ``manifest.json`` lists several systems) and asks a ``fetch`` callable for every
listed file. :func:`load_gbfs` uses a fetcher over a folder (listed URLs are resolved to the file of
the same name in that folder); :mod:`mobility.sharing.client` uses one over HTTP.

Validation: each document is checked against the bundled schema of its version (2.3 and 3.0, from
MobilityData, Apache-2.0, see ``schemas/LICENSE``); problems carry the file, the JSON path and the
message. Feeds of older 2.x versions have no bundled schema and are only checked structurally.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from mobility.errors import FeedError, FeedProblem
from mobility.sharing.model import (
    GeofencingRule,
    GeofencingZone,
    PricingPlan,
    SharingSnapshot,
    SharingSystem,
    Station,
    Vehicle,
    VehicleType,
)

logger = logging.getLogger(__name__)

#: Versions with a bundled JSON Schema.
SCHEMA_VERSIONS = ("2.3", "3.0")
#: The files whose content changes by the minute (their age is the feed's age).
STATUS_FILES = ("station_status", "vehicle_status", "free_bike_status")
#: Files the parser turns into the model (others are only validated).
MODEL_FILES = (
    "system_information",
    "station_information",
    "station_status",
    "free_bike_status",
    "vehicle_status",
    "vehicle_types",
    "geofencing_zones",
    "system_pricing_plans",
)
#: The order in which listed files are applied: system first, types before vehicles.
_ORDER = {
    name: i
    for i, name in enumerate(
        (
            "system_information",
            "vehicle_types",
            "station_information",
            "station_status",
            "free_bike_status",
            "vehicle_status",
            "geofencing_zones",
            "system_pricing_plans",
        )
    )
}

Fetch = Callable[[str], bytes]


@dataclass
class GbfsFeed:
    """Result of reading one GBFS system: the snapshot plus what was found on the way."""

    snapshot: SharingSnapshot
    version: str
    ttl_s: int
    files: dict[str, datetime | None] = field(default_factory=dict)
    problems: list[FeedProblem] = field(default_factory=list)
    warnings: list[FeedProblem] = field(default_factory=list)

    @property
    def last_updated(self) -> datetime | None:
        """How old the live part is: the oldest ``last_updated`` of the status files
        (station_status, vehicle_status/free_bike_status), else of all files read."""
        status = [t for f, t in self.files.items() if t is not None and f.split(".")[0] in STATUS_FILES]
        times = status or [t for t in self.files.values() if t is not None]
        return min(times) if times else None


# ---------------------------------------------------------------------------------------------
# values


def parse_timestamp(value: Any) -> datetime | None:
    """A GBFS timestamp (POSIX seconds in 2.x, RFC 3339 in 3.0) as an aware UTC datetime."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return t if t.tzinfo is not None else t.replace(tzinfo=UTC)
    return None


def _text(value: Any) -> str | None:
    """A plain string, or the English (else first) text of a 3.0 localized string list."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        for item in value:
            if isinstance(item, Mapping) and str(item.get("language", "")).startswith("en"):
                return str(item.get("text", ""))
        first = value[0]
        return str(first.get("text", "")) if isinstance(first, Mapping) else str(first)
    return str(value)


def _bool(value: Any, *, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return default


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _int(value: Any, default: int = 0) -> int:
    num = _num(value)
    return default if num is None else int(num)


# ---------------------------------------------------------------------------------------------
# validation


@cache
def _validator(version: str, name: str) -> Draft7Validator | None:
    folder = resources.files("mobility.sharing").joinpath("schemas", f"v{version}")
    schema_file = folder.joinpath(f"{name}.json")
    if not schema_file.is_file():
        return None
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    return Draft7Validator(schema)


def schema_version(version: str) -> str | None:
    """The bundled schema version for a feed version (None for versions without one)."""
    return version if version in SCHEMA_VERSIONS else None


def validate_document(
    name: str, version: str, doc: Any, file: str | None = None, warnings: list[FeedProblem] | None = None
) -> list[FeedProblem]:
    """Every problem of one GBFS document against the official schema of its version.

    Violations in fields the model reads (ids, coordinates, counts, flags, timestamps) are
    returned as problems; others (missing contact e-mail, a null geometry of a zone that is then
    skipped, ...) go to ``warnings`` when given, else are dropped.
    """
    file = file or f"{name}.json"
    sv = schema_version(version)
    if sv is None:
        return _structure_problems(name, doc, file)
    validator = _validator(sv, name)
    if validator is None:
        return _structure_problems(name, doc, file)
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        path = "/" + "/".join(str(p) for p in err.absolute_path)
        message = err.message if len(err.message) <= 200 else err.message[:197] + "..."
        problem = FeedProblem(file, path, message)
        if not _is_essential(err):
            problem.message = f"{message} (does not affect use)"
            if warnings is not None:
                warnings.append(problem)
            continue
        problems.append(problem)
    return problems


#: Fields the model reads: a schema violation there makes the document unusable.
ESSENTIAL_FIELDS = frozenset(
    {
        "data", "last_updated", "ttl", "version", "feeds", "name", "url", "stations", "vehicles",
        "bikes", "station_id", "vehicle_id", "bike_id", "lat", "lon", "num_bikes_available",
        "num_vehicles_available", "num_docks_available", "is_renting", "is_returning", "is_installed",
        "is_reserved", "is_disabled", "vehicle_type_id", "vehicle_types", "vehicle_types_available",
        "count", "form_factor", "propulsion_type", "system_id", "last_reported", "geofencing_zones",
        "features", "plans", "plan_id", "price", "currency", "is_taxable", "capacity",
        "home_station_id", "current_range_meters", "ride_allowed", "ride_start_allowed",
        "ride_end_allowed", "datasets", "versions", "timezone",
    }
)  # fmt: skip
_FATAL_VALIDATORS = frozenset(
    {"type", "required", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "const"}
)


def _is_essential(err: Any) -> bool:
    """A schema error in a field the model reads (wrong type, missing, out of range)."""
    if err.validator not in _FATAL_VALIDATORS:
        return False
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else ""
        return missing in ESSENTIAL_FIELDS
    keys = [p for p in err.absolute_path if isinstance(p, str)]
    if not keys:
        return True
    return keys[-1] in ESSENTIAL_FIELDS and (keys[-1] != "data" or len(keys) == 1)


#: Numbers the model reads from stations and vehicles, checked in every version (a count must be a
#: non-negative integer, a coordinate a number in range); ids and flags differ between 1.x and 2.x.
_NUMERIC_FIELDS: dict[str, tuple[float, float, bool]] = {
    "lat": (-90.0, 90.0, False),
    "lon": (-180.0, 180.0, False),
    "num_bikes_available": (0, math.inf, True),
    "num_vehicles_available": (0, math.inf, True),
    "num_docks_available": (0, math.inf, True),
    "capacity": (0, math.inf, True),
    "current_range_meters": (0, math.inf, False),
}


def _number_problem(value: Any, low: float, high: float, *, integer: bool) -> str | None:
    """Why ``value`` is not a number in ``[low, high]`` (an integer when asked), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{value!r} is not a number"
    if not math.isfinite(value) or not low <= value <= high:
        return f"{value!r} is outside {low:g}..{high:g}"
    if integer and value != int(value):
        return f"{value!r} is not a whole number"
    return None


def _item_problems(items: Any, key: str, file: str) -> list[FeedProblem]:
    if not isinstance(items, list):
        return [FeedProblem(file, f"/data/{key}", "not an array")]
    problems = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            problems.append(FeedProblem(file, f"/data/{key}/{i}", "expected a JSON object"))
            continue
        for field_name, (low, high, integer) in _NUMERIC_FIELDS.items():
            if field_name in item and item[field_name] is not None:
                why = _number_problem(item[field_name], low, high, integer=integer)
                if why is not None:
                    problems.append(FeedProblem(file, f"/data/{key}/{i}/{field_name}", why))
    return problems


def _structure_problems(name: str, doc: Any, file: str) -> list[FeedProblem]:
    """Checks for versions without a bundled schema: an object with ``data``, a timestamp, and
    the numbers the model reads (coordinates, counts, ranges) of stations and vehicles."""
    if not isinstance(doc, Mapping):
        return [FeedProblem(file, "/", "expected a JSON object")]
    data = doc.get("data")
    if not isinstance(data, Mapping):
        return [FeedProblem(file, "/data", "missing or not an object")]
    if "last_updated" in doc and parse_timestamp(doc["last_updated"]) is None:
        return [FeedProblem(file, "/last_updated", "not a timestamp")]
    problems = []
    for key in ("stations", "bikes", "vehicles"):
        if key in data:
            problems.extend(_item_problems(data[key], key, file))
    return problems


def decode_json(raw: bytes, file: str) -> Any:
    """Decode a JSON document; raises :class:`FeedError` with the position of a syntax error."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FeedError(f"{file}: not UTF-8", [FeedProblem(file, "/", f"not UTF-8 ({exc.reason})")]) from exc
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise FeedError(f"{file}: {msg}", [FeedProblem(file, "/", msg)]) from exc


def detect_version(doc: Any) -> str:
    """The GBFS version a document declares (``"1.0"`` when it declares none, as 1.x did)."""
    if isinstance(doc, Mapping) and isinstance(doc.get("version"), str):
        return str(doc["version"])
    if isinstance(doc, Mapping) and isinstance(doc.get("last_updated"), str):
        return "3.0"
    return "1.0"


# ---------------------------------------------------------------------------------------------
# documents -> model


@dataclass
class _Parts:
    """What the documents of one system said, collected before the snapshot is frozen."""

    system_id: str
    version: str
    ttl_s: int = 60
    system: SharingSystem | None = None
    vehicle_types: dict[str, VehicleType] = field(default_factory=dict)
    station_info: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    station_status: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    vehicles: list[Vehicle] = field(default_factory=list)
    zones: list[GeofencingZone] = field(default_factory=list)
    plans: list[PricingPlan] = field(default_factory=list)
    warnings: list[FeedProblem] = field(default_factory=list)


def _items(doc: Mapping[str, Any], key: str, file: str) -> list[Mapping[str, Any]]:
    data = doc.get("data")
    items = data.get(key) if isinstance(data, Mapping) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise FeedError(
            f"{file}: /data/{key} is not a list", [FeedProblem(file, f"/data/{key}", "not a list")]
        )
    return [item for item in items if isinstance(item, Mapping)]


def _system_information(parts: _Parts, doc: Mapping[str, Any], updated: datetime | None) -> None:
    data = doc.get("data") if isinstance(doc.get("data"), Mapping) else {}
    assert isinstance(data, Mapping)
    system_id = str(data.get("system_id") or parts.system_id)
    parts.system_id = system_id
    parts.system = SharingSystem(
        system_id=system_id,
        name=_text(data.get("name")) or system_id,
        timezone=data.get("timezone") if isinstance(data.get("timezone"), str) else None,
        version=parts.version,
        ttl_s=parts.ttl_s,
        last_updated=updated,
        operator=_text(data.get("operator")),
    )


def _vehicle_types(parts: _Parts, doc: Mapping[str, Any], file: str) -> None:
    for item in _items(doc, "vehicle_types", file):
        vid = str(item.get("vehicle_type_id", ""))
        if not vid:
            continue
        parts.vehicle_types[vid] = VehicleType(
            system_id=parts.system_id,
            vehicle_type_id=vid,
            form_factor=str(item.get("form_factor", "other")),
            propulsion=str(item.get("propulsion_type", "human")),
            name=_text(item.get("name")),
            max_range_m=_num(item.get("max_range_meters")),
            return_constraint=str(item["return_constraint"]) if item.get("return_constraint") else None,
        )


def _keyed(
    parts: _Parts, target: dict[str, Mapping[str, Any]], items: list[Mapping[str, Any]], file: str
) -> None:
    for i, item in enumerate(items):
        sid = item.get("station_id")
        if sid is None:
            continue
        sid = str(sid)
        if sid in target:
            parts.warnings.append(
                FeedProblem(file, f"/data/stations/{i}", f"duplicate station_id {sid!r} ignored")
            )
            continue
        target[sid] = item


def _vehicles(parts: _Parts, doc: Mapping[str, Any], file: str, key: str) -> None:
    for item in _items(doc, key, file):
        vid = item.get("vehicle_id", item.get("bike_id"))
        if vid is None:
            continue
        type_id = item.get("vehicle_type_id")
        vtype = parts.vehicle_types.get(str(type_id)) if type_id is not None else None
        station_id = item.get("station_id")
        home = item.get("home_station_id")
        lat, lon = _num(item.get("lat")), _num(item.get("lon"))
        parts.vehicles.append(
            Vehicle(
                system_id=parts.system_id,
                vehicle_id=str(vid),
                lat=lat,
                lon=lon,
                vehicle_type_id=None if type_id is None else str(type_id),
                # Without vehicle_types every vehicle is a human-powered bicycle (GBFS).
                form_factor=vtype.form_factor
                if vtype
                else ("bicycle" if not parts.vehicle_types else "other"),
                propulsion=vtype.propulsion if vtype else ("human" if not parts.vehicle_types else "unknown"),
                station_id=None if station_id is None else str(station_id),
                is_reserved=_bool(item.get("is_reserved"), default=False),
                is_disabled=_bool(item.get("is_disabled"), default=False),
                current_range_m=_num(item.get("current_range_meters")),
                last_reported=parse_timestamp(item.get("last_reported")),
                home_station_id=None if home is None else str(home),
            )
        )


def _rule(rule: Mapping[str, Any]) -> GeofencingRule:
    ids = rule.get("vehicle_type_ids", rule.get("vehicle_type_id")) or ()
    if "ride_allowed" in rule:  # 2.x: one flag for starting and ending a ride
        start = end = _bool(rule.get("ride_allowed"), default=True)
    else:
        start = _bool(rule.get("ride_start_allowed"), default=True)
        end = _bool(rule.get("ride_end_allowed"), default=True)
    return GeofencingRule(
        vehicle_type_ids=tuple(str(i) for i in ids) if isinstance(ids, list) else (),
        ride_start_allowed=start,
        ride_end_allowed=end,
        ride_through_allowed=_bool(rule.get("ride_through_allowed"), default=True),
        maximum_speed_kph=_num(rule.get("maximum_speed_kph")),
        station_parking=None
        if rule.get("station_parking") is None
        else _bool(rule.get("station_parking"), default=False),
    )


def _geofencing(parts: _Parts, doc: Mapping[str, Any], file: str) -> None:
    data = doc.get("data")
    fc = data.get("geofencing_zones") if isinstance(data, Mapping) else None
    if not isinstance(fc, Mapping):
        return
    features = fc.get("features")
    for feature in features if isinstance(features, list) else ():
        if not isinstance(feature, Mapping) or not isinstance(feature.get("geometry"), Mapping):
            continue
        props = feature.get("properties") if isinstance(feature.get("properties"), Mapping) else {}
        assert isinstance(props, Mapping)
        raw_rules = props.get("rules")
        rules = tuple(
            _rule(r) for r in (raw_rules if isinstance(raw_rules, list) else ()) if isinstance(r, Mapping)
        )
        parts.zones.append(
            GeofencingZone(parts.system_id, _text(props.get("name")), feature["geometry"], rules)
        )


def _pricing(parts: _Parts, doc: Mapping[str, Any], file: str) -> None:
    for item in _items(doc, "plans", file):
        parts.plans.append(
            PricingPlan(
                system_id=parts.system_id,
                plan_id=str(item.get("plan_id", "")),
                name=_text(item.get("name")) or "",
                currency=str(item.get("currency", "")),
                price=_num(item.get("price")) or 0.0,
                is_taxable=_bool(item.get("is_taxable"), default=False),
            )
        )


def _station(
    parts: _Parts, sid: str, info: Mapping[str, Any], status: Mapping[str, Any] | None
) -> Station | None:
    lat, lon = _num(info.get("lat")), _num(info.get("lon"))
    if lat is None or lon is None:
        return None
    status = status or {}
    per_type: dict[str, int] = {}
    available = status.get("vehicle_types_available")
    for entry in available if isinstance(available, list) else ():
        if isinstance(entry, Mapping) and entry.get("vehicle_type_id") is not None:
            per_type[str(entry["vehicle_type_id"])] = _int(entry.get("count"))
    total = status.get("num_vehicles_available", status.get("num_bikes_available"))
    docks = status.get("num_docks_available")
    return Station(
        system_id=parts.system_id,
        station_id=sid,
        name=_text(info.get("name")) or sid,
        lat=lat,
        lon=lon,
        num_vehicles_available=_int(total, sum(per_type.values())),
        vehicles_available=per_type,
        num_docks_available=None if docks is None else _int(docks),
        # Without a status the station is not known to rent or take back anything.
        is_renting=_bool(status.get("is_renting"), default=bool(status)),
        is_returning=_bool(status.get("is_returning"), default=bool(status)),
        is_installed=_bool(status.get("is_installed"), default=True),
        capacity=None if info.get("capacity") is None else _int(info.get("capacity")),
        is_virtual=_bool(info.get("is_virtual_station"), default=False),
        last_reported=parse_timestamp(status.get("last_reported")),
    )


def apply_document(parts: _Parts, name: str, doc: Mapping[str, Any], file: str) -> None:
    """Add what one GBFS document says to the collected parts of its system."""
    updated = parse_timestamp(doc.get("last_updated"))
    if name == "system_information":
        _system_information(parts, doc, updated)
    elif name == "vehicle_types":
        _vehicle_types(parts, doc, file)
    elif name == "station_information":
        _keyed(parts, parts.station_info, _items(doc, "stations", file), file)
    elif name == "station_status":
        _keyed(parts, parts.station_status, _items(doc, "stations", file), file)
    elif name in ("free_bike_status", "vehicle_status"):
        _vehicles(parts, doc, file, "bikes" if name == "free_bike_status" else "vehicles")
    elif name == "geofencing_zones":
        _geofencing(parts, doc, file)
    elif name == "system_pricing_plans":
        _pricing(parts, doc, file)


def _freeze(parts: _Parts, as_of: datetime) -> SharingSnapshot:
    stations = []
    for sid, info in parts.station_info.items():
        st = _station(parts, sid, info, parts.station_status.get(sid))
        if st is not None:
            stations.append(st)
    by_id = {s.station_id: s for s in stations}
    vehicles = []
    for v in parts.vehicles:
        if (v.lat is None or v.lon is None) and v.station_id in by_id:
            st = by_id[v.station_id]
            v = Vehicle(**{**_asdict(v), "lat": st.lat, "lon": st.lon})
        vehicles.append(v)
    system = parts.system or SharingSystem(
        parts.system_id, parts.system_id, None, parts.version, parts.ttl_s, None
    )
    return SharingSnapshot(
        systems=(system,),
        stations=tuple(stations),
        vehicles=tuple(vehicles),
        vehicle_types=tuple(parts.vehicle_types.values()),
        geofencing_zones=tuple(parts.zones),
        as_of=as_of,
        pricing_plans=tuple(parts.plans),
    )


def _asdict(v: Vehicle) -> dict[str, Any]:
    return {name: getattr(v, name) for name in Vehicle.__slots__}  # type: ignore[attr-defined]


def file_kind(filename: str) -> str | None:
    """The GBFS file a file name stands for (``station_status.json``, ``vehicle_status__2.json``)."""
    stem = Path(filename).name.split(".")[0].split("__")[0]
    known = {*MODEL_FILES, "gbfs", "manifest", "gbfs_versions", "system_alerts", "system_regions"}
    known |= {"system_hours", "system_calendar"}
    return stem if stem in known else None


# ---------------------------------------------------------------------------------------------
# discovery


def _feed_list(doc: Mapping[str, Any], file: str) -> list[tuple[str, str]]:
    """(name, url) of every file a ``gbfs.json`` lists (2.x: per language, English preferred)."""
    data = doc.get("data")
    if not isinstance(data, Mapping):
        raise FeedError(f"{file}: no data", [FeedProblem(file, "/data", "missing or not an object")])
    feeds = data.get("feeds")
    if feeds is None:  # 2.x: {"en": {"feeds": [...]}, ...}
        langs = [k for k, v in data.items() if isinstance(v, Mapping) and "feeds" in v]
        if not langs:
            raise FeedError(f"{file}: lists no feeds", [FeedProblem(file, "/data", "lists no feeds")])
        lang = "en" if "en" in langs else langs[0]
        feeds = data[lang]["feeds"]
    if not isinstance(feeds, list):
        raise FeedError(f"{file}: feeds is not a list", [FeedProblem(file, "/data/feeds", "not a list")])
    out = []
    for item in feeds:
        if (
            isinstance(item, Mapping)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("url"), str)
        ):
            out.append((item["name"], item["url"]))
    return out


def _fetch_doc(fetch: Fetch, url: str, file: str) -> Any:
    try:
        raw = fetch(url)
    except FeedError:
        raise
    except OSError as exc:
        raise FeedError(
            f"{file}: cannot read {url}: {exc}", [FeedProblem(file, "/", f"cannot read: {exc}")]
        ) from exc
    return decode_json(raw, file)


def parse_documents(
    docs: Mapping[str, tuple[str, Any]],
    *,
    version: str | None = None,
    system_id: str = "",
    ttl_s: int | None = None,
    validate: bool = True,
) -> GbfsFeed:
    """Parse already decoded GBFS documents (``name -> (file, document)``) of one system.

    Every document is validated against its version's schema first; a document with problems is
    still parsed as far as possible (the problems are in the result).
    """
    problems: list[FeedProblem] = []
    warnings: list[FeedProblem] = []
    files: dict[str, datetime | None] = {}
    ordered = sorted(docs.items(), key=lambda kv: _ORDER.get(kv[0], 99))
    first_doc = ordered[0][1][1] if ordered else {}
    version = version or detect_version(first_doc)
    ttls = []
    for name, (file, doc) in ordered:
        if validate:
            doc_version = detect_version(doc) if isinstance(doc, Mapping) and "version" in doc else version
            problems += validate_document(name, doc_version, doc, file, warnings)
        if isinstance(doc, Mapping):
            files[file] = parse_timestamp(doc.get("last_updated"))
            if isinstance(doc.get("ttl"), int) and name in (
                "station_status",
                "free_bike_status",
                "vehicle_status",
            ):
                ttls.append(int(doc["ttl"]))
    ttl = ttl_s if ttl_s is not None else (min(ttls) if ttls else 60)
    parts = _Parts(system_id=system_id or "system", version=version, ttl_s=ttl)
    for name, (file, doc) in ordered:
        if not isinstance(doc, Mapping):
            continue
        try:
            apply_document(parts, name, doc, file)
        except FeedError as exc:
            problems += exc.problems
    feed = GbfsFeed(
        SharingSnapshot.empty(datetime.now(UTC)), version, ttl, files, problems, warnings + parts.warnings
    )
    feed.snapshot = _freeze(parts, feed.last_updated or datetime.now(UTC))
    return feed


def read_system(url: str, fetch: Fetch, *, system_id: str = "") -> GbfsFeed:
    """Read one system from its ``gbfs.json`` and every file it lists, with ``fetch`` for I/O.

    Raises :class:`FeedError` when the discovery file itself cannot be read; problems of listed
    files are collected in the result (a listed file that cannot be read is one of them).
    """
    disc = _fetch_doc(fetch, url, "gbfs.json")
    version = detect_version(disc)
    warnings: list[FeedProblem] = []
    problems = validate_document("gbfs", version, disc, "gbfs.json", warnings)
    docs: dict[str, tuple[str, Any]] = {}
    for name, furl in _feed_list(disc, "gbfs.json"):
        if name == "gbfs" or file_kind(name) is None:
            continue
        file = f"{name}.json"
        try:
            if isinstance(fetch, FolderFetcher):
                docs[name] = (file, decode_json(fetch.for_feed(name, furl), file))
            else:
                docs[name] = (file, _fetch_doc(fetch, furl, file))
        except FeedError as exc:
            problems += exc.problems or [FeedProblem(file, "/", str(exc))]
    ttl = disc.get("ttl") if isinstance(disc, Mapping) else None
    feed = parse_documents(docs, version=version, system_id=system_id, ttl_s=None)
    feed.problems = problems + feed.problems
    feed.warnings = warnings + feed.warnings
    if isinstance(ttl, int) and not feed.files:
        feed.ttl_s = ttl
    return feed


_VERSION_RANK = {"3.0": 100, "2.3": 90, "2.2": 80, "2.1": 70, "2.0": 60, "1.1": 50, "1.0": 40}


def read_source(url: str, fetch: Fetch) -> list[GbfsFeed]:
    """Read every system behind a discovery URL: a ``gbfs.json`` or a 3.0 ``manifest.json``.

    From a manifest each dataset is read in its newest version this parser supports.
    """
    disc = _fetch_doc(fetch, url, Path(url.split("?")[0]).name or "gbfs.json")
    data = disc.get("data") if isinstance(disc, Mapping) else None
    if not (isinstance(data, Mapping) and isinstance(data.get("datasets"), list)):
        return [read_system(url, fetch)]
    problems = validate_document("manifest", detect_version(disc), disc, "manifest.json")
    if problems:
        raise FeedError("manifest.json is not valid", problems)
    feeds = []
    for ds in data["datasets"]:
        versions = [v for v in ds.get("versions", ()) if v.get("version") in _VERSION_RANK]
        if not versions:
            continue
        best = max(versions, key=lambda v: _VERSION_RANK[v["version"]])
        if isinstance(fetch, FolderFetcher):
            # A manifest in a folder: its URLs are remote; the folder holds at most one gbfs.json.
            if (fetch.folder / "gbfs.json").is_file():
                return [read_system(str(fetch.folder / "gbfs.json"), fetch)]
            continue
        feeds.append(read_system(best["url"], fetch, system_id=str(ds.get("system_id", ""))))
    return feeds


class FolderFetcher:
    """Reads listed URLs from a folder: the file of the URL's name, else the file of the feed's name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __call__(self, url: str) -> bytes:
        """The bytes of the file the URL names inside the folder."""
        name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        candidates = [name, f"{name}.json", name.replace("-", "_"), f"{name.replace('-', '_')}.json"]
        path = next((self.folder / c for c in candidates if (self.folder / c).is_file()), None)
        if path is None:
            raise FeedError(
                f"{name}: listed but not in {self.folder}", [FeedProblem(name, "/", "listed but missing")]
            )
        return path.read_bytes()

    def for_feed(self, name: str, url: str) -> bytes:
        """The listed file of feed ``name``: by URL, else ``<name>.json``."""
        try:
            return self(url)
        except FeedError:
            return self(f"{name}.json")


def folder_fetcher(folder: Path) -> Fetch:
    """A fetcher that reads every listed URL as the file of the same name in ``folder``."""
    return FolderFetcher(folder)


_DATA_KEYS = (
    ("feeds", "gbfs"),
    ("datasets", "manifest"),
    ("versions", "gbfs_versions"),
    ("vehicles", "vehicle_status"),
    ("bikes", "free_bike_status"),
    ("vehicle_types", "vehicle_types"),
    ("plans", "system_pricing_plans"),
    ("regions", "system_regions"),
    ("alerts", "system_alerts"),
    ("geofencing_zones", "geofencing_zones"),
    ("rental_hours", "system_hours"),
    ("calendars", "system_calendar"),
    ("system_id", "system_information"),
)


def guess_kind(doc: Any) -> str | None:
    """Which GBFS file a document is, from the keys under ``data`` (for files with other names)."""
    data = doc.get("data") if isinstance(doc, Mapping) else None
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("stations"), list):
        first = next((s for s in data["stations"] if isinstance(s, Mapping)), {})
        return "station_information" if "lat" in first else "station_status"
    for key, kind in _DATA_KEYS:
        if key in data:
            return kind
    if any(isinstance(v, Mapping) and "feeds" in v for v in data.values()):
        return "gbfs"
    return None


def load_gbfs(path: str | Path) -> list[GbfsFeed]:
    """Read GBFS from a folder (``gbfs.json``, ``manifest.json`` or loose files) or one file."""
    path = Path(path)
    if path.is_dir():
        for disc in ("gbfs.json", "manifest.json"):
            if (path / disc).is_file():
                return read_source(str(path / disc), folder_fetcher(path))
        files = sorted(path.glob("*.json"))
    elif path.is_file():
        if file_kind(path.name) in ("gbfs", "manifest"):
            return read_source(str(path), folder_fetcher(path.parent))
        files = [path]
    else:
        raise FeedError(
            f"{path}: no such file or folder", [FeedProblem(str(path), "/", "no such file or folder")]
        )
    docs: dict[str, tuple[str, Any]] = {}
    for f in files:
        kind = file_kind(f.name)
        if kind is None and path.is_file():
            doc = decode_json(f.read_bytes(), f.name)
            kind = guess_kind(doc)
            if kind in ("gbfs", "manifest"):
                return read_source(str(path), folder_fetcher(path.parent))
            if kind is not None:
                docs[kind] = (f.name, doc)
        elif kind is not None:
            docs[kind] = (f.name, decode_json(f.read_bytes(), f.name))
    if not docs:
        raise FeedError(f"{path}: no GBFS files", [FeedProblem(str(path), "/", "no GBFS files found")])
    return [parse_documents(docs)]


def load_snapshot(paths: str | Path | list[str | Path]) -> SharingSnapshot:
    """One snapshot of every system in the given folders/files; raises :class:`FeedError` on problems."""
    items = paths if isinstance(paths, list) else [paths]
    feeds = [feed for p in items for feed in load_gbfs(p)]
    problems = [p for feed in feeds for p in feed.problems]
    if problems:
        raise FeedError(
            f"GBFS not valid: {problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""),
            problems,
        )
    return (
        SharingSnapshot.merge([f.snapshot for f in feeds], as_of=None)
        if feeds
        else SharingSnapshot.empty(datetime.now(UTC))
    )
