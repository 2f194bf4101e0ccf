"""Itineraries on the realtime overlay: the demo city's synthetic TripUpdates (late buses, one
cancelled trip an hour) change what is offered and how its legs are timed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mobility.errors import NoRouteError
from mobility.planner.graphdir import GraphDir
from mobility.planner.itinerary import TRANSIT_MODES, Itinerary, Leg
from mobility.planner.plan import Planner
from mobility.planner.query import PlanQuery
from mobility.realtime.gtfs_rt import RealtimeFeed, StopTimeUpdate, TripRelationship, TripUpdate, parse_feed
from mobility.realtime.overlay import OverlayBase, RealtimeOverlay, build_overlay
from scenarios.demo import DemoCity
from scenarios.demo.live import DemoRealtime

TZ = ZoneInfo("Europe/Berlin")
WALK_TRANSIT = frozenset({"walk", "transit"})
HOURS = (7, 8, 9, 10, 16, 17)


def _at(hour: int) -> dt.datetime:
    return dt.datetime.combine(dt.date.today(), dt.time(hour, 0), tzinfo=TZ)


@pytest.fixture(scope="module")
def base(planner: Planner) -> OverlayBase:
    assert planner.tt is not None
    return OverlayBase(planner.tt)


@pytest.fixture(scope="module")
def feeds(demo_city: DemoCity) -> dict[int, RealtimeFeed]:
    """The demo's TripUpdates at a few hours of today (a new draw of delays and cancellations
    every hour)."""
    live = DemoRealtime(demo_city.gtfs, demo_city.seed)
    return {h: parse_feed(live.trip_updates(_at(h))) for h in HOURS}


def _trip_stops(base: OverlayBase, trip_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Stops and planned departures of today's instance of a trip."""
    tt = base.tt
    inst = base.instance(base.trip_index[trip_id], 0)
    p, start, n = base.rows(inst)
    so = int(tt.pat_stop_off[p])
    return tt.pat_stops[so : so + n], tt.transit.dep_s[start : start + n]


def _query(planner: Planner, base: OverlayBase, a: int, b: int, leave_s: int) -> PlanQuery:
    tt = base.tt
    return PlanQuery(float(tt.stop_lat[a]), float(tt.stop_lon[a]), float(tt.stop_lat[b]),
                     float(tt.stop_lon[b]), planner.at(leave_s), modes=WALK_TRANSIT)  # fmt: skip


def _plan(planner: Planner, q: PlanQuery, overlay: RealtimeOverlay | None = None) -> list[Itinerary]:
    """The itineraries, or none where a stop lies outside the demo's streets (the far rail stops)."""
    try:
        return planner.plan(q, overlay=overlay)
    except NoRouteError:
        return []


def _rides(its: list[Itinerary]) -> list[Leg]:
    return [leg for it in its for leg in it.legs if leg.mode in TRANSIT_MODES]


def _position(tt: object, stops: np.ndarray, stop_id: str | None, after: int = 0) -> int:
    ids = [str(x) for x in tt.stop_ids[stops]]  # type: ignore[attr-defined]
    return ids.index(str(stop_id), after)


def _late_trips(feed: RealtimeFeed) -> list[tuple[str, str, int]]:
    """(trip id, stop id from which it runs late, delay) of the feed's late trips."""
    out = []
    for tu in feed.trip_updates:
        if tu.relationship == TripRelationship.SCHEDULED and tu.stop_time_updates:
            u = tu.stop_time_updates[0]
            if u.arrival_delay_s and u.stop_id and tu.trip_id:
                out.append((tu.trip_id, u.stop_id, int(u.arrival_delay_s)))
    return out


def test_delayed_trip_shows_estimated_times_and_delay(
    planner: Planner, base: OverlayBase, feeds: dict[int, RealtimeFeed]
) -> None:
    tt = base.tt
    checked = 0
    for hour, feed in feeds.items():
        overlay = build_overlay(base, feed)
        for trip_id, stop_id, delay in _late_trips(feed):
            stops, dep = _trip_stops(base, trip_id)
            late_from = int(np.nonzero(tt.stop_ids[stops] == stop_id)[0][0])
            if late_from >= len(stops) - 1:
                continue
            a, b = int(stops[late_from]), int(stops[-1])
            q = _query(planner, base, a, b, int(dep[late_from]) - 180)
            on_trip = [leg for leg in _rides(_plan(planner, q, overlay))
                       if leg.transit and leg.transit["trip_id"] == trip_id]  # fmt: skip
            for leg in on_trip:
                assert leg.realtime is True
                doc = leg.to_json()
                board = _position(tt, stops, leg.origin.stop_id)
                alight = _position(tt, stops, leg.destination.stop_id, board + 1)
                want_start = delay if board >= late_from else 0
                want_end = delay if alight >= late_from else 0
                assert (doc["start"]["delay_s"], doc["end"]["delay_s"]) == (want_start, want_end), (
                    hour,
                    trip_id,
                )
                assert leg.start.scheduled == planner.at(int(dep[board]))
                assert leg.start.estimated == leg.start.scheduled + dt.timedelta(seconds=want_start)
                assert (
                    leg.end.estimated is not None
                    and leg.end.estimated - leg.end.scheduled == dt.timedelta(seconds=want_end)
                )
                for stop in leg.transit["intermediate_stops"]:  # type: ignore[index]
                    planned = dt.datetime.fromisoformat(stop["scheduled_departure"])
                    assert dt.datetime.fromisoformat(stop["departure"]) - planned == dt.timedelta(
                        seconds=delay
                    )
                checked += want_start > 0
            # the same trip as planned: no estimate, no delay, not realtime
            for leg in _rides(_plan(planner, q)):
                assert leg.realtime is False and leg.start.estimated is None and leg.start.delay_s is None
    assert checked >= 3, "the demo's late buses should be offered on their own line"


