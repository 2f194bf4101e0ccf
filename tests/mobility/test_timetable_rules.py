"""Each rule of the timetable semantics, pinned by a hand-written feed and hand-derived answers.

Every expectation is checked twice: through the router in process (RAPTOR with the footpaths of
``--transfers gtfs``) and through the independent brute-force reference in ``reference.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mobility.reference import Reference

Query = tuple[str, str, str, str, str, str]  # id, from, to, departure, expected arrival, expected rides


def check(
    solve_batch: Callable[..., tuple[int, str, dict[str, tuple[str, str]]]],
    feeds: list[Path],
    date: str,
    cases: list[Query],
) -> None:
    code, err, answers = solve_batch(feeds, date, [c[:4] for c in cases])
    assert code == 0, err
    ref = Reference(feeds, dt.date.fromisoformat(date))
    for qid, frm, to, dep, arrival, rides in cases:
        assert answers[qid] == (arrival, rides), f"{qid}: {frm}->{to} at {dep}"
        h, m, s = (int(x) for x in dep.split(":"))
        ref_arr, ref_rides = ref.query(frm, to, h * 3600 + m * 60 + s)
        ref_text = (
            "" if ref_arr is None else f"{ref_arr // 3600:02d}:{ref_arr // 60 % 60:02d}:{ref_arr % 60:02d}"
        )
        assert (ref_text, "" if ref_rides is None else str(ref_rides)) == (arrival, rides), f"reference {qid}"


def test_overnight_trips_of_the_previous_day_run_shifted_by_24h(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("overnight")
    # 2024-03-06 is a Wednesday: Tuesday's night trip runs at -00:10 (A), 00:20 (B), 01:10 (C)
    check(
        solve_batch,
        [feed],
        "2024-03-06",
        [
            ("from_first_stop", "A", "C", "00:00:00", "01:30:00", "1"),  # night trip left A before t
            ("board_later_stop", "B", "C", "00:00:00", "01:10:00", "1"),
            ("missed_at_later_stop", "B", "C", "00:21:00", "01:30:00", "1"),
        ],
    )


def test_arrivals_past_midnight_and_no_trips_of_the_next_day(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("overnight")
    check(
        solve_batch,
        [feed],
        "2024-03-05",  # Tuesday: Wednesday's early trip must not be used
        [
            ("past_midnight", "A", "C", "23:00:00", "25:10:00", "1"),
            ("next_day_not_active", "A", "C", "24:40:00", "", ""),
        ],
    )


def test_frequencies_expand_into_copies_before_end_time(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("frequencies")
    check(
        solve_batch,
        [feed],
        "2024-03-06",
        [
            ("template_times_do_not_run", "A", "C", "05:50:00", "07:15:00", "1"),
            ("copy_at_0730", "A", "C", "07:30:00", "07:45:00", "1"),
            ("end_time_is_exclusive", "A", "C", "07:46:00", "09:15:00", "1"),
            ("offsets_kept_at_middle_stop", "B", "C", "07:08:00", "07:15:00", "1"),
            ("exact_times_same_expansion", "B", "C", "09:09:00", "09:25:00", "1"),
            ("last_copy_0920", "A", "C", "09:11:00", "09:35:00", "1"),
            ("after_last_copy", "A", "C", "09:21:00", "", ""),
        ],
    )


def test_station_stands_for_its_platforms(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("stations")
    check(
        solve_batch,
        [feed],
        "2024-03-06",
        [
            ("station_to_station", "P", "Q", "07:00:00", "08:10:00", "1"),
            ("platform_to_station", "P2", "Q", "07:00:00", "08:12:00", "1"),
            ("no_walk_after_last_ride", "P", "Q1", "08:01:00", "", ""),
            ("station_and_own_platform", "P", "P1", "08:01:00", "08:01:00", "0"),
            ("same_stop", "Q2", "Q2", "10:00:00", "10:00:00", "0"),
            ("no_walk_before_first_ride", "P1", "P2", "07:00:00", "", ""),
        ],
    )


def test_only_pickup_and_drop_off_type_1_forbid(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("pickup_dropoff")
    check(
        solve_batch,
        [feed],
        "2024-03-06",
        [
            ("pickup_1_forbids_boarding", "K1", "K3", "07:00:00", "08:50:00", "1"),
            ("pickup_2_allows", "K2", "K3", "07:00:00", "08:20:00", "1"),
            ("drop_off_1_forbids_alighting", "K1", "K2", "07:00:00", "08:40:00", "1"),
            ("after_plain", "K1", "K2", "08:31:00", "", ""),
        ],
    )


def test_transfers_txt_rules_and_precedence(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("transfers")
    check(
        solve_batch,
        [feed],
        "2024-03-06",
        [
            ("min_transfer_time", "Z0", "Z9", "07:00:00", "08:25:00", "2"),
            ("walks_do_not_chain", "Z0", "Z8", "07:00:00", "", ""),
            ("no_walk_before_first_ride", "A", "Z9", "07:00:00", "", ""),
            ("no_walk_after_last_ride", "Z0", "B", "07:00:00", "", ""),
            ("type_1_without_time_is_0s", "Z7", "Z6", "08:50:00", "09:20:00", "2"),
            ("stop_row_wins_over_station_row", "Y0", "Y1", "09:00:00", "10:30:00", "2"),
            ("station_row_covers_children", "Y0", "Y2", "09:00:00", "10:40:00", "2"),
            ("forbidden_stop_row_wins", "Y3", "Y4", "10:00:00", "", ""),
            ("station_to_station_row", "Y3", "Y5", "10:00:00", "11:45:00", "2"),
            ("self_row_never_forbids_staying", "Y6", "Y7", "11:50:00", "12:30:00", "2"),
            ("station_stop_row_ignored", "Y8", "Y9", "12:50:00", "", ""),
        ],
    )


def test_calendar_dates_add_and_remove_service(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("calendar_dates")
    check(solve_batch, [feed], "2024-05-01", [("holiday", "A", "B", "07:00:00", "09:20:00", "1")])
    check(solve_batch, [feed], "2024-05-02", [("weekday", "A", "B", "07:00:00", "08:30:00", "1")])


def test_no_service_on_the_date_answers_unreachable(fixture_feed, route_batch) -> None:
    code, err, answers = route_batch(
        [fixture_feed("calendar_dates")], "2024-05-05", [("q", "A", "B", "07:00:00")]
    )
    assert code == 0
    assert "no trips run on 2024-05-05" in err
    assert answers == {"q": ("", "")}


def test_fewest_rides_among_earliest_and_overtaking_trips(fixture_feed, solve_batch) -> None:
    feed = fixture_feed("riding")
    check(
        solve_batch,
        [feed],
        "2024-03-06",
        [
            ("fewest_rides_at_equal_arrival", "A", "C", "07:00:00", "08:30:00", "1"),
            ("overtaking_trip_wins", "D", "F", "08:00:00", "09:30:00", "1"),
            ("overtaking_from_middle", "E", "F", "09:11:00", "09:30:00", "1"),
        ],
    )


def test_merged_feeds_are_namespaced(fixture_feed, solve_batch) -> None:
    feeds = [fixture_feed("riding"), fixture_feed("frequencies")]
    check(
        solve_batch,
        feeds,
        "2024-03-06",
        [
            ("first_feed", "riding:A", "riding:C", "07:00:00", "08:30:00", "1"),
            ("second_feed", "frequencies:A", "frequencies:C", "07:30:00", "07:45:00", "1"),
            ("across_feeds", "riding:A", "frequencies:C", "07:00:00", "", ""),
        ],
    )
    code, err, _ = solve_batch(feeds, "2024-03-06", [("q", "A", "C", "07:00:00")])
    assert code == 1 and "unknown stop 'A'" in err


@pytest.mark.parametrize("mode", ["walk", "gtfs"])
def test_walk_mode_adds_crow_fly_walks(fixture_feed, solve_batch, mode: str) -> None:
    # C and S1 are 13 m apart: only the walk mode lets Y8 -> C (13:10) -> S1 (13:30) -> Y9 work
    code, err, answers = solve_batch(
        [fixture_feed("transfers")], "2024-03-06", [("q", "Y8", "Y9", "12:50:00")], mode
    )
    assert code == 0, err
    assert answers["q"] == (("13:50:00", "2") if mode == "walk" else ("", ""))
