"""The fictional demo city Knotenstadt, generated deterministically for every Knoten capability.

``build_demo_city(out_dir, seed)`` writes an OSM street network, a GTFS feed, three GBFS 3.0
systems, OCPI 2.2.1 locations, a SUMO scenario built from the OSM file and one day of charging
sessions. The same seed and build date give byte-identical files except the build timestamps
(GBFS/OCPI ``last_updated``/``last_reported`` and the manifest's ``built_at``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scenarios.demo.city import CENTRE_LAT, CENTRE_LON, FICTIONAL_LABEL, FICTIONAL_NOTE, build_city
from scenarios.demo.gbfs import rfc3339, write_gbfs
from scenarios.demo.gtfs import feed_period, write_gtfs
from scenarios.demo.ocpi import HUB_LOCATION_ID, write_locations, write_sessions
from scenarios.demo.osm import write_osm
from scenarios.demo.sumo import CONFIG_FILE, NET_FILE, build_scenario
from scenarios.demo.transit import HBF_STATION_ID, build_transit

__all__ = [
    "GBFS_SYSTEMS",
    "HUB_OCPI_LOCATION_ID",
    "HUB_STOP_ID",
    "DemoCity",
    "build_demo_city",
    "generator_fingerprint",
]

TIMEZONE = "Europe/Berlin"
HUB_STOP_ID = HBF_STATION_ID
HUB_OCPI_LOCATION_ID = HUB_LOCATION_ID
GBFS_SYSTEMS = ("knotenrad", "knotenscoot", "knotencar")
MANIFEST_FORMAT = 1
STEPS = (
    "street network",
    "timetable",
    "sharing feeds",
    "charging points",
    "charging sessions",
    "SUMO scenario",
    "manifest",
)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoCity:
    """Paths of a built demo city."""

    root: Path
    seed: int
    build_date: date

    @classmethod
    def load(cls, root: Path) -> DemoCity:
        """Open a finished build in ``root`` (seed and date from its manifest).

        Raises ``FileNotFoundError`` naming the manifest when ``root`` holds no finished build.
        """
        manifest_path = Path(root) / "manifest.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{manifest_path}: no demo city built here (run 'knoten demo build')")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        return cls(Path(root), int(manifest["seed"]), date.fromisoformat(manifest["build_date"]))

    @property
    def osm(self) -> Path:
        """OpenStreetMap XML of the street network."""
        return self.root / "osm" / "demo-city.osm"

    @property
    def gtfs(self) -> Path:
        """The GTFS zip."""
        return self.root / "gtfs" / "demo-city.gtfs.zip"

    @property
    def gbfs_dir(self) -> Path:
        """Folder with one sub-folder per GBFS system."""
        return self.root / "gbfs"

    def gbfs(self, system_id: str) -> Path:
        """The ``gbfs.json`` auto-discovery file of one system."""
        return self.gbfs_dir / system_id / "gbfs.json"

    @property
    def ocpi_locations(self) -> Path:
        """OCPI 2.2.1 Locations (a JSON list)."""
        return self.root / "ocpi" / "locations.json"

    @property
    def sumo_dir(self) -> Path:
        """The SUMO scenario folder."""
        return self.root / "sumo"

    @property
    def sumocfg(self) -> Path:
        """The SUMO configuration (relative paths inside ``sumo_dir``)."""
        return self.sumo_dir / CONFIG_FILE

    @property
    def sumo_net(self) -> Path:
        """The SUMO network with the signal programs."""
        return self.sumo_dir / NET_FILE

    @property
    def charging_sessions(self) -> Path:
        """One day of charging sessions at the station hub."""
        return self.root / "charging" / "sessions.csv"

    @property
    def manifest_path(self) -> Path:
        """What was built."""
        return self.root / "manifest.json"

    def files(self) -> list[Path]:
        """Every file the build promises to produce."""
        gbfs_files = [
            self.gbfs_dir / s / f"{feed}.json" for s, feeds in _GBFS_FEEDS.items() for feed in feeds
        ]
        sumo_files = [
            self.sumo_dir / n
            for n in (NET_FILE, CONFIG_FILE, "bus_stops.add.xml", "cars.rou.xml", "buses.rou.xml")
        ]
        return [
            self.osm,
            self.gtfs,
            *gbfs_files,
            self.ocpi_locations,
            *sumo_files,
            self.charging_sessions,
            self.manifest_path,
        ]

    def manifest(self) -> dict[str, Any]:
        """The parsed ``manifest.json``."""
        data: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        return data


_GBFS_FEEDS = {
    "knotenrad": (
        "gbfs",
        "system_information",
        "vehicle_types",
        "station_information",
        "station_status",
        "system_pricing_plans",
    ),
    "knotenscoot": ("gbfs", "system_information", "vehicle_types", "vehicle_status", "system_pricing_plans"),
    "knotencar": (
        "gbfs",
        "system_information",
        "vehicle_types",
        "station_information",
        "station_status",
        "vehicle_status",
        "system_pricing_plans",
    ),
}


def generator_fingerprint() -> str:
    """A hash of the generator's source, its layout data and the SUMO version.

    A change of any of them means the output may change.
    """
    digest = hashlib.sha256()
    sources = (p for p in Path(__file__).parent.iterdir() if p.suffix in {".py", ".toml"})
    for path in sorted(sources):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    try:
        from importlib.metadata import version

        digest.update(version("eclipse-sumo").encode())
    except Exception:  # pragma: no cover - SUMO from SUMO_HOME instead of the wheel
        digest.update(b"sumo-unknown")
    return digest.hexdigest()[:16]


def _is_current(city: DemoCity) -> bool:
    if not city.manifest_path.is_file():
        return False
    try:
        manifest = city.manifest()
    except (OSError, ValueError):
        return False
    same = (
        manifest.get("format") == MANIFEST_FORMAT
        and manifest.get("seed") == city.seed
        and manifest.get("build_date") == city.build_date.isoformat()
        and manifest.get("generator") == generator_fingerprint()
    )
    return same and all(p.is_file() for p in city.files())


def build_demo_city(
    out_dir: Path,
    seed: int = 42,
    progress: Progress | None = None,
    *,
    build_date: date | None = None,
    now: datetime | None = None,
    force: bool = False,
) -> DemoCity:
    """Build the demo city into ``out_dir`` and return its paths.

    ``build_date`` (default: today in Europe/Berlin) fixes the GTFS feed period (30 days before to
    335 days after) and the day of the charging sessions; ``now`` (default: the current time) is only
    used for the feeds' ``last_updated`` stamps. When ``out_dir`` already holds a complete build with
    the same seed, build date and generator version the build is skipped unless ``force`` is set.
    """
    tz = ZoneInfo(TIMEZONE)
    now = (now or datetime.now(tz)).astimezone(tz).replace(microsecond=0)
    build_date = build_date or now.date()
    out_dir = Path(out_dir)
    city = DemoCity(out_dir, seed, build_date)
    report = progress or (lambda _step, _i, _n: None)
    if not force and _is_current(city):
        report("up to date", len(STEPS), len(STEPS))
        return city
    for sub in ("osm", "gtfs", "gbfs", "ocpi", "sumo", "charging"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    city.manifest_path.unlink(missing_ok=True)
    total = len(STEPS)
    counts: dict[str, Any] = {}

    report(STEPS[0], 0, total)
    layout = build_city()
    counts["osm"] = write_osm(layout, city.osm)
    report(STEPS[1], 1, total)
    plan = build_transit(layout, seed)
    counts["gtfs"] = write_gtfs(plan, build_date, seed, city.gtfs)
    report(STEPS[2], 2, total)
    counts["gbfs"] = write_gbfs(layout, seed, now, city.gbfs_dir)
    report(STEPS[3], 3, total)
    counts["ocpi"] = write_locations(layout, seed, now, city.ocpi_locations)
    report(STEPS[4], 4, total)
    counts["charging_sessions"] = write_sessions(seed, build_date, city.charging_sessions)
    report(STEPS[5], 5, total)
    counts["sumo"] = build_scenario(layout, plan, city.osm, city.sumo_dir, seed)
    report(STEPS[6], 6, total)
    start, end = feed_period(build_date)
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": FICTIONAL_LABEL,
        "fictional": True,
        "note": FICTIONAL_NOTE,
        "seed": seed,
        "build_date": build_date.isoformat(),
        "built_at": rfc3339(now),
        "generator": generator_fingerprint(),
        "centre": {"lat": CENTRE_LAT, "lon": CENTRE_LON},
        "timezone": TIMEZONE,
        "gtfs_feed_period": {"start": start.isoformat(), "end": end.isoformat()},
        "hub": {
            "gtfs_stop_id": HUB_STOP_ID,
            "ocpi_location_id": HUB_OCPI_LOCATION_ID,
            "gbfs_station_ids": {"knotenrad": "kr-01", "knotencar": "kc-01"},
        },
        "gbfs_systems": list(GBFS_SYSTEMS),
        "files": sorted(str(p.relative_to(out_dir)) for p in city.files()),
        "counts": counts,
    }
    city.manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report("done", total, total)
    return city