def test_delay_is_counted_only_from_the_stop_where_it_starts(
    planner: Planner, base: OverlayBase, feeds: dict[int, RealtimeFeed]
) -> None:
    tt = base.tt
    seen = 0
    for feed in feeds.values():
        overlay = build_overlay(base, feed)
        for trip_id, stop_id, delay in _late_trips(feed):
            stops, dep = _trip_stops(base, trip_id)
            late_from = int(np.nonzero(tt.stop_ids[stops] == stop_id)[0][0])
            if late_from < 2:
                continue
            q = _query(planner, base, int(stops[0]), int(stops[-1]), int(dep[0]) - 180)
            for leg in _rides(_plan(planner, q, overlay)):
                if leg.transit and leg.transit["trip_id"] == trip_id:
                    board = _position(tt, stops, leg.origin.stop_id)
                    alight = _position(tt, stops, leg.destination.stop_id, board + 1)
                    if board < late_from <= alight:
                        assert leg.start.delay_s == 0 and leg.end.delay_s == delay
                        seen += 1
    assert seen >= 1


def test_cancelled_trip_is_not_offered(
    planner: Planner, base: OverlayBase, feeds: dict[int, RealtimeFeed]
) -> None:
    shown = 0
    for feed in feeds.values():
        overlay = build_overlay(base, feed)
        for tu in feed.trip_updates:
            if tu.relationship != TripRelationship.CANCELED or tu.trip_id is None:
                continue
            stops, dep = _trip_stops(base, tu.trip_id)
            for i in range(len(stops) - 1):
                q = _query(planner, base, int(stops[i]), int(stops[-1]), int(dep[i]) - 180)
                planned = [leg.transit["trip_id"] for leg in _rides(_plan(planner, q)) if leg.transit]
                if tu.trip_id not in planned:
                    continue
                shown += 1
                live = _plan(planner, q, overlay)
                assert all(leg.transit["trip_id"] != tu.trip_id for leg in _rides(live) if leg.transit)
                assert live, "another connection (or the walk) is offered instead"
                break
    assert shown >= 1, f"no query in {HOURS} would ride a cancelled trip as planned"


def test_without_overlay_nothing_changes(planner: Planner, base: OverlayBase, graph: GraphDir) -> None:
    q = PlanQuery(51.6802, 7.7870, 51.6800, 7.8330, _at(8), modes=WALK_TRANSIT)
    plain = [it.to_json() for it in planner.plan(q)]
    assert plain == [it.to_json() for it in planner.plan(q, overlay=RealtimeOverlay.empty(base))]
    assert plain == [it.to_json() for it in planner.plan(q, overlay=None)]
    assert all(
        leg["realtime"] is False and "estimated" not in leg["start"] for it in plain for leg in it["legs"]
    )
    assert _rides(_plan(planner, q))


def test_planner_asks_its_realtime_source(
    planner: Planner, base: OverlayBase, feeds: dict[int, RealtimeFeed]
) -> None:
    overlay = build_overlay(base, feeds[8])
    live = Planner(
        planner.streets,
        planner.tt,
        planner.availability,
        route_styles=planner.route_styles,
        realtime=lambda: overlay,
    )
    q = PlanQuery(51.6802, 7.7870, 51.6800, 7.8330, _at(8), modes=WALK_TRANSIT)
    assert [it.to_json() for it in live.plan(q)] == [it.to_json() for it in planner.plan(q, overlay=overlay)]
    assert any(leg.realtime for leg in _rides(live.plan(q)))
    for arrive_by in (False, True):
        q2 = PlanQuery(51.6802, 7.7870, 51.6800, 7.8330, _at(9), arrive_by=arrive_by, modes=WALK_TRANSIT)
        assert any(leg.realtime for leg in _rides(live.plan(q2, overlay=build_overlay(base, feeds[9]))))


