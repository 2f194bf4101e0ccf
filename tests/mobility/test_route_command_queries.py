"""``knoten route --arrive-by`` and ``--window-min``: the answers, worked out by hand from the fixture.

The ``frequencies`` fixture runs line F from Alpha (A) to Charlie (C) in 15 minutes, every 15
minutes from 07:00 to 08:00 (departures 07:00, 07:15, 07:30, 07:45) and every 10 minutes from
09:00 to 09:25 with exact times (09:00, 09:10, 09:20).
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from api.cli import main
from tests.mobility.conftest import FIXTURES, zip_feed

JOURNEY = re.compile(r"^\d+\. depart (\d\d:\d\d:\d\d)  arrive (\d\d:\d\d:\d\d)", re.MULTILINE)


def _route(tmp_path: Path, *extra: str) -> list[tuple[str, str]]:
    feed = zip_feed(FIXTURES / "frequencies", tmp_path / "frequencies.gtfs.zip")
    args = ["route", "--gtfs", str(feed), "--from", "A", "--to", "C", "--date", "2024-03-06"]
    result = CliRunner().invoke(main, [*args, "--no-cache", *extra])
    assert result.exit_code == 0, result.output
    return JOURNEY.findall(result.output)


def test_arrive_by_answers_the_latest_departure_that_arrives_in_time(tmp_path: Path) -> None:
    # 09:20 arrives 09:35, too late for 09:30; 09:10 arrives 09:25
    assert _route(tmp_path, "--arrive-by", "09:30:00") == [("09:10:00", "09:25:00")]
    # arriving by 09:35 the 09:20 departure is the latest
    assert _route(tmp_path, "--arrive-by", "09:35:00") == [("09:20:00", "09:35:00")]
    # between the two service windows: the last departure of the first (07:45, arriving 08:00)
    assert _route(tmp_path, "--arrive-by", "08:59:00") == [("07:45:00", "08:00:00")]


def test_arrive_by_before_the_first_arrival_has_no_journey(tmp_path: Path) -> None:
    feed = zip_feed(FIXTURES / "frequencies", tmp_path / "frequencies.gtfs.zip")
    args = ["route", "--gtfs", str(feed), "--from", "A", "--to", "C", "--date", "2024-03-06", "--no-cache"]
    result = CliRunner().invoke(main, [*args, "--arrive-by", "07:14:00"])
    assert result.exit_code == 0, result.output
    assert "no journey arriving by 07:14:00" in result.output
    assert JOURNEY.findall(result.output) == []


def test_window_lists_every_departure_within_it(tmp_path: Path) -> None:
    hour = _route(tmp_path, "--depart", "07:05:00", "--window-min", "60")
    assert hour == [("07:15:00", "07:30:00"), ("07:30:00", "07:45:00"), ("07:45:00", "08:00:00")]
    # a window reaching into the second service period picks up its departures too
    late = _route(tmp_path, "--depart", "07:40:00", "--window-min", "95")
    assert late == [("07:45:00", "08:00:00"), ("09:00:00", "09:15:00"), ("09:10:00", "09:25:00")]
    # without a window: the one earliest journey
    assert _route(tmp_path, "--depart", "07:05:00") == [("07:15:00", "07:30:00")]
