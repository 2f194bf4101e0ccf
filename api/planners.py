"""Planners per service date for the HTTP API, fed by the live state.

One :class:`PlannerCache` per process (in ``app.extensions["knoten.planners"]``; :func:`planners`
gives it): it builds the timetable of a service date once (the graph folder caches it on disk),
keeps the planners of the last few dates, and serialises the queries of one planner (its RAPTOR
router keeps one search state). The planners read the sharing and charger state from the live
state through :class:`LiveAvailability`, falling back to the graph folder's snapshot where the
live state has none. With realtime updates, today's timetable is made the overlay's base and
queries route on the overlay through ``Planner.plan(q, overlay=...)`` (scheduled and estimated
times, cancelled trips left out, added trips ridden).
"""

from __future__ import annotations

import datetime as dt
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from api.context import services
from api.errors import ApiProblem

if TYPE_CHECKING:
    from charging.points import Location
    from mobility.live.state import LiveState
    from mobility.planner.availability import SnapshotAvailability
    from mobility.planner.graphdir import GraphDir
    from mobility.planner.itinerary import Itinerary
    from mobility.planner.plan import Planner
    from mobility.planner.query import PlanQuery
    from mobility.realtime.overlay import RealtimeOverlay
    from mobility.sharing.model import SharingSnapshot
    from mobility.timetable import Timetable

EXTENSION = "knoten.planners"
#: how many service dates keep a planner in memory (the most recently used ones)
MAX_DATES = 4


@dataclass
class LiveAvailability:
    """The planner's ``Availability``: the live state's sharing and chargers, else the snapshot's."""

    live: Callable[[], LiveState]
    fallback: SnapshotAvailability

    def sharing(self, at: dt.datetime) -> SharingSnapshot:
        """Live stations and vehicles when the live state has any, else the graph's snapshot."""
        snap = self.live().sharing(at)
        if snap.stations or snap.vehicles:
            return snap
        return self.fallback.sharing(at)

    def chargers(self, at: dt.datetime) -> list[Location]:
        """Live charging locations when the live state has any, else the graph's OCPI files."""
        found = self.live().chargers(at)
        return found if found else self.fallback.chargers(at)

    def source(self) -> dict[str, str]:
        """Where sharing and chargers come from right now: ``live`` or ``snapshot``."""
        now = dt.datetime.now(dt.UTC)
        snap = self.live().sharing(now)
        return {
            "sharing": "live" if (snap.stations or snap.vehicles) else "snapshot",
            "chargers": "live" if self.live().chargers(now) else "snapshot",
        }


def _calendar_dates(path: Path) -> list[int]:
    """Every ``yyyymmdd`` of calendar.txt (start and end) and calendar_dates.txt of a GTFS zip/folder."""
    from mobility.planner.graphdir import gtfs_rows

    out: list[int] = []
    for name, columns in (("calendar.txt", ("start_date", "end_date")), ("calendar_dates.txt", ("date",))):
        for row in gtfs_rows(path, name):
            out.extend(int(row[col]) for col in columns if len(row.get(col, "")) == 8 and row[col].isdigit())
    return out


