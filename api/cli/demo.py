"""``knoten demo``: build the fictional demo city Knotenstadt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from api.cli.progress import progress_bar
from api.errors import CliError
from api.settings import Settings


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
    except SumoBuildError as exc:
        raise CliError(f"demo build: {exc}", 1) from exc
    except OSError as exc:
        raise CliError(f"demo build: {exc.filename or out_dir}: {exc.strerror or exc}", 1) from exc
    verb = "up to date" if skipped else "built"
    click.echo(
        f"Demo city Knotenstadt (fictional), seed {city.seed}, date {city.build_date}: {verb} in {out_dir}"
    )
    click.echo(f"  GTFS     {city.gtfs}")
    click.echo(f"  OSM      {city.osm}")
    click.echo(f"  GBFS     {city.gbfs_dir}/<system>/gbfs.json")
    click.echo(f"  OCPI     {city.ocpi_locations}")
    click.echo(f"  SUMO     {city.sumocfg}")
    click.echo(f"  Sessions {city.charging_sessions}")
