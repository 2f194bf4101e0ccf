"""``knoten demo``: build the fictional demo city Knotenstadt."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from api.cli.progress import progress_bar
from api.errors import CliError
from api.settings import Settings

if TYPE_CHECKING:
    from scenarios.demo import DemoCity

GRAPH_FOLDER = "graph"


def demo_graph_is_current(city: DemoCity) -> bool:
    """Whether ``<demo>/graph`` was built from this build of the demo city (same inputs, newer)."""
    import json

    manifest = city.root / GRAPH_FOLDER / "manifest.json"
    if not manifest.is_file() or not (city.root / GRAPH_FOLDER / "streets.npz").is_file():
        return False
    try:
        graph = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    same_inputs = graph.get("gtfs") == [str(city.gtfs.resolve())] and graph.get("osm") == str(
        city.osm.resolve()
    )
    return same_inputs and manifest.stat().st_mtime_ns >= city.manifest_path.stat().st_mtime_ns


def build_demo_graph(city: DemoCity, *, force: bool = False) -> tuple[Path, bool]:
    """Build the planner's graph folder ``<demo>/graph`` from the demo's GTFS, OSM, GBFS and OCPI
    files unless it is current; returns the folder and whether it was built."""
    import shutil

    from mobility.planner.graphdir import build_graph_dir

    out = city.root / GRAPH_FOLDER
    if not force and demo_graph_is_current(city):
        return out, False
    shutil.rmtree(out, ignore_errors=True)  # old timetables of an older feed go with it
    with progress_bar("Graph") as update:
        build_graph_dir(
            [city.gtfs], city.osm, out, gbfs_dirs=[city.gbfs_dir], ocpi_files=[city.ocpi_locations],
            progress=lambda stage, done, total: update(done, total, stage),
        )  # fmt: skip
    return out, True


@click.group()
def demo() -> None:
    """The fictional demo city Knotenstadt (streets, timetable, sharing, chargers, SUMO)."""


@demo.command("build")
@click.option(
    "--seed", type=int, default=42, show_default=True, help="Random seed of the generated contents."
)
@click.option(
    "--date",
    "build_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Build date YYYY-MM-DD (default: today); the GTFS feed runs from 30 days before to 335 days after.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: <data_dir>/demo).",
)
@click.option("--force", is_flag=True, help="Rebuild even when the folder already holds this build.")
@click.pass_obj
def build(settings: Settings, *, seed: int, build_date: object, out: Path | None, force: bool) -> None:
    """Generate the demo city deterministically (same seed and date give the same files).

    A second run with the same seed, date and generator version finds the finished build and skips
    it; pass --force to rebuild.
    """
    from mobility.errors import MobilityError
    from scenarios.demo import build_demo_city
    from scenarios.demo.sumo import SumoBuildError

    out_dir = out if out is not None else settings.data_dir / "demo"
    day: date | None = build_date.date() if hasattr(build_date, "date") else None
    skipped: list[bool] = []

    def note_skip(step: str, _i: int, _n: int) -> None:
        if step == "up to date":
            skipped.append(True)

    try:
        with progress_bar("Demo city") as update:

            def report(step: str, i: int, n: int) -> None:
                note_skip(step, i, n)
                update(i, n, step)

            city = build_demo_city(out_dir, seed, report, build_date=day, force=force)
        graph, graph_built = build_demo_graph(city, force=force)
    except SumoBuildError as exc:
        raise CliError(f"demo build: {exc}", 1) from exc
    except MobilityError as exc:
        raise CliError(f"demo build: graph: {exc}", 1) from exc
    except OSError as exc:
        raise CliError(f"demo build: {exc.filename or out_dir}: {exc.strerror or exc}", 1) from exc
    verb = "up to date" if skipped and not graph_built else "built"
    click.echo(
        f"Demo city Knotenstadt (fictional), seed {city.seed}, date {city.build_date}: {verb} in {out_dir}"
    )
    click.echo(f"  GTFS     {city.gtfs}")
    click.echo(f"  OSM      {city.osm}")
    click.echo(f"  GBFS     {city.gbfs_dir}/<system>/gbfs.json")
    click.echo(f"  OCPI     {city.ocpi_locations}")
    click.echo(f"  SUMO     {city.sumocfg}")
    click.echo(f"  Sessions {city.charging_sessions}")
    click.echo(f"  Graph    {graph}  (planner: streets, feeds, sharing and charger snapshots)")
