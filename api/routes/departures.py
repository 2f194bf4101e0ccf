"""``GET /api/v1/stops/{stop_id}/departures``: FPTF-style departures with realtime.

The timetable of each service date comes from the graph folder (built once, cached on disk, kept
per process for a few dates); today's is attached to the live state so that its GTFS-Realtime
overlay applies (:func:`api.live.attach_timetable`). A board covers the service date of ``when``
(which holds the previous day's trips still running after midnight) and, when the window reaches
past the end of that day, the next service date's own trips.

:class:`DepartureBoard` is the per-process part the hub aggregate shares.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from flask import Response
from flask_openapi3 import APIBlueprint, OpenAPI, Tag
from pydantic import BaseModel, ConfigDict, Field

from api.context import Services, json_response, services
from api.errors import ApiProblem
from api.live import attach_timetable
from api.live_views import SecondCache, freshness, rfc3339, second_of
from api.models import RequestModel, problems
from api.settings import Settings
from mobility.departures import BoardDeparture, board, platform_codes
from mobility.errors import MobilityError
from mobility.realtime.overlay import OverlayBase, RealtimeOverlay, service_day_epoch
from mobility.timetable import Timetable

EXTENSION = "knoten.departures"
MAX_LIMIT = 100
MAX_WINDOW_S = 24 * 3600
#: how far ``when`` may lie from today (every other day would build and cache a timetable)
PAST_DAYS, FUTURE_DAYS = 1, 7
CACHED_DATES = 4

departures_tag = Tag(name="departures", description="Departure boards with realtime")


class DeparturesPath(RequestModel):
    """The stop of the board."""

    stop_id: str = Field(
        min_length=1,
        max_length=200,
        description="GTFS stop id; a station includes its platforms",
        json_schema_extra={"example": "hbf"},
    )


class BoardQuery(RequestModel):
    """How many departures: the next ``limit`` within ``window_s`` (a stop's or a hub's board)."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=12, ge=1, le=MAX_LIMIT, description="Most departures returned")
    window_s: int = Field(
        default=3600, ge=60, le=MAX_WINDOW_S, description="Time window of the departures (s)"
    )


class DeparturesQuery(BoardQuery):
    """Which departures: the next ``limit`` within ``window_s`` of ``when``."""

    when: dt.datetime | None = Field(
        default=None, description="Start of the window, RFC 3339 (default now; without offset: city time)"
    )


class LineOut(BaseModel):
    """The line of a departure."""

    name: str
    mode: str
    color: str
    text_color: str
    route_id: str | None = None


class DepartureOut(BaseModel):
    """One departure (FPTF style)."""

    stop_id: str
    stop_name: str
    trip_id: str
    when: str
    planned_when: str | None
    delay_s: int | None
    platform: str | None
    planned_platform: str | None
    cancelled: bool
    realtime: bool
    direction: str
    line: LineOut
    service_date: str


class StopOut(BaseModel):
    """The stop asked for."""

    stop_id: str
    name: str
    lat: float
    lon: float


class DeparturesResponse(BaseModel):
    """A departure board."""

    stop: StopOut
    as_of: str
    realtime: bool
    realtime_as_of: str | None = None
    age_s: float | None = None
    stale: bool = False
    departures: list[DepartureOut]


@dataclass
class _Day:
    """One service date's timetable with what a board needs from it, prepared once."""

    base: OverlayBase
    epoch: int
    lines: list[dict[str, Any]]
    stops: list[tuple[str, str, str | None]]  # stop_id, name, platform
    groups: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def tt(self) -> Timetable:
        return self.base.tt


@dataclass
class BoardResult:
    """Departures as JSON items, with whether realtime applied."""

    items: list[dict[str, Any]]
    realtime: bool


