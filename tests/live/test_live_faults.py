"""Live feeds against a real HTTP server: every fault keeps the last good state, and it recovers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from mobility.live.poller import FeedConfig, Poller
from mobility.live.state import LiveState
from mobility.sharing.gbfs import load_gbfs
from tests.live.live_helpers import FeedServer, Route, gbfs_system


@pytest.fixture
def t0() -> int:
    """Half a minute ago, when the test starts (not when the module was imported)."""
    return int(time.time()) - 30


def _state(tmp_path: Path) -> LiveState:
    return LiveState.open(f"sqlite:///{tmp_path / 'live.sqlite'}")


def _poller(state: LiveState, server: FeedServer, **kw: object) -> Poller:
    cfg = FeedConfig("rad", "gbfs", server.url("/gbfs/gbfs.json"), timeout_s=0.5, retries=0, **kw)  # type: ignore[arg-type]
    return Poller(state, [cfg])


def _bikes_at_s1(state: LiveState) -> int:
    return next(s.num_vehicles_available for s in state.sharing().stations if s.station_id == "s1")


def test_served_system_is_schema_valid_and_station_car_not_free_floating(
    feed_server: FeedServer, t0: int
) -> None:
    gbfs_system(feed_server, t0)
    state = LiveState()
    assert _poller(state, feed_server).poll("rad")
    snap = state.sharing()
    assert [v.vehicle_id for v in snap.free_floating_vehicles()] == ["b1"]
    car = next(v for v in snap.vehicles if v.vehicle_id == "c1")
    assert car.form_factor == "car" and car.station_id == "s2" and not car.is_free_floating
    (status,) = state.feed_status()
    assert status.errors == 0 and not status.stale and 29 <= (status.age_s or 0) < 60


def _break(server: FeedServer, fault: str, t0: int) -> None:
    status = "/gbfs/station_status.json"
    if fault == "down":
        server.down()
    elif fault == "http_500":
        server.routes[status] = Route(b"oops", status=500)
    elif fault == "timeout":
        server.routes[status] = Route(server.routes[status].body, delay_s=1.5)  # type: ignore[union-attr]
    elif fault == "invalid_json":
        server.routes[status] = Route(b'{"last_updated": 1, "data": {"stations": [')
    elif fault == "schema_invalid":
        doc = json.loads(server.routes[status].body)  # type: ignore[union-attr]
        doc["data"]["stations"][0]["num_bikes_available"] = "seven"
        server.routes[status] = Route(json.dumps(doc).encode())
    elif fault == "huge_body":
        server.routes[status] = Route(b" " * 3_000_000 + b"{}")
    elif fault == "backwards":
        gbfs_system(server, t0 - 3600, bikes_at_s1=9)


EXPECTED = {
    "down": "cannot connect",
    "http_500": "HTTP 500",
    "timeout": "timed out",
    "invalid_json": "invalid JSON",
    "schema_invalid": "num_bikes_available",
    "huge_body": "exceeds the limit",
    "backwards": "went backwards",
}


@pytest.mark.parametrize("fault", sorted(EXPECTED))
def test_fault_keeps_last_good_state_and_recovers(
    feed_server: FeedServer, tmp_path: Path, fault: str, t0: int
) -> None:
    gbfs_system(feed_server, t0, bikes_at_s1=3)
    state = _state(tmp_path)
    poller = _poller(state, feed_server, max_bytes=1_000_000)
    assert poller.poll("rad")
    good_as_of = state.sharing().as_of

    _break(feed_server, fault, t0)
    started = time.monotonic()
    assert not poller.poll("rad")
    assert time.monotonic() - started < 5
    assert _bikes_at_s1(state) == 3 and state.sharing().as_of == good_as_of
    (status,) = state.feed_status()
    assert status.errors == 1 and status.consecutive_errors == 1
    assert status.last_error is not None and EXPECTED[fault] in status.last_error
    assert poller.interval_s("rad") >= 5  # backs off, never hammers

    if fault == "down":
        feed_server.up()
    gbfs_system(feed_server, t0 + 60, bikes_at_s1=5)
    assert poller.poll("rad")
    assert _bikes_at_s1(state) == 5
    (status,) = state.feed_status()
    assert status.errors == 1 and status.consecutive_errors == 0


def test_stale_flag_follows_ttl(feed_server: FeedServer, t0: int) -> None:
    gbfs_system(feed_server, t0 - 1000, ttl=60)
    now = [time.time()]
    state = LiveState(stale_factor=3.0, clock=lambda: now[0])
    assert _poller(state, feed_server).poll("rad")
    (status,) = state.feed_status()
    assert status.stale and status.age_s is not None and status.age_s > 180
    gbfs_system(feed_server, int(now[0]) - 10, ttl=60)
    assert _poller(state, feed_server).poll("rad")
    assert not state.feed_status()[0].stale


def test_scheduler_thread_polls_on_its_own(feed_server: FeedServer, t0: int) -> None:
    gbfs_system(feed_server, t0, ttl=0)
    state = LiveState()
    cfg = FeedConfig("rad", "gbfs", feed_server.url("/gbfs/gbfs.json"), interval_s=0.2, min_interval_s=0.1)
    poller = Poller(state, [cfg])
    poller.start()
    try:
        deadline = time.monotonic() + 5
        while not state.sharing().stations and time.monotonic() < deadline:
            time.sleep(0.05)
        gbfs_system(feed_server, t0 + 5, bikes_at_s1=7, ttl=0)
        while _bikes_at_s1(state) != 7 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        poller.stop()
    assert _bikes_at_s1(state) == 7


def test_fixture_systems_served_over_http_parse(feed_server: FeedServer, shared_data: Path) -> None:
    folder = shared_data / "gbfs" / "schema-testfixtures" / "v2.3"
    (expected,) = load_gbfs(folder)
    disc = json.loads((folder / "gbfs.json").read_text())
    for feed in disc["data"]["en"]["feeds"]:
        name = feed["name"]
        feed["url"] = feed_server.url(f"/v23/{name}.json")
        if (folder / f"{name}.json").is_file():
            feed_server.routes[f"/v23/{name}.json"] = Route((folder / f"{name}.json").read_bytes())
    feed_server.routes["/v23/gbfs.json"] = Route(json.dumps(disc).encode())
    state = LiveState()
    cfg = FeedConfig("fx", "gbfs", feed_server.url("/v23/gbfs.json"), retries=0)
    assert Poller(state, [cfg]).poll("fx"), state.feed_status()
    assert len(state.sharing().stations) == len(expected.snapshot.stations)
    assert len(state.sharing().vehicles) == len(expected.snapshot.vehicles)


def test_remote_discovery_cannot_make_the_poller_read_local_files(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    secret = tmp_path / "station_status.json"
    secret.write_text('{"secret": true}')
    disc = {"last_updated": int(time.time()), "ttl": 0, "version": "2.3",
            "data": {"en": {"feeds": [{"name": "station_status", "url": f"file:{secret}"}]}}}  # fmt: skip
    feed_server.routes["/evil/gbfs.json"] = Route(json.dumps(disc).encode())
    state = LiveState()
    cfg = FeedConfig("evil", "gbfs", feed_server.url("/evil/gbfs.json"), retries=0)
    assert not Poller(state, [cfg]).poll("evil")
    assert "only http(s) URLs" in (state.feed_status()[0].last_error or "")
