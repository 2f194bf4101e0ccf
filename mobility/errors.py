"""Domain errors of the mobility package."""

from __future__ import annotations


class MobilityError(Exception):
    """Base class of every error the mobility package raises on purpose."""


class GtfsError(MobilityError):
    """A GTFS feed that cannot be used, with the file, line and field at fault where known."""

    def __init__(
        self,
        feed: str,
        message: str,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.feed = feed
        self.file = file
        self.line = line
        self.field = field
        where = [feed]
        if file is not None:
            where.append(file)
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {message}")


class UnknownStopError(MobilityError):
    """A query names a stop_id that the timetable does not know."""


class QueryError(MobilityError):
    """A routing query that cannot be understood (bad time, bad CSV row, ...)."""


class StreetError(MobilityError):
    """An OSM street network that cannot be read or used."""


class NoRouteError(MobilityError):
    """A door-to-door query without any itinerary; ``reason`` says why in words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"no route: {reason}")
