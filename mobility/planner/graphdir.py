"""A prepared graph folder: street network, feed references, sharing and charger snapshots.

``build_graph_dir`` checks every input once and writes ``streets.npz`` and ``manifest.json``;
timetables are built per service date on first use and cached in ``timetables/``.
``GraphDir.planner(date)`` gives a ready :class:`~mobility.planner.plan.Planner`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mobility.errors import MobilityError
from mobility.planner.availability import SnapshotAvailability
from mobility.planner.plan import Planner
from mobility.planner.streets import StreetSide
from mobility.planner.transit import STOP_LINK_MAX_M
from mobility.streets.cache import read_network, save_network
from mobility.streets.graph import build_network
from mobility.streets.osm import read_osm

log = logging.getLogger(__name__)
FORMAT = 1
Progress = Callable[[str, int, int], None]


def _quiet(stage: str, done: int, total: int) -> None:
    """Progress callback that does nothing."""


def route_styles(paths: Sequence[Path]) -> dict[str, dict[str, str | None]]:
    """``route_id -> {color, text_color, agency}`` from routes.txt and agency.txt (ids namespaced
    like the timetable's when there are several feeds); colours as ``#RRGGBB``."""
    from mobility.gtfs import default_namespace

    out: dict[str, dict[str, str | None]] = {}
    for path in paths:
        prefix = default_namespace(path) + ":" if len(paths) > 1 else ""
        agencies = {
            r.get("agency_id", ""): r.get("agency_name") or None for r in gtfs_rows(path, "agency.txt")
        }
        only = next(iter(agencies.values())) if len(agencies) == 1 else None
        for r in gtfs_rows(path, "routes.txt"):
            color, text = (r.get("route_color") or "").strip(), (r.get("route_text_color") or "").strip()
            out[prefix + r.get("route_id", "")] = {
                "color": f"#{color.upper()}" if color else None,
                "text_color": f"#{text.upper()}" if text else None,
                "agency": agencies.get(r.get("agency_id") or "", only),
            }
    return out


def gtfs_rows(path: Path, name: str) -> list[dict[str, str]]:
    """Rows of one table of a GTFS zip or folder (empty when the table is absent)."""
    try:
        if path.is_dir():
            raw = (path / name).read_bytes() if (path / name).is_file() else b""
        else:
            with zipfile.ZipFile(path) as zf:
                names = {Path(n).name: n for n in zf.namelist()}
                raw = zf.read(names[name]) if name in names else b""
    except (OSError, zipfile.BadZipFile, KeyError):
        return []
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig", errors="replace")))
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def build_graph_dir(
    gtfs: Sequence[str | Path],
    osm: str | Path,
    out: str | Path,
    *,
    gbfs_dirs: Sequence[str | Path] = (),
    ocpi_files: Sequence[str | Path] = (),
    progress: Progress = _quiet,
) -> dict[str, Any]:
    """Prepare ``out`` for planning and return its manifest (also written as ``manifest.json``)."""
    from mobility.gtfs import default_namespace, load_feed

    out = Path(out)
    total = 4
    started = time.perf_counter()
    gtfs_paths = [Path(p).resolve() for p in gtfs]
    timezone = None
    progress("checking GTFS", 0, total)
    feeds = []
    for path in gtfs_paths:
        feeds.append(load_feed(path, default_namespace(path) if len(gtfs_paths) > 1 else ""))
        timezone = timezone or feeds[-1].timezone
    progress("reading OSM", 1, total)
    osm_path = Path(osm).resolve()
    net = build_network(read_osm(osm_path))
    walk = StreetSide(net).snappers["walk"]
    unlinked: list[str] = []
    for feed in feeds:
        platforms = feed.stop_location_type == 0
        links = walk.link(feed.stop_lat[platforms], feed.stop_lon[platforms], STOP_LINK_MAX_M)
        ids = feed.stop_ids[platforms]
        unlinked.extend(
            f"{feed.namespace}:{ids[i]}" if feed.namespace else str(ids[i]) for i in links.unlinked
        )
    if unlinked:
        log.info("%d stops are more than %.0f m from a walkable street and cannot be reached on foot",
                    len(unlinked), STOP_LINK_MAX_M)  # fmt: skip
    progress("checking sharing and chargers", 2, total)
    gbfs = [str(Path(p).resolve()) for p in gbfs_dirs]
    ocpi = [str(Path(p).resolve()) for p in ocpi_files]
    avail = SnapshotAvailability.from_paths(gbfs, ocpi)
    progress("writing", 3, total)
    out.mkdir(parents=True, exist_ok=True)
    save_network(net, out / "streets.npz")
    snapshot = avail.snapshot
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "gtfs": [str(p) for p in gtfs_paths],
        "osm": str(osm_path),
        "gbfs": gbfs,
        "ocpi": ocpi,
        "timezone": timezone or "UTC",
        "graphs": {name: {"nodes": g.n_nodes, "edges": g.n_edges} for name, g in net.graphs.items()},
        "sharing": {
            "stations": len(snapshot.stations) if snapshot is not None else 0,
            "vehicles": len(snapshot.vehicles) if snapshot is not None else 0,
        },
        "charging_locations": len(avail.locations),
        "route_styles": route_styles(gtfs_paths),
        "stops_unlinked": unlinked,
        "build_s": round(time.perf_counter() - started, 2),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    progress("done", total, total)
    return manifest


@dataclass
class GraphDir:
    """A folder written by :func:`build_graph_dir`, loaded for queries."""

    root: Path
    manifest: dict[str, Any]
    streets: StreetSide
    availability: SnapshotAvailability
    _planners: dict[dt.date, Planner] = field(default_factory=dict)

    @classmethod
    def load(cls, root: str | Path) -> GraphDir:
        """Read the manifest, the street network and the snapshots (MobilityError when unusable)."""
        root = Path(root)
        path = root / "manifest.json"
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise MobilityError(f"{root}: not a graph folder (run `knoten build` first): {exc}") from exc
        if manifest.get("format") != FORMAT:
            raise MobilityError(
                f"{root}: graph folder format {manifest.get('format')} (expected {FORMAT}); rebuild it"
            )
        try:
            net = read_network(root / "streets.npz")
        except (OSError, KeyError, ValueError) as exc:
            raise MobilityError(f"{root}: unreadable street network: {exc}") from exc
        avail = SnapshotAvailability.from_paths(manifest.get("gbfs", []), manifest.get("ocpi", []))
        return cls(root, manifest, StreetSide(net), avail)

    @property
    def timezone(self) -> str:
        """The feeds' time zone (agency.txt)."""
        return str(self.manifest.get("timezone") or "UTC")

    def planner(self, date: dt.date, progress: Progress = _quiet) -> Planner:
        """The planner of one service date (its timetable built once and cached in the folder)."""
        if date not in self._planners:
            from mobility.cache import get_timetable

            tt, _ = get_timetable(self.manifest["gtfs"], date, self.root / "timetables", progress)
            self._planners[date] = Planner(
                self.streets, tt, self.availability, timezone=self.timezone,
                route_styles=self.manifest.get("route_styles", {}),
            )  # fmt: skip
        return self._planners[date]
