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
from tests.api.live_api_helpers import TZ, Clock, DemoFeeds, busy_day, client_on, morning, service_days

HBF_PLATFORMS = {"hbf-bus-a", "hbf-bus-b", "hbf-bus-c", "hbf-bus-d", "hbf-rail-1", "hbf-rail-2"}


def _gtfs(data_dir: Path) -> Path:
    return data_dir / "demo" / "gtfs" / "demo-city.gtfs.zip"


def _weekday(data_dir: Path, hour: int, minute: int = 0) -> dt.datetime:
    """A time on the first day from today on with weekday service (the demo's calendar)."""
    return dt.datetime.combine(busy_day(_gtfs(data_dir)), dt.time(hour, minute), tzinfo=TZ)


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
    when = _weekday(api_data_dir, 8, 5)
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
    items = _board(client, "hbf", _weekday(api_data_dir, 7), limit=100, window_s=7200)["departures"]
    lines = {d["line"]["name"]: d["line"] for d in items}
    assert lines["1"]["color"] == "#E2001A" and lines["1"]["text_color"] == "#FFFFFF"
    assert lines["5"]["color"] == "#F39200" and lines["5"]["text_color"] == "#000000"
    assert lines["1"]["mode"] == "BUS" and lines["RB 42"]["mode"] == "RAIL"
    assert all(d["direction"] for d in items)


