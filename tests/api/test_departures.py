"""``GET /api/v1/stops/{stop_id}/departures`` on the demo city: platforms of a station, line styles,
realtime delays and cancellations, late trips of the previous service day, and every error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from mobility.live.state import LiveState
from mobility.realtime.gtfs_rt import TripRelationship, parse_feed
from mobility.realtime.overlay import OverlayBase, RealtimeOverlay
from mobility.timetable import build_timetable
from tests.api.live_api_helpers import TZ, Clock, DemoFeeds, client_on, morning

HBF_PLATFORMS = {"hbf-bus-a", "hbf-bus-b", "hbf-bus-c", "hbf-bus-d", "hbf-rail-1", "hbf-rail-2"}
PLATFORM_CODES = {"hbf-bus-a": "A", "hbf-bus-b": "B", "hbf-bus-c": "C", "hbf-bus-d": "D",
                  "hbf-rail-1": "1", "hbf-rail-2": "2"}  # fmt: skip


def _board(client: Any, stop_id: str, when: dt.datetime, **params: Any) -> dict[str, Any]:
    query = "&".join([f"when={quote(when.isoformat())}", *(f"{k}={v}" for k, v in params.items())])
    response = client.get(f"/api/v1/stops/{stop_id}/departures?{query}")
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_station_board_lists_its_platforms_in_time_order_as_the_timetable_plans(
    api_data_dir: Path, demo_feeds: DemoFeeds
) -> None:
    client = client_on(api_data_dir, LiveState())
    when = morning(8, 5)
    body = _board(client, "hbf", when, limit=100, window_s=3600)
    assert body["stop"] == {
        "stop_id": "hbf",
        "name": "Knotenstadt Hbf (fictional)",
        "lat": 51.674161,
        "lon": 7.81,
    }
    items = body["departures"]
    assert body["realtime"] is False and items
    assert {d["stop_id"] for d in items} <= HBF_PLATFORMS and len({d["stop_id"] for d in items}) > 2
    times = [_t(d["when"]) for d in items]
    assert times == sorted(times) and when <= times[0] and times[-1] <= when + dt.timedelta(hours=1)
    for d in items:
        assert d["platform"] == d["planned_platform"] == PLATFORM_CODES[d["stop_id"]]
        assert d["delay_s"] is None and d["cancelled"] is False and d["when"] == d["planned_when"]
        assert d["when"].endswith("+01:00")
    # the same departures as the timetable itself gives, trips ending at the platform left out
    tt = build_timetable([api_data_dir / "demo" / "gtfs" / "demo-city.gtfs.zip"], when.date())
    plain = RealtimeOverlay.empty(OverlayBase(tt))
    epoch = int(dt.datetime.combine(when.date(), dt.time(0), tzinfo=TZ).timestamp())
    t0 = int(when.timestamp()) - epoch
    gtfs = demo_feeds.realtime.feed
    trip_of = {str(t): i for i, t in enumerate(gtfs.trip_ids)}
    expected = set()
    for sid in HBF_PLATFORMS:
        for dep in plain.departures(tt.stop_index(sid), t0, t0 + 3600):
            last = int(gtfs.st_off[trip_of[dep.trip_id] + 1]) - 1
            if str(gtfs.stop_ids[gtfs.st_stop[last]]) != sid:
                expected.add((sid, dep.trip_id, dep.when_s))
    got = {(d["stop_id"], d["trip_id"], int(_t(d["when"]).timestamp()) - epoch) for d in items}
    assert got == expected


def test_line_colours_modes_and_directions_come_from_the_feed(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    items = _board(client, "hbf", morning(7, 0), limit=100, window_s=7200)["departures"]
    lines = {d["line"]["name"]: d["line"] for d in items}
    assert lines["1"]["color"] == "#E2001A" and lines["1"]["text_color"] == "#FFFFFF"
    assert lines["5"]["color"] == "#F39200" and lines["5"]["text_color"] == "#000000"
    assert lines["1"]["mode"] == "BUS" and lines["RB 42"]["mode"] == "RAIL"
    assert all(d["direction"] for d in items)


def test_one_platform_shows_only_its_own_departures(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    items = _board(client, "hbf-bus-a", morning(), limit=50)["departures"]
    assert items and {d["stop_id"] for d in items} == {"hbf-bus-a"}


def test_limit_cuts_the_board(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    full = _board(client, "hbf", morning(), limit=100)["departures"]
    assert len(full) > 3
    assert _board(client, "hbf", morning(), limit=3)["departures"] == full[:3]


def test_realtime_delay_and_cancellation_show(api_data_dir: Path, demo_feeds: DemoFeeds) -> None:
    now = morning(8, 5)
    feed = parse_feed(demo_feeds.trip_updates(now), "demo")
    state = LiveState(clock=Clock(now))
    state.accept("demo-trip-updates", "gtfs-rt", demo_feeds.trip_updates(now))
    client = client_on(api_data_dir, state)
    plain_client = client_on(api_data_dir, LiveState())
    start = morning(6, 30)

    delayed = [
        tu
        for tu in feed.trip_updates
        if tu.stop_time_updates and (tu.stop_time_updates[0].departure_delay_s or 0) > 0
    ]
    assert delayed
    for tu in delayed[:4]:
        stu = tu.stop_time_updates[0]
        body = _board(client, stu.stop_id or "", start, limit=100, window_s=5 * 3600)
        assert body["realtime"] is True and body["stale"] is False and body["age_s"] == 0.0
        (mine,) = [d for d in body["departures"] if d["trip_id"] == tu.trip_id]
        assert mine["delay_s"] == stu.departure_delay_s and mine["realtime"] is True
        assert (_t(mine["when"]) - _t(mine["planned_when"])).total_seconds() == stu.departure_delay_s
        (plain,) = [
            d
            for d in _board(plain_client, stu.stop_id or "", start, limit=100, window_s=5 * 3600)[
                "departures"
            ]
            if d["trip_id"] == tu.trip_id
        ]
        assert plain["delay_s"] is None and plain["when"] == mine["planned_when"]

    on_time = [
        tu
        for tu in feed.trip_updates
        if tu.stop_time_updates and tu.stop_time_updates[0].departure_delay_s == 0
    ]
    tu = on_time[0]
    body = _board(client, tu.stop_time_updates[0].stop_id or "", start, limit=100, window_s=5 * 3600)
    (mine,) = [d for d in body["departures"] if d["trip_id"] == tu.trip_id]
    assert mine["delay_s"] == 0 and mine["when"] == mine["planned_when"]

    (cancelled,) = [tu for tu in feed.trip_updates if tu.relationship == TripRelationship.CANCELED]
    gtfs = demo_feeds.realtime.feed
    trip = [str(t) for t in gtfs.trip_ids].index(cancelled.trip_id or "")
    first_stop = str(gtfs.stop_ids[gtfs.st_stop[gtfs.st_off[trip]]])
    body = _board(client, first_stop, start, limit=100, window_s=5 * 3600)
    (mine,) = [d for d in body["departures"] if d["trip_id"] == cancelled.trip_id]
    assert mine["cancelled"] is True and mine["when"] == mine["planned_when"]
    (plain,) = [
        d
        for d in _board(plain_client, first_stop, start, limit=100, window_s=5 * 3600)["departures"]
        if d["trip_id"] == cancelled.trip_id
    ]
    assert plain["cancelled"] is False


def test_stale_realtime_is_flagged(api_data_dir: Path, demo_feeds: DemoFeeds) -> None:
    now = morning(8, 5)
    clock = Clock(now)
    state = LiveState(clock=clock)
    state.accept("demo-trip-updates", "gtfs-rt", demo_feeds.trip_updates(now))
    client = client_on(api_data_dir, state)
    assert _board(client, "hbf", now)["stale"] is False
    clock.set(now + dt.timedelta(minutes=10))
    body = _board(client, "hbf", now)
    assert body["stale"] is True and body["age_s"] == 600.0
    assert _t(body["realtime_as_of"]) == now


def test_after_midnight_the_previous_service_days_late_trips_depart(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    today = dt.date.today()
    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=TZ)
    items = _board(client, "hbf", midnight, window_s=3600, limit=100)["departures"]
    late = [d for d in items if d["service_date"] == (today - dt.timedelta(days=1)).isoformat()]
    assert late, items
    for d in late:
        assert _t(d["when"]).date() == today  # trips of yesterday after 24:00, shown at today's clock time


def test_a_window_past_midnight_reaches_into_the_next_service_day(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    today = dt.date.today()
    evening = dt.datetime.combine(today, dt.time(23, 30), tzinfo=TZ)
    items = _board(client, "hbf", evening, window_s=8 * 3600, limit=100)["departures"]
    dates = [d["service_date"] for d in items]
    assert today.isoformat() in dates and (today + dt.timedelta(days=1)).isoformat() in dates
    after_midnight_today = [
        d for d in items if d["service_date"] == today.isoformat() and _t(d["when"]).date() > today
    ]
    assert after_midnight_today  # today's trips after 24:00 count as today's
    assert len({(d["trip_id"], d["when"], d["stop_id"]) for d in items}) == len(items)  # none twice
    times = [_t(d["when"]) for d in items]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("window_s=59", "window_s"),
        ("window_s=86401", "window_s"),
        ("limit=ten", "limit"),
        ("when=yesterday-ish", "when"),
        ("when=2001-01-01T08:00:00%2B01:00", "when"),
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters_are_400_problems_naming_the_parameter(
    api_data_dir: Path, query: str, field: str
) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/stops/hbf/departures?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith(f"{field}:")


def test_unknown_stop_is_404(api_data_dir: Path) -> None:
    response = client_on(api_data_dir, LiveState()).get("/api/v1/stops/no-such-stop/departures")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert "no-such-stop" in response.get_json()["detail"]


def test_without_a_graph_folder_the_board_is_503(tmp_path: Path) -> None:
    response = client_on(tmp_path, LiveState()).get("/api/v1/stops/hbf/departures")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"


def test_answers_carry_etag_and_cache_control(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    response = client.get("/api/v1/stops/hbf/departures")
    assert response.headers["Cache-Control"] == "public, max-age=10"
    again = client.get("/api/v1/stops/hbf/departures", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code in (200, 304)  # 304 unless the second turned in between