def test_overlay_of_another_day_is_ignored(graph: GraphDir, planner: Planner, demo_city: DemoCity) -> None:
    day = dt.date.today() + dt.timedelta(days=1)
    other = graph.planner(day)
    assert other.tt is not None
    when = dt.datetime.combine(day, dt.time(8, 0), tzinfo=TZ)
    tomorrow = build_overlay(
        OverlayBase(other.tt), parse_feed(DemoRealtime(demo_city.gtfs, demo_city.seed).trip_updates(when))
    )
    assert tomorrow.applied and tomorrow.patched
    q = PlanQuery(51.6802, 7.7870, 51.6800, 7.8330, _at(8), modes=WALK_TRANSIT)
    plain = [it.to_json() for it in planner.plan(q)]
    assert [it.to_json() for it in planner.plan(q, overlay=tomorrow)] == plain


def test_added_trip_is_offered_with_its_expected_times(planner: Planner, base: OverlayBase) -> None:
    """An extra bus the feed adds (a quick one along a line's stops) is ridden and shown as such."""
    tt = base.tt
    stops, dep = _trip_stops(base, _late_trips_any(base))
    a, b = int(stops[0]), int(stops[-1])
    leave_s = int(dep[0]) - 180
    q = _query(planner, base, a, b, leave_s)
    planned = planner.plan(q)
    planned_best = min(it.end for it in planned)
    # the walk to stop a (the demo links some stops far from their street node)
    walk_s = next(it.legs[0].duration_s for it in planned if it.legs[1].origin.stop_id == str(tt.stop_ids[a]))
    t0 = leave_s + walk_s + 60  # leaves soon after the traveller reaches the stop, quicker than any bus
    t1 = t0 + 120
    route_id = str(tt.route_ids[tt.trip_route[base.trip_index[_late_trips_any(base)]]])
    added = TripUpdate(
        "extra", "EXTRA-1", route_id, None, None, None, TripRelationship.ADDED,
        (StopTimeUpdate(None, str(tt.stop_ids[a]), departure_time=base.epoch + t0),
         StopTimeUpdate(None, str(tt.stop_ids[b]), arrival_time=base.epoch + t1)),
    )  # fmt: skip
    its = planner.plan(q, overlay=build_overlay(base, [added]))
    extra = [leg for leg in _rides(its) if leg.transit and leg.transit["trip_id"] == "EXTRA-1"]
    assert extra and min(it.end for it in its) < planned_best
    leg = extra[0]
    assert leg.realtime and leg.start.delay_s is None and leg.start.estimated == planner.at(t0)
    assert leg.end.estimated == planner.at(t1) and leg.transit["route"]["route_id"] == route_id  # type: ignore[index]
    assert leg.to_json()["start"]["estimated"] == leg.to_json()["start"]["scheduled"]


def _late_trips_any(base: OverlayBase) -> str:
    """A bus trip of the demo running around 08:00 through at least five stops inside the town."""
    tt = base.tt
    for trip_id in (str(t) for t in tt.trip_ids):
        if not trip_id.startswith(("2-", "3-", "4-", "5-", "6-")):
            continue
        inst = base.instance(base.trip_index[trip_id], 0)
        if inst < 0:
            continue
        stops, dep = _trip_stops(base, trip_id)
        if len(stops) >= 5 and 7 * 3600 + 1800 <= int(dep[0]) <= 8 * 3600 + 1800:
            return trip_id
    raise AssertionError("no bus trip around 08:00")


@pytest.mark.parametrize("arrive_by", [False, True], ids=["depart", "arrive"])
@pytest.mark.parametrize(
    "modes",
    [
        "walk,transit",
        "walk,transit,bike_share",
        "walk,transit,car_share",
        "walk,transit,bike_share,car_share,car",
    ],
)
def test_every_transit_mode_mix_chains_on_expected_times(
    planner: Planner, base: OverlayBase, feeds: dict[int, RealtimeFeed], modes: str, arrive_by: bool
) -> None:
    """With realtime, legs follow each other on the expected times: nobody walks off a late bus
    before it arrives or boards one before reaching the stop."""
    overlay = build_overlay(base, feeds[8])
    seen_realtime = False
    for frm, to in (((51.6883, 7.8045), (51.6800, 7.8330)), ((51.6802, 7.7870), (51.6800, 7.8330))):
        q = PlanQuery(
            *frm, *to, _at(8), arrive_by=arrive_by, modes=PlanQuery.parse_modes(modes), ev_connector="CCS"
        )
        for it in planner.plan(q, overlay=overlay):
            for a, b in zip(it.legs, it.legs[1:], strict=False):
                assert a.end.best <= b.start.best, (a.mode, b.mode)
            for leg in it.legs:
                assert leg.start.best <= leg.end.best
                seen_realtime |= leg.realtime
                if leg.realtime:
                    assert leg.start.estimated is not None and leg.end.estimated is not None
            assert (it.end <= q.when) if arrive_by else (it.start >= q.when)
    assert seen_realtime