def test_one_platform_shows_only_its_own_departures(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    items = _board(client, "hbf-bus-a", _weekday(api_data_dir, 8), limit=50)["departures"]
    assert items and {d["stop_id"] for d in items} == {"hbf-bus-a"}


def test_limit_cuts_the_board(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    when = _weekday(api_data_dir, 8)
    full = _board(client, "hbf", when, limit=100)["departures"]
    assert len(full) > 3
    assert _board(client, "hbf", when, limit=3)["departures"] == full[:3]


def test_realtime_delay_and_cancellation_show(api_data_dir: Path, demo_feeds: DemoFeeds) -> None:
    now = morning(8, 5)
    feed = parse_feed(demo_feeds.trip_updates(now), "demo")
    state = LiveState(clock=Clock(now))
    state.accept("demo-trip-updates", "gtfs-rt", demo_feeds.trip_updates(now))
    client = client_on(api_data_dir, state)
    plain_client = client_on(api_data_dir, LiveState())
    start = morning(6, 30)

    gtfs = demo_feeds.realtime.feed
    repeated = {str(gtfs.trip_ids[t]) for t in gtfs.freq_trip}  # frequency-based: one trip id, many runs
    delayed = [
        tu
        for tu in feed.trip_updates
        if tu.trip_id not in repeated
        if tu.stop_time_updates and (tu.stop_time_updates[0].departure_delay_s or 0) > 0
    ]
    assert delayed

    def first_run(client: Any, stop_id: str, trip_id: str | None) -> dict[str, Any]:
        """The trip's first departure at the stop (a ring line may pass a stop twice)."""
        body = _board(client, stop_id, start, limit=100, window_s=5 * 3600)
        runs = [d for d in body["departures"] if d["trip_id"] == trip_id]
        assert runs, (stop_id, trip_id)
        return min(runs, key=lambda d: d["planned_when"])

    for tu in delayed[:4]:
        stu = tu.stop_time_updates[0]
        body = _board(client, stu.stop_id or "", start, limit=100, window_s=5 * 3600)
        assert body["realtime"] is True and body["stale"] is False and body["age_s"] == 0.0
        mine = first_run(client, stu.stop_id or "", tu.trip_id)
        assert mine["delay_s"] == stu.departure_delay_s and mine["realtime"] is True
        assert (_t(mine["when"]) - _t(mine["planned_when"])).total_seconds() == stu.departure_delay_s
        plain = first_run(plain_client, stu.stop_id or "", tu.trip_id)
        assert plain["delay_s"] is None and plain["when"] == mine["planned_when"]

    on_time = [
        tu
        for tu in feed.trip_updates
        if tu.trip_id not in repeated
        if tu.stop_time_updates and tu.stop_time_updates[0].departure_delay_s == 0
    ]
    tu = on_time[0]
    mine = first_run(client, tu.stop_time_updates[0].stop_id or "", tu.trip_id)
    assert mine["delay_s"] == 0 and mine["when"] == mine["planned_when"]

    (cancelled,) = [tu for tu in feed.trip_updates if tu.relationship == TripRelationship.CANCELED]
    trip = [str(t) for t in gtfs.trip_ids].index(cancelled.trip_id or "")
    first_stop = str(gtfs.stop_ids[gtfs.st_stop[gtfs.st_off[trip]]])
    runs = [
        d
        for d in _board(client, first_stop, start, limit=100, window_s=5 * 3600)["departures"]
        if d["trip_id"] == cancelled.trip_id
    ]
    assert any(d["cancelled"] and d["when"] == d["planned_when"] for d in runs)
    plain_runs = [
        d
        for d in _board(plain_client, first_stop, start, limit=100, window_s=5 * 3600)["departures"]
        if d["trip_id"] == cancelled.trip_id
    ]
    assert plain_runs and not any(d["cancelled"] for d in plain_runs)


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
    days = service_days(_gtfs(api_data_dir))
    day = next(d for d, (_, late, _) in days.items() if late)  # the day before runs trips past 24:00
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=TZ)
    items = _board(client, "hbf", midnight, window_s=3600, limit=100)["departures"]
    late = [d for d in items if d["service_date"] == (day - dt.timedelta(days=1)).isoformat()]
    assert late, items
    for d in late:
        assert _t(d["when"]).date() == day  # trips of the day before after 24:00, at this day's clock time


def test_a_window_past_midnight_reaches_into_the_next_service_day(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    days = service_days(_gtfs(api_data_dir))
    day = next(
        d for d in list(days)[:-1] if days[d + dt.timedelta(days=1)][1] and days[d + dt.timedelta(days=1)][2]
    )  # trips after 24:00 on this day, and the next day's first trips before 07:30
    evening = dt.datetime.combine(day, dt.time(23, 30), tzinfo=TZ)
    items = _board(client, "hbf", evening, window_s=8 * 3600, limit=100)["departures"]
    dates = [d["service_date"] for d in items]
    assert day.isoformat() in dates and (day + dt.timedelta(days=1)).isoformat() in dates
    after_midnight = [d for d in items if d["service_date"] == day.isoformat() and _t(d["when"]).date() > day]
    assert after_midnight  # this day's trips after 24:00 count as this day's
    assert len({(d["trip_id"], d["when"], d["stop_id"]) for d in items}) == len(items)  # none twice
    times = [_t(d["when"]) for d in items]
    assert times == sorted(times)


@pytest.mark.parametrize(
    ("query", "field"), [("limit=ten", "limit"), ("when=yesterday-ish", "when"), ("colour=red", "colour")]
)
def test_malformed_parameters_are_400_problems_naming_the_parameter(
    api_data_dir: Path, query: str, field: str
) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/stops/hbf/departures?{query}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("query", "field", "value", "limit"),
    [
        ("limit=0", "limit", "0", 1),
        ("limit=101", "limit", "101", 100),
        ("window_s=59", "window_s", "59", 60),
        ("window_s=86401", "window_s", "86401", 86400),
    ],
)
def test_parameters_beyond_their_range_are_422_problems_naming_parameter_value_and_limit(
    api_data_dir: Path, query: str, field: str, value: str, limit: int
) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/stops/hbf/departures?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["field"], body["value"], body["limit"]) == (field, value, limit)  # value as sent
    assert body["detail"].startswith(f"{field} = {value}:")


@pytest.mark.parametrize(
    "when", ["2001-01-01T08:00:00%2B01:00", "0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00"]
)
def test_a_time_outside_the_served_days_is_422(api_data_dir: Path, when: str) -> None:
    response = client_on(api_data_dir, LiveState()).get(f"/api/v1/stops/hbf/departures?when={when}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["detail"].startswith("when: must lie between 1 day before and 7 days after today")
    assert (body["field"], body["constraint"]) == ("when", "range")
    today = dt.date.fromisoformat(body["limit"]["start"]) + dt.timedelta(days=1)
    assert dt.date.fromisoformat(body["limit"]["end"]) == today + dt.timedelta(days=7)


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
