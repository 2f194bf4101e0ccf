"""GTFS-Realtime TripUpdates and ServiceAlerts as plain frozen dataclasses.

Decoding uses gtfs-realtime-bindings. Every entity is checked on its own: a bad entity (a trip
update without a trip, a stop time update naming neither stop nor sequence, times going
backwards along the trip, ...) is skipped and counted, with its problem; the rest of the message
is kept. A message that cannot be decoded at all raises :class:`~mobility.errors.FeedError`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from google.protobuf.message import DecodeError
from google.transit import gtfs_realtime_pb2

from mobility.errors import FeedError, FeedProblem

logger = logging.getLogger(__name__)


class TripRelationship(IntEnum):
    """``TripDescriptor.ScheduleRelationship``."""

    SCHEDULED = 0
    ADDED = 1
    UNSCHEDULED = 2
    CANCELED = 3
    REPLACEMENT = 5
    DUPLICATED = 6
    DELETED = 7
    NEW = 8


class StopRelationship(IntEnum):
    """``StopTimeUpdate.ScheduleRelationship``."""

    SCHEDULED = 0
    SKIPPED = 1
    NO_DATA = 2
    UNSCHEDULED = 3


@dataclass(frozen=True, slots=True)
class StopTimeUpdate:
    """Predicted times at one stop of a trip; ``*_time`` are POSIX seconds, ``*_delay_s`` seconds."""

    stop_sequence: int | None
    stop_id: str | None
    arrival_delay_s: int | None = None
    arrival_time: int | None = None
    departure_delay_s: int | None = None
    departure_time: int | None = None
    relationship: StopRelationship = StopRelationship.SCHEDULED


@dataclass(frozen=True, slots=True)
class TripUpdate:
    """One TripUpdate entity."""

    entity_id: str
    trip_id: str | None
    route_id: str | None
    direction_id: int | None
    start_date: str | None
    start_time: str | None
    relationship: TripRelationship
    stop_time_updates: tuple[StopTimeUpdate, ...]
    delay_s: int | None = None
    vehicle_id: str | None = None
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class InformedEntity:
    """What an alert is about (any of the ids may be None)."""

    agency_id: str | None = None
    route_id: str | None = None
    route_type: int | None = None
    stop_id: str | None = None
    trip_id: str | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    """One ServiceAlert entity; texts keyed by language ("" when the feed names none)."""

    entity_id: str
    cause: str
    effect: str
    header: dict[str, str] = field(hash=False)
    description: dict[str, str] = field(hash=False)
    informed: tuple[InformedEntity, ...]
    active_periods: tuple[tuple[int | None, int | None], ...]
    url: str | None = None


@dataclass(frozen=True, slots=True)
class RealtimeFeed:
    """A decoded GTFS-Realtime message: what was usable, and what was skipped and why."""

    version: str
    timestamp: datetime | None
    incrementality: str
    trip_updates: tuple[TripUpdate, ...]
    alerts: tuple[Alert, ...]
    n_vehicle_positions: int
    n_entities: int
    skipped: int
    problems: tuple[FeedProblem, ...]


def _opt(msg: Any, name: str) -> Any:
    return getattr(msg, name) if msg.HasField(name) else None


def _stop_time_update(stu: Any, where: str) -> StopTimeUpdate:
    seq = _opt(stu, "stop_sequence")
    stop_id = _opt(stu, "stop_id")
    if seq is None and not stop_id:
        raise ValueError(f"{where}: names neither stop_sequence nor stop_id")
    arr = stu.arrival if stu.HasField("arrival") else None
    dep = stu.departure if stu.HasField("departure") else None
    rel = StopRelationship(stu.schedule_relationship)
    if rel == StopRelationship.SCHEDULED and arr is None and dep is None:
        raise ValueError(f"{where}: SCHEDULED without arrival or departure")
    return StopTimeUpdate(
        stop_sequence=seq,
        stop_id=stop_id or None,
        arrival_delay_s=_opt(arr, "delay") if arr is not None else None,
        arrival_time=_opt(arr, "time") if arr is not None else None,
        departure_delay_s=_opt(dep, "delay") if dep is not None else None,
        departure_time=_opt(dep, "time") if dep is not None else None,
        relationship=rel,
    )


def _check_order(updates: list[StopTimeUpdate], where: str) -> None:
    last_seq = -1
    last_time = None
    for i, u in enumerate(updates):
        if u.stop_sequence is not None:
            if u.stop_sequence <= last_seq:
                raise ValueError(
                    f"{where}/stop_time_update/{i}: stop_sequence {u.stop_sequence} not increasing"
                )
            last_seq = u.stop_sequence
        for t in (u.arrival_time, u.departure_time):
            if t is not None and t != 0:
                if last_time is not None and t < last_time:
                    raise ValueError(f"{where}/stop_time_update/{i}: time goes backwards along the trip")
                last_time = t


def _trip_update(entity: Any, where: str) -> TripUpdate:
    tu = entity.trip_update
    if not tu.HasField("trip"):
        raise ValueError(f"{where}/trip_update: no trip descriptor")
    trip = tu.trip
    trip_id = _opt(trip, "trip_id") or None
    rel = TripRelationship(trip.schedule_relationship)
    if trip_id is None and not (_opt(trip, "route_id") and rel == TripRelationship.CANCELED):
        raise ValueError(f"{where}/trip_update/trip: no trip_id")
    updates = [
        _stop_time_update(stu, f"{where}/trip_update/stop_time_update/{i}")
        for i, stu in enumerate(tu.stop_time_update)
    ]
    _check_order(updates, f"{where}/trip_update")
    if rel in (TripRelationship.ADDED, TripRelationship.NEW) and not any(
        u.arrival_time or u.departure_time for u in updates
    ):
        raise ValueError(f"{where}/trip_update: added trip without absolute stop times")
    return TripUpdate(
        entity_id=entity.id,
        trip_id=trip_id,
        route_id=_opt(trip, "route_id") or None,
        direction_id=_opt(trip, "direction_id"),
        start_date=_opt(trip, "start_date") or None,
        start_time=_opt(trip, "start_time") or None,
        relationship=rel,
        stop_time_updates=tuple(updates),
        delay_s=_opt(tu, "delay"),
        vehicle_id=(_opt(tu.vehicle, "id") or None) if tu.HasField("vehicle") else None,
        timestamp=_opt(tu, "timestamp"),
    )


def _translations(ts: Any) -> dict[str, str]:
    return {t.language or "": t.text for t in ts.translation}


def _alert(entity: Any, where: str) -> Alert:
    a = entity.alert
    informed = tuple(
        InformedEntity(
            agency_id=_opt(ie, "agency_id") or None,
            route_id=_opt(ie, "route_id") or None,
            route_type=_opt(ie, "route_type"),
            stop_id=_opt(ie, "stop_id") or None,
            trip_id=(_opt(ie.trip, "trip_id") or None) if ie.HasField("trip") else None,
        )
        for ie in a.informed_entity
    )
    if not informed:
        raise ValueError(f"{where}/alert: no informed_entity")
    enum = gtfs_realtime_pb2.Alert
    return Alert(
        entity_id=entity.id,
        cause=enum.Cause.Name(a.cause),
        effect=enum.Effect.Name(a.effect),
        header=_translations(a.header_text),
        description=_translations(a.description_text),
        informed=informed,
        active_periods=tuple((_opt(p, "start"), _opt(p, "end")) for p in a.active_period),
        url=next(iter(_translations(a.url).values()), None) if a.HasField("url") else None,
    )


def decode(data: bytes, source: str = "feed") -> Any:
    """Decode a GTFS-Realtime ``FeedMessage``; raises :class:`FeedError` for undecodable bytes."""
    msg = gtfs_realtime_pb2.FeedMessage()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        detail = str(exc) or type(exc).__name__
        raise FeedError(
            f"{source}: not a GTFS-Realtime FeedMessage ({detail})",
            [FeedProblem(source, "/", f"protobuf does not decode: {detail}")],
        ) from exc
    if not msg.header.gtfs_realtime_version:
        raise FeedError(
            f"{source}: no header", [FeedProblem(source, "/header", "missing gtfs_realtime_version")]
        )
    return msg


def parse_feed(data: bytes, source: str = "feed") -> RealtimeFeed:
    """Parse a GTFS-Realtime message; bad entities are skipped, counted and listed in ``problems``."""
    msg = decode(data, source)
    trip_updates: list[TripUpdate] = []
    alerts: list[Alert] = []
    problems: list[FeedProblem] = []
    n_vehicles = 0
    for i, entity in enumerate(msg.entity):
        where = f"/entity/{i}"
        try:
            if entity.is_deleted:
                continue
            if entity.HasField("trip_update"):
                trip_updates.append(_trip_update(entity, where))
            if entity.HasField("alert"):
                alerts.append(_alert(entity, where))
            if entity.HasField("vehicle"):
                n_vehicles += 1
        except ValueError as exc:
            message = str(exc)
            path, _, what = message.partition(": ")
            problems.append(FeedProblem(source, f"{path} (id {entity.id!r})", what or message))
    header = msg.header
    skipped = len(problems)
    ts = None
    if header.HasField("timestamp"):
        try:
            ts = datetime.fromtimestamp(header.timestamp, tz=UTC)
        except (OverflowError, OSError, ValueError):
            problems.append(FeedProblem(source, "/header/timestamp", f"{header.timestamp} is not a time"))
    if problems:
        logger.warning("%s: skipped %d bad entities, first: %s", source, len(problems), problems[0])
    return RealtimeFeed(
        version=header.gtfs_realtime_version,
        timestamp=ts,
        incrementality=gtfs_realtime_pb2.FeedHeader.Incrementality.Name(header.incrementality),
        trip_updates=tuple(trip_updates),
        alerts=tuple(alerts),
        n_vehicle_positions=n_vehicles,
        n_entities=len(msg.entity),
        skipped=skipped,
        problems=tuple(problems),
    )
