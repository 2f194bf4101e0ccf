"""Malformed feeds: one clear line naming file, line and field; non-zero exit; no traceback."""

from __future__ import annotations

import pytest

from mobility.errors import GtfsError
from mobility.gtfs import load_feed


def _replace(filename: str, old: str, new: str):
    def edit(name: str, text: str) -> str:
        return text.replace(old, new) if name == filename else text

    return edit


CASES = [
    (
        "missing_stop_times",
        lambda name, text: None if name == "stop_times.txt" else text,
        "stop_times.txt: required file is missing or empty",
    ),
    (
        "missing_calendars",
        lambda name, text: None if name == "calendar.txt" else text,
        "calendar.txt: required file is missing: calendar.txt or calendar_dates.txt",
    ),
    (
        "bad_time",
        _replace("stop_times.txt", "r2,08:12:00,08:12:00", "r2,08:12:00,8:1x:00"),
        "stop_times.txt, line 5, field departure_time: bad time '8:1x:00'",
    ),
    (
        "unknown_stop",
        _replace("stop_times.txt", "r1,08:10:00,08:10:00,Q1", "r1,08:10:00,08:10:00,Q9"),
        "stop_times.txt, line 3, field stop_id: unknown stop 'Q9'",
    ),
    (
        "missing_column",
        _replace("stop_times.txt", "departure_time", "departure"),
        "stop_times.txt: required column 'departure_time' is missing",
    ),
    (
        "bad_number",
        _replace(
            "stops.txt", "P2,Station P platform 2,51.680,7.821,,P", "P2,Station P platform 2,51.680,7.821,x,P"
        ),
        "stops.txt, line 4, field location_type: not a number: 'x'",
    ),
    (
        "bad_date",
        _replace("calendar.txt", "20241231", "2024-12-31"),
        "calendar.txt, line 2, field end_date: bad date '2024-12-31'",
    ),
]


@pytest.mark.parametrize(("case", "edit", "message"), CASES, ids=[c[0] for c in CASES])
def test_malformed_feed_is_reported_precisely(fixture_feed, case, edit, message) -> None:
    feed = fixture_feed("stations", edit, stem=f"broken_{case}")
    with pytest.raises(GtfsError) as err:
        load_feed(feed)
    assert str(err.value).startswith(f"{feed.name}, {message}")


@pytest.mark.parametrize("case", ["missing_stop_times", "bad_time", "unknown_stop"])
def test_cli_reports_malformed_feed_without_traceback(fixture_feed, route_batch, case) -> None:
    edit, message = next((c[1], c[2]) for c in CASES if c[0] == case)
    feed = fixture_feed("stations", edit, stem=f"broken_{case}")
    code, err, _ = route_batch([feed], "2024-03-06", [("q", "P", "Q", "07:00:00")])
    assert code == 1
    assert err.strip().startswith(f"knoten: error: {feed.name}, {message}")
    assert len(err.strip().splitlines()) == 1


def test_bad_query_rows_are_reported(fixture_feed, route_batch) -> None:
    feed = fixture_feed("stations")
    code, err, _ = route_batch([feed], "2024-03-06", [("q1", "P", "Q", "07:00:00"), ("q2", "P", "Q", "7h")])
    assert code == 1
    assert "queries.csv, line 3, field departure: bad time '7h'" in err
    code, err, _ = route_batch([feed], "2024-03-06", [("q1", "P", "NOPE", "07:00:00")])
    assert code == 1
    assert "queries.csv, line 2, field to_stop_id: unknown stop 'NOPE'" in err


def test_missing_feed_file(tmp_path, route_batch) -> None:
    code, err, _ = route_batch([tmp_path / "nothing.zip"], "2024-03-06", [("q", "P", "Q", "07:00:00")])
    assert code == 1
    assert "nothing.zip: no such file or folder" in err


def test_dangling_references_outside_stop_times_stops_are_ignored(fixture_feed) -> None:
    """Rows of undefined trips, unknown parents and transfers naming unknown stops do not stop a feed."""

    def edit(name: str, text: str) -> str:
        if name == "stop_times.txt":
            return text + "ghost,09:00:00,09:00:00,P1,1\n"
        if name == "stops.txt":
            return text.replace("0,Q\n", "0,QQ\n")
        return text

    feed = load_feed(fixture_feed("stations", edit, stem="dangling"))
    assert len(feed.st_stop) == 4
    assert feed.stop_parent[list(feed.stop_ids).index("Q2")] == -1
