"""Availability at time t: shared vehicles (GBFS) and charger status (OCPI) seen by the planner.

The planner asks an :class:`Availability` for the state at the query time.
:class:`SnapshotAvailability` answers with fixed snapshots read from files; the live store
answers with the last polled state through the same two methods.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from charging.errors import InvalidInputError
from charging.points import Location, parse_locations
from mobility.errors import MobilityError

if TYPE_CHECKING:
    from mobility.sharing.model import SharingSnapshot


@runtime_checkable
class Availability(Protocol):
    """Where shared vehicles, free docks and free chargers are at a given time."""

    def sharing(self, at: datetime) -> SharingSnapshot:
        """The sharing state (stations, vehicles, geofencing) valid at ``at``."""
        ...

    def chargers(self, at: datetime) -> list[Location]:
        """Charging locations with their EVSE status valid at ``at``."""
        ...


def _empty_snapshot(at: datetime) -> SharingSnapshot:
    from mobility.sharing.model import SharingSnapshot

    return SharingSnapshot.empty(at)


@dataclass
class SnapshotAvailability:
    """Fixed snapshots: the same sharing state and charger list whatever the time."""

    snapshot: SharingSnapshot | None = None
    locations: list[Location] = field(default_factory=list)

    def sharing(self, at: datetime) -> SharingSnapshot:
        """The snapshot (an empty one when no GBFS was given)."""
        return self.snapshot if self.snapshot is not None else _empty_snapshot(at)

    def chargers(self, at: datetime) -> list[Location]:
        """The charging locations read from the OCPI files."""
        return self.locations

    @classmethod
    def from_paths(
        cls, gbfs_dirs: Sequence[str | Path] = (), ocpi_files: Sequence[str | Path] = ()
    ) -> SnapshotAvailability:
        """Read GBFS folders (one system each, or a folder of systems) and OCPI Locations files."""
        snapshot = None
        if gbfs_dirs:
            from mobility.sharing.gbfs import load_snapshot

            snapshot = load_snapshot(gbfs_sources(gbfs_dirs))
        locations: list[Location] = []
        for path in ocpi_files:
            locations.extend(read_ocpi_locations(Path(path)))
        return cls(snapshot, locations)


def gbfs_sources(paths: Sequence[str | Path]) -> list[str | Path]:
    """GBFS folders or files; a folder holding only system folders stands for each of them."""
    out: list[str | Path] = []
    for raw in paths:
        path = Path(raw)
        subdirs = sorted(p for p in path.iterdir() if p.is_dir()) if path.is_dir() else []
        if subdirs and not any(path.glob("*.json")):
            out.extend(subdirs)
        else:
            out.append(path)
    return out


def read_ocpi_locations(path: Path) -> list[Location]:
    """Read an OCPI Locations JSON file (one Location, a list, or a response envelope)."""
    try:
        payload: Any = json.loads(path.read_text(encoding="utf-8"))
        return parse_locations(payload)
    except (OSError, ValueError, InvalidInputError) as exc:
        raise MobilityError(f"{path}: cannot read OCPI locations: {exc}") from exc


def now_utc() -> datetime:
    """The current time (UTC, aware)."""
    return datetime.now(UTC)
