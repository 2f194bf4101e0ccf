"""The API served on 127.0.0.1 publishes the demo's moving feeds, and the demo pollers read them."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from api import create_app, load_settings
from api.live import demo_feeds, make_poller
from mobility.live.state import LiveState
from scenarios.demo import DemoCity


@pytest.fixture
def served_demo(demo_city: DemoCity, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path / "data"
    shutil.copytree(demo_city.root, data_dir / "demo")
    app = create_app(load_settings(environ={}, data_dir=data_dir))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", data_dir
    server.shutdown()


def test_demo_pollers_read_every_moving_feed(served_demo: tuple[str, Path]) -> None:
    base_url, data_dir = served_demo
    feeds = demo_feeds(base_url, data_dir / "demo")
    assert {f.kind for f in feeds} == {"gbfs", "ocpi", "gtfs-rt"}
    state = LiveState()
    poller = make_poller(state, feeds)
    assert all(poller.poll(f.name) for f in feeds), state.feed_status()
    snap = state.sharing()
    assert {s.system_id for s in snap.systems} == {"knotenrad", "knotenscoot", "knotencar"}
    cars = [v for v in snap.vehicles if v.form_factor == "car"]
    assert cars and all(not v.is_free_floating for v in cars if v.station_id)
    assert sum(len(loc.evses) for loc in state.chargers()) > 0
    (rt,) = state.realtime()
    assert rt.version == "2.0" and rt.skipped == 0  # contents depend on the hour: see test_demo_live
    assert all(not s.stale and s.errors == 0 for s in state.feed_status()), state.feed_status()
