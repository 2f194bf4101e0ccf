"""Persistence: a killed process's live state is back from SQLite at once; PostgreSQL shares it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobility.live.poller import FeedConfig, Poller
from mobility.live.state import LiveState
from mobility.live.store import Store
from tests.live.live_helpers import FeedServer, gbfs_system

WORKER = """
import sys, time
from mobility.live.poller import FeedConfig, Poller
from mobility.live.state import LiveState
state = LiveState.open(sys.argv[1])
poller = Poller(state, [FeedConfig("rad", "gbfs", sys.argv[2], retries=0)])
assert poller.poll("rad"), state.feed_status()
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def t0() -> int:
    """Half a minute ago, when the test starts (not when the module was imported)."""
    return int(time.time()) - 30


def test_state_is_back_within_a_second_after_kill_9(feed_server: FeedServer, tmp_path: Path, t0: int) -> None:
    gbfs_system(feed_server, t0, bikes_at_s1=4)
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, feed_server.url("/gbfs/gbfs.json")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    feed_server.down()  # the feed is gone too: only the database can answer

    started = time.monotonic()
    state = LiveState.open(url)
    restore_s = time.monotonic() - started
    snap = state.sharing()
    (status,) = state.feed_status()
    assert restore_s < 1.0
    assert {s.station_id: s.num_vehicles_available for s in snap.stations} == {"s1": 4, "s2": 1}
    assert status.age_s is not None and abs(status.age_s - (time.time() - t0)) < 5
    assert status.as_of is not None and int(status.as_of.timestamp()) == t0


def test_history_rows_per_station(feed_server: FeedServer, tmp_path: Path, t0: int) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    state = LiveState.open(url)
    poller = Poller(state, [FeedConfig("rad", "gbfs", feed_server.url("/gbfs/gbfs.json"), retries=0)])
    for k, n in enumerate((2, 6, 1)):
        gbfs_system(feed_server, t0 + 60 * k, bikes_at_s1=n)
        assert poller.poll("rad")
    rows = Store(url).history("rad", "knotenrad:s1")
    assert [(int(at) - t0, available, free) for at, available, free, _ in rows] == [
        (0, 2, 8),
        (60, 6, 4),
        (120, 1, 9),
    ]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    try:
        import pgserver
    except ImportError:
        pytest.skip("pgserver is not installed")
    folder = tempfile.mkdtemp(prefix="knoten-pg-")
    try:
        server = pgserver.get_server(folder, cleanup_mode="delete")
    except Exception as exc:  # pgserver raises plain exceptions when postgres cannot start
        pytest.skip(f"a local PostgreSQL cannot start here: {exc}")
    uri = server.get_uri()
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS feed_state, feed_history")
    yield uri
    server.cleanup()


def test_postgresql_state_is_shared_between_workers(
    feed_server: FeedServer, postgres_url: str, t0: int
) -> None:
    gbfs_system(feed_server, t0, bikes_at_s1=8)
    writer = LiveState.open(postgres_url)
    poller = Poller(writer, [FeedConfig("rad", "gbfs", feed_server.url("/gbfs/gbfs.json"), retries=0)])
    assert poller.poll("rad")
    feed_server.routes.clear()
    assert not poller.poll("rad")  # 404: counted, state kept

    reader = LiveState.open(postgres_url)  # another worker, same database
    (status,) = reader.feed_status()
    assert {s.station_id: s.num_vehicles_available for s in reader.sharing().stations} == {"s1": 8, "s2": 1}
    assert status.errors == 1 and "HTTP 404" in (status.last_error or "")
    assert len(Store(postgres_url).history("rad", "knotenrad:s2")) == 1

    gbfs_system(feed_server, t0 + 60, bikes_at_s1=2)  # the writer polls again ...
    assert poller.poll("rad")
    assert reader.refresh() == 1  # ... and the other worker takes it over
    assert {s.station_id: s.num_vehicles_available for s in reader.sharing().stations}["s1"] == 2
    assert reader.refresh() == 0
