"""``knoten feeds status``: ages, staleness and errors of the feeds in the live-state database."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from api.live import feed_configs
from api.settings import load_settings
from mobility.live.state import LiveState


def test_status_lists_ages_stale_flags_and_errors(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    state = LiveState.open(url)
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 90))
    location = {"id": "L1", "coordinates": {"latitude": "51.5", "longitude": "7.4"}, "last_updated": stamp}
    state.accept("chargers", "ocpi", json.dumps([location]).encode())
    state.record_error("chargers", "ocpi", "http://cpo.example/locations: HTTP 503")
    state.register("rad", "gbfs")
    (tmp_path / "knoten.toml").write_text(f'database_url = "{url}"\n')
    config = str(tmp_path / "knoten.toml")
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "--config", config, "feeds", "status", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["chargers"]["errors"] == 1 and "HTTP 503" in rows["chargers"]["last_error"]
    # OCPI's age counts from the last read (Locations' last_updated says when each one changed)
    assert 0 <= rows["chargers"]["age_s"] < 60 and rows["chargers"]["stale"] is False
    assert "rad" not in rows  # registered in memory only, never stored


def test_feed_tables_and_lists_from_settings(tmp_path: Path) -> None:
    (tmp_path / "knoten.toml").write_text(
        'gbfs = ["http://x.example/gbfs.json"]\n'
        "[feeds.bus]\n"
        'kind = "gtfs-rt"\n'
        'url = "http://x.example/tu.pb"\n'
        "interval_s = 15\n"
    )
    settings = load_settings(tmp_path / "knoten.toml")
    feeds = feed_configs(settings)
    assert [(f.name, f.kind, f.interval_s) for f in feeds] == [
        ("bus", "gtfs-rt", 15),
        ("gbfs-1", "gbfs", None),
    ]
