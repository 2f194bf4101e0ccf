"""Stop-to-stop journeys: the model the router returns (rides with integer ids) and readable legs.

A :class:`Journey` is a list of :class:`Ride`s; a ride may start with a footpath from the stop the
previous ride ended at.  :func:`journey_legs` and :func:`describe_journey` turn journeys into legs
with route names, stop names and times.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mobility.timetable import Timetable

ROUTE_TYPE_MODES = {
    0: "TRAM",
    1: "SUBWAY",
    2: "RAIL",
    3: "BUS",
    4: "FERRY",
    5: "CABLE_CAR",
    6: "GONDOLA",
    7: "FUNICULAR",
    11: "TROLLEYBUS",
    12: "MONORAIL",
}


def format_gtfs_time(seconds: int) -> str:
    """``HH:MM:SS`` for GTFS seconds (hours may exceed 23; negative times get a leading '-')."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    return f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def parse_gtfs_time(text: str) -> int:
    """GTFS seconds from ``H:MM:SS`` / ``HH:MM:SS`` (hours may exceed 23); ValueError otherwise."""
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"bad time {text!r} (expected HH:MM:SS)")
    h, m, s = (int(p) for p in parts)
    if m > 59 or s > 59 or len(parts[1]) != 2 or len(parts[2]) != 2:
        raise ValueError(f"bad time {text!r} (expected HH:MM:SS)")
    return h * 3600 + m * 60 + s


@dataclass
class Ride:
    """One ride of a journey (indices into the transit arrays), with the footpath before it."""

    pattern: int
    trip: int  # trip instance
    board_stop: int
    board_s: int
    alight_stop: int
    alight_s: int
    walk_from: int = -1  # stop the traveller walked from to reach board_stop (-1: no walk)
    walk_s: int = 0


@dataclass
class Journey:
    """Departure and arrival (GTFS seconds on the service date, egress included) and the rides."""

    departure_s: int
    arrival_s: int
    rides: list[Ride] = field(default_factory=list)
    egress_s: int = 0  # time from the last ride's stop to the destination

    @property
    def n_rides(self) -> int:
        """Number of vehicles boarded."""
        return len(self.rides)


@dataclass
class LegView:
    """One leg for display: either a ride or a walk between two stops."""

    mode: str
    route: str
    headsign: str
    trip_id: str
    from_stop_id: str
    from_name: str
    to_stop_id: str
    to_name: str
    start_s: int
    end_s: int


def _route_label(tt: Timetable, route: int) -> str:
    if route < 0:
        return "?"
    short = str(tt.route_short_names[route])
    long_ = str(tt.route_long_names[route])
    return short or long_ or str(tt.route_ids[route])


def journey_legs(tt: Timetable, journey: Journey) -> list[LegView]:
    """The legs of ``journey``: rides, with a WALK leg before every ride that starts with a walk."""
    views: list[LegView] = []
    for ride in journey.rides:
        if ride.walk_from >= 0:
            views.append(
                LegView(
                    "WALK",
                    "",
                    "",
                    "",
                    str(tt.stop_ids[ride.walk_from]),
                    str(tt.stop_names[ride.walk_from]),
                    str(tt.stop_ids[ride.board_stop]),
                    str(tt.stop_names[ride.board_stop]),
                    views[-1].end_s if views else ride.board_s,
                    (views[-1].end_s if views else ride.board_s) + ride.walk_s,
                )
            )
        trip = int(tt.inst_trip[ride.trip])
        route = int(tt.trip_route[trip])
        route_type = int(tt.route_types[route]) if route >= 0 else -1
        views.append(
            LegView(
                ROUTE_TYPE_MODES.get(route_type, "TRANSIT"),
                _route_label(tt, route),
                str(tt.trip_headsigns[trip]),
                str(tt.trip_ids[trip]),
                str(tt.stop_ids[ride.board_stop]),
                str(tt.stop_names[ride.board_stop]),
                str(tt.stop_ids[ride.alight_stop]),
                str(tt.stop_names[ride.alight_stop]),
                ride.board_s,
                ride.alight_s,
            )
        )
    return views


def describe_journey(tt: Timetable, journey: Journey) -> str:
    """A multi-line, human-readable description of one journey."""
    transfers = max(journey.n_rides - 1, 0)
    head = (
        f"depart {format_gtfs_time(journey.departure_s)}  arrive {format_gtfs_time(journey.arrival_s)}  "
        f"({(journey.arrival_s - journey.departure_s) // 60} min, {journey.n_rides} ride"
        f"{'s' if journey.n_rides != 1 else ''}, {transfers} transfer{'s' if transfers != 1 else ''})"
    )
    lines = [head]
    for v in journey_legs(tt, journey):
        if v.mode == "WALK":
            lines.append(
                f"  walk  {format_gtfs_time(v.start_s)}  {v.from_name} [{v.from_stop_id}] -> "
                f"{v.to_name} [{v.to_stop_id}] ({v.end_s - v.start_s} s)"
            )
        else:
            toward = f" towards {v.headsign}" if v.headsign else ""
            lines.append(f"  {v.mode.lower()} {v.route}{toward}  (trip {v.trip_id})")
            lines.append(f"        board  {format_gtfs_time(v.start_s)}  {v.from_name} [{v.from_stop_id}]")
            lines.append(f"        alight {format_gtfs_time(v.end_s)}  {v.to_name} [{v.to_stop_id}]")
    if not journey.rides:
        lines.append("  already there (origin and destination share a stop)")
    return "\n".join(lines)