class DepartureBoard:
    """Per-process departure boards over the graph folder's timetables and the live overlay."""

    def __init__(self, svc: Services, settings: Settings) -> None:
        self.svc = svc
        self.tz = ZoneInfo(settings.timezone)
        self._days: OrderedDict[dt.date, _Day] = OrderedDict()
        self._lock = threading.Lock()
        self._attach_lock = threading.Lock()
        self._styles: dict[str, dict[str, Any]] | None = None
        self._platforms: dict[str, str] | None = None

    # -- per date ------------------------------------------------------------------------------

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The city's current date."""
        return (now or dt.datetime.now(self.tz)).astimezone(self.tz).date()

    def day(self, date: dt.date) -> _Day:
        """The prepared timetable of ``date`` (503 problem without a graph folder)."""
        found = self._days.get(date)
        if found is not None:
            return found
        graph = self.svc.graph()
        with self._lock:
            found = self._days.get(date)
            if found is not None:
                return found
            from mobility.cache import get_timetable

            try:
                tt, _ = get_timetable(graph.manifest["gtfs"], date, graph.root / "timetables")
            except (MobilityError, OSError, ValueError, KeyError) as exc:
                raise ApiProblem(
                    503, "No timetable", f"the timetable of {date} cannot be built: {exc}"
                ) from exc
            if self._styles is None:
                self._styles = dict(graph.manifest.get("route_styles", {}))
                self._platforms = platform_codes(graph.manifest["gtfs"])
            prepared = self._prepare(tt)
            self._days[date] = prepared
            while len(self._days) > CACHED_DATES:
                self._days.popitem(last=False)
            return prepared

    def _prepare(self, tt: Timetable) -> _Day:
        from mobility.planner.plan import route_mode

        styles = self._styles or {}
        lines = []
        for r in range(len(tt.route_ids)):
            rid = str(tt.route_ids[r])
            style = styles.get(rid, {})
            name = str(tt.route_short_names[r]) or str(tt.route_long_names[r]) or rid
            lines.append(
                {
                    "name": name,
                    "mode": route_mode(int(tt.route_types[r])),
                    # the GTFS defaults: white badge, black text
                    "color": style.get("color") or "#FFFFFF",
                    "text_color": style.get("text_color") or "#000000",
                    "route_id": rid,
                }
            )
        platforms = self._platforms or {}
        stops = [
            (str(sid), str(name), platforms.get(str(sid)))
            for sid, name in zip(tt.stop_ids.tolist(), tt.stop_names.tolist(), strict=True)
        ]
        return _Day(OverlayBase(tt), service_day_epoch(tt.date, tt.timezone), lines, stops)

    def overlay_for(self, day: _Day) -> tuple[OverlayBase, RealtimeOverlay | None]:
        """The base and realtime overlay to scan for ``day``: the live overlay when it is built on
        that date's timetable (today's is attached to the live state on first use)."""
        state = self.svc.live_state()
        if day.tt.date == self.today():
            current = state.overlay_base
            if current is None or current.tt.date != day.tt.date:
                with self._attach_lock:
                    current = state.overlay_base
                    if current is None or current.tt.date != day.tt.date:
                        attach_timetable(state, day.tt)
        overlay = state.overlay()
        if overlay is not None and overlay.base.tt.date == day.tt.date:
            return overlay.base, overlay
        return day.base, None

    # -- stops ---------------------------------------------------------------------------------

    def stop_group(self, day: _Day, stop_id: str) -> np.ndarray | None:
        """The stops ``stop_id`` stands for (a station: its platforms); None when unknown."""
        found = day.groups.get(stop_id)
        if found is not None:
            return found
        index = day.tt.stop_index(stop_id)
        if index < 0:
            index = day.base.stop_lookup.get(stop_id, -1)  # a feed's own id in merged feeds
        if index < 0:
            return None
        group = day.tt.stop_group(index)
        if not len(group):
            group = np.array([index], dtype=np.int32)
        day.groups[stop_id] = group
        return group

    def stop_info(self, stop_id: str) -> dict[str, Any] | None:
        """``{stop_id, name, lat, lon}`` of a stop of today's timetable, or None."""
        day = self.day(self.today())
        index = day.tt.stop_index(stop_id)
        if index < 0:
            index = day.base.stop_lookup.get(stop_id, -1)
        if index < 0:
            return None
        tt = day.tt
        return {
            "stop_id": str(tt.stop_ids[index]),
            "name": str(tt.stop_names[index]),
            "lat": float(tt.stop_lat[index]),
            "lon": float(tt.stop_lon[index]),
        }

    # -- boards --------------------------------------------------------------------------------

    def departures(self, stop_ids: list[str], start: dt.datetime, window_s: int, limit: int) -> BoardResult:
        """The next ``limit`` departures at the stops within ``window_s`` of ``start``."""
        t0 = int(start.timestamp())
        t1 = t0 + window_s
        date = self.today(start)
        rows: list[tuple[_Day, BoardDeparture]] = []
        realtime = False
        for k, days in ((0, (0, -1)), (1, (0,))):
            if k == 1 and t1 < service_day_epoch(date + dt.timedelta(days=1), self.tz.key):
                break  # the window ends before the next service date's trips begin
            day = self.day(date + dt.timedelta(days=k))
            base, overlay = self.overlay_for(day)
            if overlay is not None and (overlay.applied or overlay.cancelled or overlay.added):
                realtime = True
            stops: list[int] = []
            for sid in stop_ids:
                group = self.stop_group(day, sid)
                if group is not None:
                    stops.extend(group.tolist())
            found = board(base, overlay, stops, t0 - day.epoch, t1 - day.epoch, days=days, limit=limit)
            rows.extend((day, d) for d in found)
        rows.sort(key=lambda x: (x[0].epoch + x[1].when_s, x[1].trip_id, x[1].stop))
        return BoardResult([self._item(day, d) for day, d in rows[:limit]], realtime)

    def _item(self, day: _Day, d: BoardDeparture) -> dict[str, Any]:
        stop_id, stop_name, platform = day.stops[d.stop]
        if d.route >= 0:
            line = day.lines[d.route]
        else:
            line = {
                "name": d.trip_id,
                "mode": "BUS",
                "color": "#FFFFFF",
                "text_color": "#000000",
                "route_id": None,
            }
        tz = self.tz
        when = dt.datetime.fromtimestamp(day.epoch + d.when_s, tz).isoformat()
        planned = (
            None
            if d.planned_s is None
            else dt.datetime.fromtimestamp(day.epoch + d.planned_s, tz).isoformat()
        )
        return {
            "stop_id": stop_id,
            "stop_name": stop_name,
            "trip_id": d.trip_id,
            "when": when,
            "planned_when": planned,
            "delay_s": d.delay_s,
            "platform": platform,
            "planned_platform": platform,
            "cancelled": d.cancelled,
            "realtime": d.realtime,
            "direction": d.headsign,
            "line": line,
            "service_date": (day.tt.date + dt.timedelta(days=d.day)).isoformat(),
        }


