"""Journeys with legs, Pareto sets, range and arrive-by queries, the cache and the route/build commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from api.cli import main
from mobility.cache import cache_path, get_timetable, load_cached, save_timetable
from mobility.footpaths import gtfs_footpaths
from mobility.journeys import Journey
from mobility.raptor import Router
from mobility.timetable import build_timetable

DAY = dt.date(2024, 3, 6)


def _router(feed: Path, date: dt.date = DAY) -> Router:
    tt = build_timetable([feed], date)
    return Router(tt, gtfs_footpaths(tt))


def _stops(router: Router, stop_id: str) -> np.ndarray:
    return router.tt.stop_group(router.tt.stop_index(stop_id))


def _check_legs(router: Router, journey: Journey, t0: int) -> None:
    """Every leg is a real ride of its trip, boarding after the previous arrival plus the walk."""
    tt = router.tt
    ready = t0
    for leg in journey.rides:
        ready += leg.walk_s
        assert leg.board_s >= ready
        p = leg.pattern
        so, n = int(tt.pat_stop_off[p]), int(tt.pat_stop_off[p + 1] - tt.pat_stop_off[p])
        stops = list(tt.pat_stops[so : so + n])
        row = int(tt.pat_time_off[p]) + (leg.trip - int(tt.pat_trip_off[p])) * n
        i, j = stops.index(leg.board_stop), n - 1 - stops[::-1].index(leg.alight_stop)
        assert i < j and tt.pat_pickup[so + i] and tt.pat_dropoff[so + j]
        assert int(tt.dep_s[row + i]) == leg.board_s and int(tt.arr_s[row + j]) == leg.alight_s
        ready = leg.alight_s


def test_pareto_set_trades_rides_for_arrival(fixture_feed) -> None:
    router = _router(fixture_feed("transfers"))
    journeys = router.pareto(_stops(router, "Y0"), _stops(router, "Y2"), 9 * 3600)
    assert [(j.arrival_s, j.n_rides) for j in journeys] == [(10 * 3600 + 40 * 60, 2)]
    leg_walk = journeys[0].rides[1]
    assert leg_walk.walk_from == router.tt.stop_index("S1") and leg_walk.walk_s == 300
    _check_legs(router, journeys[0], 9 * 3600)


def test_pareto_on_helsinki_matches_earliest_arrival(shared_data: Path) -> None:
    router = _router(shared_data / "gtfs" / "hsl_helsinki_centre_2022.gtfs.zip", dt.date(2022, 2, 22))
    served = np.unique(router.tt.pat_stops)
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(60):
        a, b = rng.choice(served, 2, replace=False)
        t0 = int(rng.integers(7 * 3600, 19 * 3600))
        arrival, rides = router.earliest_arrival(np.array([a]), np.array([b]), t0)
        journeys = router.pareto(np.array([a]), np.array([b]), t0)
        if arrival < 0:
            assert journeys == []
            continue
        checked += 1
        arrivals = [j.arrival_s for j in journeys]
        assert arrivals == sorted(arrivals, reverse=True)
        assert (journeys[-1].arrival_s, journeys[-1].n_rides) == (arrival, rides)
        for j in journeys:
            _check_legs(router, j, t0)
    assert checked > 10


def test_range_query_lists_every_departure_in_the_window(fixture_feed) -> None:
    router = _router(fixture_feed("frequencies"))
    journeys = router.range_query(_stops(router, "A"), _stops(router, "C"), 7 * 3600, 3600)
    assert [(j.departure_s, j.arrival_s) for j in journeys] == [
        (7 * 3600 + m * 60, 7 * 3600 + (m + 15) * 60) for m in (0, 15, 30, 45)
    ]


def test_arrive_by_finds_the_latest_departure(fixture_feed) -> None:
    router = _router(fixture_feed("frequencies"))
    journeys = router.latest_departure(_stops(router, "A"), _stops(router, "C"), 9 * 3600 + 30 * 60)
    assert [(j.departure_s, j.arrival_s) for j in journeys] == [(9 * 3600 + 10 * 60, 9 * 3600 + 25 * 60)]
    assert router.latest_departure(_stops(router, "A"), _stops(router, "C"), 7 * 3600) == []


def test_cache_round_trip_and_key(fixture_feed, tmp_path: Path) -> None:
    feed = fixture_feed("transfers")
    tt, cached = get_timetable([feed], DAY, tmp_path)
    assert not cached
    again, cached = get_timetable([feed], DAY, tmp_path)
    assert cached
    for name in ("arr_s", "dep_s", "pat_stops", "stop_pat", "rule_time_s", "stop_ids"):
        assert np.array_equal(getattr(tt, name), getattr(again, name))
    assert cache_path([feed], DAY, tmp_path) != cache_path([feed], DAY + dt.timedelta(days=1), tmp_path)
    # same path, same size, new content: the key follows the bytes, not the name
    before, size = cache_path([feed], DAY, tmp_path).name, feed.stat().st_size
    other = fixture_feed("transfers", lambda n, t: t.replace("08:25:00", "08:26:00"))
    assert other == feed and other.stat().st_size == size
    assert cache_path([other], DAY, tmp_path).name != before
    changed, cached = get_timetable([other], DAY, tmp_path)
    assert not cached and not np.array_equal(changed.arr_s, tt.arr_s)
    save_timetable(tt, tmp_path / "x.npz")
    assert load_cached(tmp_path / "x.npz").n_stop_times == tt.n_stop_times


def test_route_command_prints_legs(fixture_feed, tmp_path: Path) -> None:
    feed = fixture_feed("transfers")
    args = ["route", "--gtfs", str(feed), "--from", "Y0", "--to", "Y1", "--depart", "09:00:00"]
    args += ["--date", "2024-03-06", "--transfers", "gtfs", "--cache-dir", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "depart 10:00:00  arrive 10:30:00" in out and "2 rides, 1 transfer" in out
    assert "walk  10:10:00  Station S platform 1 [S1] -> Station S platform 2 [S2] (60 s)" in out
    assert "board  10:11:00  Station S platform 2 [S2]" in out
    bad = CliRunner().invoke(main, [*args[:6], "NOPE", *args[7:]])
    assert bad.exit_code == 2 and "unknown stop 'NOPE'" in bad.output


def test_build_command_fills_the_cache(fixture_feed, tmp_path: Path) -> None:
    feed = fixture_feed("riding")
    result = CliRunner().invoke(
        main, ["build", "--gtfs", str(feed), "--date", "2024-03-06", "--cache-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "2024-03-06: 6 stops" in result.output
    assert cache_path([feed], DAY, tmp_path).exists()
