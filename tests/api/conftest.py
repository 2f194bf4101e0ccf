"""Fixtures of the API tests on live data: the demo city with its graph folder in a data folder, and
its moving feeds (helpers in ``tests.api.live_api_helpers``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mobility.planner.graphdir import build_graph_dir
from scenarios.demo import DemoCity
from scenarios.demo.live import DemoRealtime
from tests.api.live_api_helpers import DemoFeeds


@pytest.fixture(scope="session")
def api_data_dir(demo_city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the demo city under ``demo/`` and its graph folder ``demo/graph``."""
    data = tmp_path_factory.mktemp("api-data")
    demo = data / "demo"
    shutil.copytree(demo_city.root, demo)
    build_graph_dir(
        [demo / "gtfs" / "demo-city.gtfs.zip"],
        demo / "osm" / "demo-city.osm",
        demo / "graph",
        gbfs_dirs=sorted(p for p in (demo / "gbfs").iterdir() if p.is_dir()),
        ocpi_files=[demo / "ocpi" / "locations.json"],
    )
    return data


@pytest.fixture(scope="session")
def demo_feeds(api_data_dir: Path, demo_city: DemoCity) -> DemoFeeds:
    """The demo city's moving feeds at any moment."""
    demo = api_data_dir / "demo"
    return DemoFeeds(demo, demo_city.seed, DemoRealtime(demo / "gtfs" / "demo-city.gtfs.zip", demo_city.seed))
