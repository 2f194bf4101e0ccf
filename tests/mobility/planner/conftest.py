"""The demo city's planner graph, built once for the planner tests."""

from __future__ import annotations

import datetime as dt

import pytest

from mobility.planner.graphdir import GraphDir, build_graph_dir
from mobility.planner.plan import Planner
from scenarios.demo import DemoCity


@pytest.fixture(scope="session")
def graph(demo_city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> GraphDir:
    """The demo city's graph folder (GTFS, OSM, GBFS and OCPI), loaded."""
    out = tmp_path_factory.mktemp("demo-graph")
    build_graph_dir([demo_city.gtfs], demo_city.osm, out, gbfs_dirs=[demo_city.gbfs_dir],
                    ocpi_files=[demo_city.ocpi_locations])  # fmt: skip
    return GraphDir.load(out)


@pytest.fixture(scope="session")
def planner(graph: GraphDir) -> Planner:
    """The demo city's planner for today."""
    return graph.planner(dt.date.today())
