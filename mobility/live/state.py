"""LiveState: the last good state of every live feed, with its age, errors and staleness.

Pollers (and the OCPI push receiver) hand raw payloads to :meth:`LiveState.accept`; a payload is
parsed and checked first, and only a good one replaces the feed's state (bad input, and a feed
whose time goes backwards, are counted as errors and change nothing). Every good payload is
persisted (see :mod:`mobility.live.store`), so a restarted process serves the last known state at
once via :meth:`LiveState.open`; ages come from the feeds' own timestamps, so they stay right.

Readers use four methods (the planner's ``Availability`` protocol plus two):

* :meth:`sharing` → :class:`~mobility.sharing.model.SharingSnapshot` of every GBFS feed,
* :meth:`chargers` → OCPI :class:`~charging.points.Location` list of every charger feed,
* :meth:`overlay` → the realtime :class:`~mobility.realtime.overlay.RealtimeOverlay` (or None),
* :meth:`feed_status` → one :class:`FeedStatus` per feed (age, stale flag, error counts).

State objects are immutable and swapped by reference, so readers never see half an update.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from charging.errors import InvalidInputError
from charging.points import Location, parse_locations
from mobility.errors import FeedError, FeedProblem
from mobility.live.store import FeedRow, Store
from mobility.realtime.gtfs_rt import RealtimeFeed, TripUpdate, parse_feed
from mobility.realtime.overlay import OverlayBase, RealtimeOverlay, build_overlay
from mobility.sharing.gbfs import read_source
from mobility.sharing.model import SharingSnapshot

logger = logging.getLogger(__name__)

KINDS = ("gbfs", "gtfs-rt", "ocpi")


@dataclass(frozen=True)
class FeedStatus:
    """What a reader needs to know about one feed (``age_s`` None: no good state yet)."""

    name: str
    kind: str
    age_s: float | None
    stale: bool
    errors: int
    last_error: str | None
    consecutive_errors: int = 0
    as_of: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON object with RFC 3339 times."""
        return {
            "name": self.name,
            "kind": self.kind,
            "age_s": None if self.age_s is None else round(self.age_s, 1),
            "stale": self.stale,
            "errors": self.errors,
            "consecutive_errors": self.consecutive_errors,
            "last_error": self.last_error,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
        }


@dataclass(frozen=True)
class Parsed:
    """A parsed, checked payload: its value, the feed's own time and its ttl."""

    value: Any
    feed_time: float | None
    ttl_s: int
    history: tuple[tuple[str, int | None, int | None, str | None], ...] = ()


@dataclass(frozen=True)
class _Good:
    kind: str
    payload: bytes
    parsed: Parsed
    fetched_at: float


# ---------------------------------------------------------------------------------------------
# payload parsers: raw bytes as persisted -> Parsed (raise FeedError when not usable)


def gbfs_payload(url: str, files: Mapping[str, bytes]) -> bytes:
    """The persisted form of one GBFS read: the discovery URL and every file fetched."""
    return json.dumps(
        {"url": url, "files": {u: b.decode("utf-8", "replace") for u, b in files.items()}}
    ).encode()


