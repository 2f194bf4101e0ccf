"""A data folder whose demo city has the planner's graph folder (for the plan and stops tests)."""

from __future__ import annotations

from pathlib import Path

from mobility.planner.graphdir import build_graph_dir
from scenarios.demo import DemoCity


def graph_data_dir(demo_city: DemoCity, root: Path) -> Path:
    """Build ``root/demo/graph`` from the demo city's GTFS, OSM, GBFS and OCPI files; returns ``root``."""
    build_graph_dir(
        [demo_city.gtfs], demo_city.osm, root / "demo" / "graph",
        gbfs_dirs=[demo_city.gbfs_dir], ocpi_files=[demo_city.ocpi_locations],
    )  # fmt: skip
    return root
