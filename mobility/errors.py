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


class FeedError(MobilityError):
    """A live feed (GBFS, GTFS-Realtime) that cannot be used.

    ``problems`` lists every problem found, each a :class:`FeedProblem`.
    """

    def __init__(self, message: str, problems: list[FeedProblem] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)


class FeedProblem:
    """One problem of a feed: the file, the path inside the document, and what is wrong."""

    __slots__ = ("file", "message", "path")

    def __init__(self, file: str, path: str, message: str) -> None:
        self.file = file
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '/'}: {self.message}"

    def __repr__(self) -> str:
        return f"FeedProblem({self.file!r}, {self.path!r}, {self.message!r})"


class StreetError(MobilityError):
    """An OSM street network that cannot be read or used."""


class NoRouteError(MobilityError):
    """A door-to-door query without any itinerary; ``reason`` says why in words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"no route: {reason}")