def service_period(gtfs: list[str]) -> tuple[dt.date, dt.date] | None:
    """First and last date any service of the feeds could run on (None without calendars)."""
    found: list[int] = []
    for path in gtfs:
        try:
            found.extend(_calendar_dates(Path(path)))
        except (OSError, zipfile.BadZipFile, KeyError):
            continue
    if not found:
        return None

    def day(ymd: int) -> dt.date:
        return dt.date(ymd // 10000, ymd // 100 % 100, ymd % 100)

    try:
        return day(min(found)), day(max(found))
    except ValueError:
        return None


@dataclass
class DatePlanner:
    """The planner of one service date and its query lock."""

    planner: Planner
    lock: threading.Lock = field(default_factory=threading.Lock)


class PlannerCache:
    """Planners per service date over one graph folder, built once and shared by the threads."""

    def __init__(self, graph: GraphDir, live: Callable[[], LiveState], max_dates: int = MAX_DATES) -> None:
        self.graph = graph
        self.live = live
        self.availability = LiveAvailability(live, graph.availability)
        self.max_dates = max_dates
        self.tz = ZoneInfo(graph.timezone)
        self._lock = threading.Lock()
        self._building: dict[dt.date, threading.Lock] = {}
        self._planners: OrderedDict[dt.date, DatePlanner] = OrderedDict()
        self._period: tuple[dt.date, dt.date] | None = None
        self._period_read = False

    @property
    def period(self) -> tuple[dt.date, dt.date] | None:
        """The feeds' service period (read once)."""
        if not self._period_read:
            self._period = service_period([str(p) for p in self.graph.manifest.get("gtfs", [])])
            self._period_read = True
        return self._period

    def check_date(self, when: dt.datetime) -> dt.date:
        """The service date of ``when``; 422 problem when it lies outside the service period."""
        try:
            date = when.astimezone(self.tz).date()
        except OverflowError:  # e.g. 0001-01-01T00:00+14:00 lies before the first day in the city
            date = dt.date.min if when.year < 2 else dt.date.max
        period = self.period
        if period is not None and not period[0] <= date <= period[1]:
            served = {"start": period[0].isoformat(), "end": period[1].isoformat()}
            raise ApiProblem(
                422,
                "Time outside the timetable",
                f"time {when.isoformat()} falls on {date.isoformat()}, outside the timetable's service "
                f"period {period[0].isoformat()} to {period[1].isoformat()}",
                service_period=served,
                field="time",
                value=when.isoformat(),
                limit=served,
                constraint="range",
            )
        return date

    def today(self) -> dt.date:
        """Today in the feeds' time zone, moved into the service period when it lies outside."""
        date = dt.datetime.now(self.tz).date()
        period = self.period
        if period is not None:
            date = min(max(date, period[0]), period[1])
        return date

    def for_date(self, date: dt.date) -> DatePlanner:
        """The planner of ``date`` (its timetable built on first use; 503 problem when it cannot be)."""
        with self._lock:
            found = self._planners.get(date)
            if found is not None:
                self._planners.move_to_end(date)
                return found
            building = self._building.setdefault(date, threading.Lock())
        with building:
            with self._lock:
                found = self._planners.get(date)
            if found is not None:
                return found
            planner = self._build(date)
            with self._lock:
                entry = self._planners.setdefault(date, DatePlanner(planner))
                self._planners.move_to_end(date)
                while len(self._planners) > self.max_dates:
                    self._planners.popitem(last=False)
                self._building.pop(date, None)
            return entry

    def _build(self, date: dt.date) -> Planner:
        from mobility.cache import get_timetable
        from mobility.errors import MobilityError
        from mobility.planner.plan import Planner

        gd = self.graph
        try:
            tt, _ = get_timetable(gd.manifest["gtfs"], date, gd.root / "timetables")
        except (MobilityError, OSError, KeyError) as exc:
            raise ApiProblem(
                503, "Timetable unavailable", f"cannot build the timetable of {date}: {exc}"
            ) from exc
        return Planner(
            gd.streets, tt, self.availability, timezone=gd.timezone,
            route_styles=gd.manifest.get("route_styles", {}),
        )  # fmt: skip

    def plan(self, date: dt.date, query: PlanQuery) -> tuple[list[Itinerary], bool]:
        """Plan ``query`` on the planner of ``date``; returns the itineraries and whether they were
        routed on realtime transit times. Raises the planner's errors (NoRouteError, ...)."""
        entry = self.for_date(date)
        with entry.lock:  # one query at a time per planner: its router keeps one search state
            usable = entry.planner.usable_overlay(self._overlay(entry.planner, date))
            return entry.planner.plan(query, overlay=usable), usable is not None

    def _overlay(self, planner: Planner, date: dt.date) -> RealtimeOverlay | None:
        """The live state's realtime overlay (None without updates); the timetable of today is
        made its base first, since realtime feeds speak of today's trips."""
        from api.live import attach_timetable

        if planner.tt is None:
            return None
        state = self.live()
        base = state.overlay_base
        if date == dt.datetime.now(self.tz).date() and (base is None or base.tt.date != date):
            attach_timetable(state, planner.tt)
        overlay = state.overlay()
        return overlay if overlay is not None and overlay.applied > 0 else None

    def timetable(self) -> Timetable:
        """A timetable for stop look-ups (today's, or the nearest date of the service period)."""
        tt = self.for_date(self.today()).planner.tt
        assert tt is not None
        return tt


def planners(app: Flask | None = None) -> PlannerCache:
    """The process's :class:`PlannerCache` (made on first use; 503 problem without a graph folder)."""
    target: Any = app if app is not None else current_app
    found: PlannerCache | None = target.extensions.get(EXTENSION)
    if found is None:
        with _make_lock:
            found = target.extensions.get(EXTENSION)
            if found is None:
                svc = services(target)
                found = PlannerCache(svc.graph(), svc.live_state)
                target.extensions[EXTENSION] = found
    return found


_make_lock = threading.Lock()
