"""Fixtures of the API tests: a data folder whose demo city has the planner's graph folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.planner.graphdir import build_graph_dir
from scenarios.demo import DemoCity


@pytest.fixture(scope="module")
def graph_data_dir(demo_city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding ``demo/graph`` built from the session's demo city (once per module)."""
    data_dir = tmp_path_factory.mktemp("api-data")
    build_graph_dir(
        [demo_city.gtfs], demo_city.osm, data_dir / "demo" / "graph",
        gbfs_dirs=[demo_city.gbfs_dir], ocpi_files=[demo_city.ocpi_locations],
    )  # fmt: skip
    return data_dir