def parse_gbfs_payload(payload: bytes) -> Parsed:
    """A GBFS payload (see :func:`gbfs_payload`) as a merged snapshot; FeedError on problems."""
    try:
        doc = json.loads(payload)
        url, files = doc["url"], doc["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise FeedError("stored GBFS payload is damaged") from exc

    def fetch(u: str) -> bytes:
        if u not in files:
            raise FeedError(f"{u}: not fetched", [FeedProblem(u, "/", "not fetched")])
        return str(files[u]).encode()

    feeds = read_source(url, fetch)
    problems = [p for f in feeds for p in f.problems]
    if problems:
        raise FeedError(f"GBFS not valid: {problems[0]}", problems)
    times = [t for f in feeds if (t := f.last_updated) is not None]
    snap = SharingSnapshot.merge(
        [f.snapshot for f in feeds], as_of=min(times) if times else datetime.now(UTC)
    )
    history = tuple(
        (f"{s.system_id}:{s.station_id}", s.num_vehicles_available, s.num_docks_available, None)
        for s in snap.stations
    )
    return Parsed(
        snap,
        min(times).timestamp() if times else None,
        min((f.ttl_s for f in feeds), default=60),
        history,
    )


def parse_gtfs_rt_payload(payload: bytes) -> Parsed:
    """A GTFS-Realtime message (bad entities skipped and counted in the value)."""
    feed = parse_feed(payload, "gtfs-rt")
    return Parsed(feed, None if feed.timestamp is None else feed.timestamp.timestamp(), 30)


def parse_ocpi_payload(payload: bytes) -> Parsed:
    """OCPI Locations (a list, one Location, or a response envelope) with their EVSE statuses."""
    try:
        doc = json.loads(payload)
        locations = parse_locations(doc)
    except ValueError as exc:
        raise FeedError(f"OCPI not valid: {exc}", [FeedProblem("locations", "/", str(exc))]) from exc
    except InvalidInputError as exc:
        raise FeedError(f"OCPI not valid: {exc}", [FeedProblem("locations", "/", str(exc))]) from exc
    history = tuple(
        (f"{loc.location_id}/{e.uid}", None, None, e.status) for loc in locations for e in loc.evses
    )
    # Locations carry the time each one last changed, not when the list was made: the age of an
    # OCPI feed is the time since it was last read (``feed_time`` None).
    return Parsed(locations, None, 60, history)


PARSERS: dict[str, Callable[[bytes], Parsed]] = {
    "gbfs": parse_gbfs_payload,
    "gtfs-rt": parse_gtfs_rt_payload,
    "ocpi": parse_ocpi_payload,
}


# ---------------------------------------------------------------------------------------------


class LiveState:
    """The last good state of every feed; see the module docs.

    ``stale_factor``: a feed is stale when its data is older than ``stale_factor`` × its ttl
    (at least ``min_ttl_s``), or when it has no good state at all. ``overlay_base``: the
    timetable index realtime updates apply to (without it :meth:`overlay` is None).
    """

    def __init__(
        self,
        store: Store | None = None,
        *,
        stale_factor: float = 3.0,
        min_ttl_s: int = 30,
        overlay_base: OverlayBase | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.stale_factor = stale_factor
        self.min_ttl_s = min_ttl_s
        self.overlay_base = overlay_base
        self.clock = clock
        self._lock = threading.Lock()
        self._good: dict[str, _Good] = {}
        self._kinds: dict[str, str] = {}
        self._errors: dict[str, tuple[int, int, str | None]] = {}  # total, in a row, last message
        self._sharing: SharingSnapshot | None = None
        self._chargers: list[Location] = []
        self._overlay: RealtimeOverlay | None = None

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> LiveState:
        """A state backed by the database at ``url``, restored from what it holds."""
        state = cls(Store(url), **kwargs)
        state.restore()
        return state

    # -- writing -----------------------------------------------------------------------------

    def register(self, name: str, kind: str) -> None:
        """Make a configured feed known before its first update (it shows as stale)."""
        if kind not in KINDS:
            raise ValueError(f"unknown feed kind {kind!r} (one of {', '.join(KINDS)})")
        self._kinds.setdefault(name, kind)

    def accept(self, name: str, kind: str, payload: bytes, *, fetched_at: float | None = None) -> Parsed:
        """Parse, check and take a feed's new payload; raises FeedError (and counts it) when bad.

        A payload whose own time is older than the current state's is refused ("time went
        backwards"); one with the same time replaces it (OCPI pushes, feeds without timestamps).
        """
        self.register(name, kind)
        now = self.clock() if fetched_at is None else fetched_at
        try:
            parsed = PARSERS[kind](payload)
            old = self._good.get(name)
            if (
                old is not None
                and parsed.feed_time is not None
                and old.parsed.feed_time is not None
                and parsed.feed_time < old.parsed.feed_time
            ):
                raise FeedError(
                    f"{name}: feed time went backwards "
                    f"({_iso(parsed.feed_time)} is older than {_iso(old.parsed.feed_time)})"
                )
        except FeedError as exc:
            self.record_error(name, kind, str(exc))
            raise
        if self.store is not None:
            self.store.save_good(
                name, kind, payload, fetched_at=now, feed_time=parsed.feed_time, ttl_s=parsed.ttl_s,
                history=parsed.history,
            )  # fmt: skip
        with self._lock:
            self._good[name] = _Good(kind, payload, parsed, now)
            total, _, last = self._errors.get(name, (0, 0, None))
            self._errors[name] = (total, 0, last)
            self._rebuild(kind)
        return parsed

    def record_error(self, name: str, kind: str, message: str) -> None:
        """Count a failed update of a feed (fetch failed, bad payload); its good state stays."""
        self.register(name, kind)
        now = self.clock()
        logger.warning("feed %s: %s", name, message)
        with self._lock:
            total, row, _ = self._errors.get(name, (0, 0, None))
            self._errors[name] = (total + 1, row + 1, message)
        if self.store is not None:
            self.store.save_error(name, kind, message, now)

    def transform(self, kind: str, change: Callable[[bytes], bytes | None]) -> str | None:
        """Offer every ``kind`` feed's last good payload to ``change``; the first new payload it
        returns is accepted (checked and persisted like a polled one). Returns that feed's name,
        or None when ``change`` returned None for all. Used for pushed updates (OCPI PATCH)."""
        for name, good in list(self._good.items()):
            if good.kind != kind:
                continue
            new = change(good.payload)
            if new is not None:
                self.accept(name, kind, new)
                return name
        return None

    def ttl_s(self, name: str) -> int | None:
        """The ttl the feed's last good state declared (None without one)."""
        good = self._good.get(name)
        return None if good is None else good.parsed.ttl_s

    def payload(self, name: str) -> bytes | None:
        """The last good raw payload of a feed (None when it has none)."""
        good = self._good.get(name)
        return None if good is None else good.payload

    def _rebuild(self, kind: str) -> None:
        """Recompute the merged view of one kind (called with the lock held)."""
        goods = [g for g in self._good.values() if g.kind == kind]
        if kind == "gbfs":
            snaps = [g.parsed.value for g in goods]
            self._sharing = SharingSnapshot.merge(snaps) if snaps else None
        elif kind == "ocpi":
            self._chargers = [loc for g in goods for loc in g.parsed.value]
        elif kind == "gtfs-rt" and self.overlay_base is not None:
            updates: list[TripUpdate] = [tu for g in goods for tu in g.parsed.value.trip_updates]
            feeds: list[RealtimeFeed] = [g.parsed.value for g in goods]
            stamps = [f.timestamp for f in feeds if f.timestamp is not None]
            self._overlay = build_overlay(
                self.overlay_base, updates, timestamp=min(stamps) if stamps else None
            )

    def restore(self) -> int:
        """Load every feed's last good state and error counts from the store; returns how many."""
        return self.refresh(only_changed=False)

    def refresh(self, *, only_changed: bool = True) -> int:
        """Take what other processes wrote to the shared store (feeds whose last good state is
        newer than ours); returns how many feeds changed. API workers that do not poll call this."""
        if self.store is None:
            return 0
        n = 0
        for row in self.store.load():
            self._kinds[row.name] = row.kind
            self._errors[row.name] = (row.errors, row.consecutive_errors, row.last_error)
            if row.payload is None:
                continue
            known = self._good.get(row.name)
            if only_changed and known is not None and known.fetched_at >= _fetched(row):
                continue
            try:
                parsed = PARSERS[row.kind](row.payload)
            except (FeedError, KeyError) as exc:
                logger.warning("stored state of feed %s cannot be used: %s", row.name, exc)
                continue
            with self._lock:
                self._good[row.name] = _Good(row.kind, row.payload, parsed, _fetched(row))
            n += 1
        if n or not only_changed:
            with self._lock:
                for kind in KINDS:
                    self._rebuild(kind)
        return n

    def set_overlay_base(self, base: OverlayBase | None) -> None:
        """Apply realtime updates to another timetable (e.g. after a rebuild for a new day)."""
        self.overlay_base = base
        with self._lock:
            self._overlay = None
            self._rebuild("gtfs-rt")

    # -- reading -----------------------------------------------------------------------------

    def sharing(self, at: datetime | None = None) -> SharingSnapshot:
        """Every GBFS system's last good snapshot, merged (empty when there is none).

        ``at`` is accepted for the ``Availability`` protocol; the live state is always the latest
        one, and ``as_of`` says how old it is.
        """
        snap = self._sharing
        return snap if snap is not None else SharingSnapshot.empty(at or datetime.now(UTC))

    def chargers(self, at: datetime | None = None) -> list[Location]:
        """Every charging location of the OCPI feeds, with the last known EVSE statuses."""
        return list(self._chargers)

    def overlay(self) -> RealtimeOverlay | None:
        """The current realtime overlay (None without realtime feeds or without a timetable)."""
        return self._overlay

    def realtime(self) -> list[RealtimeFeed]:
        """The last good GTFS-Realtime message of every realtime feed (for alerts and counts)."""
        return [g.parsed.value for g in self._good.values() if g.kind == "gtfs-rt"]

    def feed_status(self) -> list[FeedStatus]:
        """Age, staleness and errors of every known feed, by name."""
        now = self.clock()
        out = []
        for name in sorted(self._kinds):
            kind = self._kinds[name]
            total, row, last = self._errors.get(name, (0, 0, None))
            good = self._good.get(name)
            if good is None:
                out.append(FeedStatus(name, kind, None, True, total, last, row, None))
                continue
            t = good.parsed.feed_time if good.parsed.feed_time is not None else good.fetched_at
            age = max(0.0, now - t)
            limit = self.stale_factor * max(self.min_ttl_s, good.parsed.ttl_s)
            as_of = datetime.fromtimestamp(t, tz=UTC)
            out.append(FeedStatus(name, kind, age, age > limit, total, last, row, as_of))
        return out


def _fetched(row: FeedRow) -> float:
    return float(row.fetched_at) if row.fetched_at is not None else time.time()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat()