def departure_board(app: OpenAPI | None = None) -> DepartureBoard:
    """The process's :class:`DepartureBoard` (created by :func:`register`)."""
    from flask import current_app

    target = app if app is not None else current_app
    found: DepartureBoard = target.extensions[EXTENSION]
    return found


def window_start(when: dt.datetime | None, tz: ZoneInfo) -> dt.datetime:
    """``when`` (city time when naive) or now; 422 problem when too far from today."""
    now = dt.datetime.now(tz)
    if when is None:
        return now
    start = when.replace(tzinfo=tz) if when.tzinfo is None else when
    today = now.date()
    try:
        day: dt.date | None = start.astimezone(tz).date()
    except OverflowError:  # year 1 or 9999 with an offset
        day = None
    if day is None or not today - dt.timedelta(days=PAST_DAYS) <= day <= today + dt.timedelta(
        days=FUTURE_DAYS
    ):
        first, last = today - dt.timedelta(days=PAST_DAYS), today + dt.timedelta(days=FUTURE_DAYS)
        raise ApiProblem(
            422,
            "Invalid request",
            f"when: must lie between {PAST_DAYS} day before and {FUTURE_DAYS} days after today "
            f"({today.isoformat()}), got {start.isoformat()}",
            field="when",
            value=start.isoformat(),
            limit={"start": first.isoformat(), "end": last.isoformat()},
            constraint="range",
        )
    return start


def realtime_block(settings: Settings) -> dict[str, Any]:
    """``as_of``/``age_s``/``stale`` of the GTFS-Realtime feeds (not stale without any)."""
    statuses = services().live_state().feed_status()
    return freshness(statuses, ("gtfs-rt",), ZoneInfo(settings.timezone), stale_without=False)


def create_departures_blueprint(settings: Settings) -> APIBlueprint:
    """Routes of the departures capability under ``/api/v1``."""
    bp = APIBlueprint("departures", __name__, url_prefix="/api/v1", abp_tags=[departures_tag])
    tz = ZoneInfo(settings.timezone)
    answers = SecondCache()

    @bp.get(
        "/stops/<stop_id>/departures", responses={200: DeparturesResponse, **problems(400, 404, 422, 503)}
    )
    def stop_departures(path: DeparturesPath, query: DeparturesQuery) -> Response:
        """Departures at a stop (a station includes its platforms), planned and expected."""
        board_ = departure_board()
        start = window_start(query.when, tz)
        state = services().live_state()
        key = (second_of(state.clock), path.stop_id, query.limit, query.window_s, query.when)
        deps = (state.overlay(),)
        cached = answers.get(key, deps)
        if cached is not None:
            return json_response(cached, max_age_s=10)
        info = board_.stop_info(path.stop_id)
        if info is None:
            raise ApiProblem(404, "Unknown stop", f"no stop {path.stop_id!r} in the timetable")
        result = board_.departures([path.stop_id], start, query.window_s, query.limit)
        fresh = realtime_block(settings)
        doc = {
            "stop": info,
            "as_of": rfc3339(dt.datetime.now(tz), tz),
            "realtime": result.realtime,
            "realtime_as_of": fresh["as_of"],
            "age_s": fresh["age_s"],
            "stale": fresh["stale"],
            "departures": result.items,
        }
        answers.put(key, deps, doc)
        return json_response(doc, max_age_s=10)

    return bp


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach the departures route and the process's departure board to ``app``."""
    app.extensions[EXTENSION] = DepartureBoard(services(app), settings)
    app.register_api(create_departures_blueprint(settings))
    app.config["KNOTEN_CAPABILITIES"].append("departures")
