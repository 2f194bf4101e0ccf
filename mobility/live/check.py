"""Feed check: is a GBFS or GTFS-Realtime source (URL, file or folder) valid, and what is in it.

:func:`check_source` finds the kind when none is given, reads the source through the same
parsers the pollers use, and returns a :class:`CheckReport` with a summary (kind, version, counts,
data age) and every problem found (file, path in the document, what is wrong). OCPI sources are
checked by :mod:`charging.ocpi`; :func:`detect_kind` recognises them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mobility.errors import FeedError, FeedProblem
from mobility.live.http import HttpClient, HttpPolicy
from mobility.realtime.gtfs_rt import parse_feed
from mobility.sharing.gbfs import file_kind, guess_kind, load_gbfs, read_source

KINDS = ("gbfs", "gtfs-rt", "ocpi")


@dataclass
class CheckReport:
    """What a feed check found."""

    source: str
    kind: str
    version: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    as_of: datetime | None = None
    problems: list[FeedProblem] = field(default_factory=list)
    warnings: list[FeedProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def age_s(self, now: datetime | None = None) -> float | None:
        """Age of the data (None when the feed gives no time)."""
        if self.as_of is None:
            return None
        return ((now or datetime.now(UTC)) - self.as_of).total_seconds()

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (RFC 3339 times)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "version": self.version,
            "valid": self.ok,
            "counts": self.counts,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "age_s": self.age_s(),
            "problems": [{"file": p.file, "path": p.path, "message": p.message} for p in self.problems],
            "warnings": [{"file": p.file, "path": p.path, "message": p.message} for p in self.warnings],
        }


def is_url(source: str) -> bool:
    """True for http(s) URLs."""
    return source.startswith(("http://", "https://"))


def detect_kind(source: str, data: bytes | None = None) -> str:
    """The kind of a source: from a folder's files, else from the bytes; ValueError if unknown."""
    if not is_url(source) and Path(source).is_dir():
        folder = Path(source)
        if any(file_kind(p.name) for p in folder.glob("*.json")):
            return "gbfs"
        if any(p.suffix in (".pb", ".bin") for p in folder.iterdir()):
            return "gtfs-rt"
        raise ValueError(f"{source}: no GBFS or GTFS-Realtime files in this folder")
    if data is None:
        raise ValueError(f"{source}: cannot tell the kind without reading it")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        doc = None
    if doc is None:
        if Path(source.split("?")[0]).suffix.lower() == ".json" or data.lstrip()[:1] in (b"{", b"["):
            # broken JSON: GBFS unless its name says otherwise
            return "ocpi" if "location" in source.lower() or "ocpi" in source.lower() else "gbfs"
        return "gtfs-rt"
    if _looks_ocpi(doc):
        return "ocpi"
    if guess_kind(doc) is not None or file_kind(Path(source.split("?")[0]).name) is not None:
        return "gbfs"
    raise ValueError(f"{source}: JSON that is neither GBFS nor OCPI")


def _looks_ocpi(doc: Any) -> bool:
    items = doc.get("data", doc) if isinstance(doc, dict) else doc
    if isinstance(items, dict):
        items = [items]
    if isinstance(doc, dict) and "status_code" in doc:
        return True
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(x, dict) and ("evses" in x or ("coordinates" in x and "id" in x)) for x in items)
    )


def read_bytes(source: str, policy: HttpPolicy | None = None) -> bytes:
    """The bytes of a URL or file (size-limited)."""
    client = HttpClient(policy or HttpPolicy(retries=0))
    try:
        return client.fetch(source)
    finally:
        client.close()


def check_gbfs(source: str, policy: HttpPolicy | None = None) -> CheckReport:
    """Check a GBFS system (discovery URL/file, folder or single file)."""
    report = CheckReport(source, "gbfs")
    try:
        if is_url(source):
            client = HttpClient(policy or HttpPolicy(retries=0))
            try:
                feeds = read_source(source, client.remote_fetcher(source))
            finally:
                client.close()
        else:
            feeds = load_gbfs(source)
    except FeedError as exc:
        report.problems.extend(exc.problems or [FeedProblem(source, "/", str(exc))])
        return report
    report.version = ", ".join(sorted({f.version for f in feeds})) or None
    snaps = [f.snapshot for f in feeds]
    report.counts = {
        "systems": len(feeds),
        "stations": sum(len(s.stations) for s in snaps),
        "vehicles": sum(len(s.vehicles) for s in snaps),
        "free_floating_vehicles": sum(len(s.free_floating_vehicles()) for s in snaps),
        "vehicle_types": sum(len(s.vehicle_types) for s in snaps),
        "geofencing_zones": sum(len(s.geofencing_zones) for s in snaps),
        "files": sum(len(f.files) for f in feeds),
    }
    times = [t for f in feeds if (t := f.last_updated) is not None]
    report.as_of = min(times) if times else None
    report.problems = [p for f in feeds for p in f.problems]
    report.warnings = [p for f in feeds for p in f.warnings]
    return report


def check_gtfs_rt(source: str, data: bytes) -> CheckReport:
    """Check a GTFS-Realtime message; every skipped entity is a problem."""
    report = CheckReport(source, "gtfs-rt")
    name = Path(source.split("?")[0]).name or source
    try:
        feed = parse_feed(data, name)
    except FeedError as exc:
        report.problems.extend(exc.problems)
        return report
    report.version = feed.version
    report.as_of = feed.timestamp
    report.counts = {
        "entities": feed.n_entities,
        "trip_updates": len(feed.trip_updates),
        "alerts": len(feed.alerts),
        "vehicle_positions": feed.n_vehicle_positions,
        "skipped": feed.skipped,
    }
    report.problems = list(feed.problems)
    return report


def check_folder_gtfs_rt(folder: Path) -> CheckReport:
    """Check every ``.pb`` message in a folder as one report."""
    report = CheckReport(str(folder), "gtfs-rt")
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".pb", ".bin")):
        sub = check_gtfs_rt(str(path), path.read_bytes())
        report.version = report.version or sub.version
        for key, value in sub.counts.items():
            report.counts[key] = report.counts.get(key, 0) + value
        if sub.as_of is not None and (report.as_of is None or sub.as_of < report.as_of):
            report.as_of = sub.as_of
        report.problems.extend(sub.problems)
    return report


__all__ = [
    "KINDS",
    "CheckReport",
    "check_folder_gtfs_rt",
    "check_gbfs",
    "check_gtfs_rt",
    "detect_kind",
    "read_bytes",
]
