"""``knoten route-batch``, ``knoten route`` and ``knoten build``: transit routing from the command line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from api.cli.progress import progress_bar
from api.errors import CliError
from api.settings import Settings

if TYPE_CHECKING:
    from mobility.raptor import Router

TRANSFER_MODES = ("walk", "gtfs")


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (expected YYYY-MM-DD)") from None


def _cache_dir(settings: Settings | None, cache_dir: Path | None, *, no_cache: bool) -> Path | None:
    if no_cache:
        return None
    if cache_dir is not None:
        return cache_dir
    base = settings.data_dir if settings is not None else Path("data")
    return base / "cache" / "timetables"


def _load(
    gtfs: tuple[Path, ...],
    date: dt.date,
    transfers: str,
    walk_radius_m: float,
    walk_speed_mps: float,
    cache: Path | None,
) -> Router:
    from mobility.cache import get_timetable
    from mobility.footpaths import crow_fly_footpaths, gtfs_footpaths
    from mobility.raptor import Router

    with progress_bar("Timetable") as update:
        tt, _ = get_timetable(list(gtfs), date, cache, lambda stage, done, total: update(done, total, stage))
    if tt.n_trips == 0:
        click.echo(
            f"knoten: warning: no trips run on {date.isoformat()} in {', '.join(tt.feed_names)}", err=True
        )
    footpaths = (
        gtfs_footpaths(tt)
        if transfers == "gtfs"
        else crow_fly_footpaths(tt, radius_m=walk_radius_m, speed_mps=walk_speed_mps)
    )
    return Router(tt, footpaths)


def _feed_options(func: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option(
            "--gtfs",
            "gtfs",
            multiple=True,
            type=click.Path(path_type=Path),
            help="GTFS zip or folder; repeat to merge feeds (ids become '<file stem>:<id>').",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Timetable cache (default: <data dir>/cache/timetables).",
        ),
        click.option(
            "--no-cache", is_flag=True, help="Build the timetable without reading or writing the cache."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _transfer_options(func: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option(
            "--transfers",
            type=click.Choice(TRANSFER_MODES),
            default="walk",
            show_default=True,
            help="gtfs: only the walks transfers.txt allows; walk: also crow-fly walks within the radius.",
        ),
        click.option("--walk-radius-m", type=float, default=400.0, show_default=True),
        click.option("--walk-speed-mps", type=float, default=1.2, show_default=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _door_options(func: Callable[..., None]) -> Callable[..., None]:
    options = [
        click.option(
            "--graph",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            help="Graph folder from `knoten build --osm`: door-to-door between LAT,LON places.",
        ),
        click.option(
            "--modes",
            default="walk,transit",
            show_default=True,
            help="With --graph: walk,transit,bike_share,car_share,car.",
        ),
        click.option(
            "--max-walk-m", type=float, default=1500.0, show_default=True, help="Access/egress walk."
        ),
        click.option(
            "--max-transfer-m", type=float, default=400.0, show_default=True, help="Walk between stops."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _need_gtfs(gtfs: tuple[Path, ...]) -> None:
    if not gtfs:
        raise click.UsageError("give --gtfs (stop-to-stop) or --graph (door to door)")


@click.command("route-batch")
@_feed_options
@click.option("--date", "date_text", required=True, help="Service date YYYY-MM-DD.")
@click.option(
    "--queries",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with query_id,from_stop_id,to_stop_id,departure (HH:MM:SS); with --graph "
    "query_id,from_lat,from_lon,to_lat,to_lon,departure.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV written with query_id,arrival,rides.",
)
@_transfer_options
@_door_options
@click.pass_obj
def route_batch(
    settings: Settings | None,
    *,
    gtfs: tuple[Path, ...],
    cache_dir: Path | None,
    no_cache: bool,
    date_text: str,
    queries: Path,
    out: Path,
    transfers: str,
    walk_radius_m: float,
    walk_speed_mps: float,
    graph: Path | None,
    modes: str,
    max_walk_m: float,
    max_transfer_m: float,
) -> None:
    """Earliest arrival and fewest rides for every query of a CSV file (stop to stop, or door to door)."""
    from mobility.batch import answer_queries, read_queries, resolve_queries, write_answers

    if graph is not None:
        from api.cli.planner import route_batch_door

        route_batch_door(
            graph, date_text, queries, out, modes, walk_speed_mps=walk_speed_mps, max_walk_m=max_walk_m,
            max_transfer_m=max_transfer_m,
        )  # fmt: skip
        return
    _need_gtfs(gtfs)
    date = _parse_date(date_text)
    try:
        rows = read_queries(queries)
        router = _load(
            gtfs,
            date,
            transfers,
            walk_radius_m,
            walk_speed_mps,
            _cache_dir(settings, cache_dir, no_cache=no_cache),
        )
        batch = resolve_queries(router.tt, rows, queries.name)
        arrival, rides = answer_queries(router, batch)
        write_answers(out, batch.query_ids, arrival, rides)
    except OSError as exc:
        raise CliError(f"{exc.filename or ''}: {exc.strerror}") from None


@click.command("route")
@_feed_options
@click.option(
    "--from",
    "from_stop",
    required=True,
    help="Origin stop_id (a station stands for its platforms); with --graph LAT,LON.",
)
@click.option("--to", "to_stop", required=True, help="Destination stop_id; with --graph LAT,LON.")
@click.option(
    "--depart",
    default=None,
    help="Departure HH:MM:SS (GTFS time on the service date); with --graph ISO 8601.",
)
@click.option("--arrive", default=None, help="With --graph: arrive by this ISO 8601 date-time.")
@click.option("--arrive-by", default=None, help="Latest arrival HH:MM:SS: find the latest departure instead.")
@click.option(
    "--window-min",
    type=int,
    default=0,
    show_default=True,
    help="With --depart: all Pareto-optimal journeys departing within this many minutes.",
)
@click.option("--date", "date_text", default=None, help="Service date YYYY-MM-DD (default: today).")
@_transfer_options
@_door_options
@click.option("--ev-connector", default=None, help="With --modes car: CCS, TYPE2 or CHADEMO (own EV).")
@click.option("--min-power-kw", type=float, default=0.0, show_default=True, help="Least charger power.")
@click.option("--json", "as_json", is_flag=True, help='With --graph: print {"itineraries": [...]}.')
@click.option("--geometry", type=click.Choice(("polyline", "geojson")), default="polyline", show_default=True)
@click.pass_obj
def route(
    settings: Settings | None,
    *,
    gtfs: tuple[Path, ...],
    cache_dir: Path | None,
    no_cache: bool,
    from_stop: str,
    to_stop: str,
    depart: str | None,
    arrive: str | None,
    arrive_by: str | None,
    window_min: int,
    date_text: str | None,
    transfers: str,
    walk_radius_m: float,
    walk_speed_mps: float,
    graph: Path | None,
    modes: str,
    max_walk_m: float,
    max_transfer_m: float,
    ev_connector: str | None,
    min_power_kw: float,
    as_json: bool,
    geometry: str,
) -> None:
    """Print the journeys between two stops, or (with --graph) door-to-door itineraries."""
    from mobility.journeys import Journey, describe_journey, format_gtfs_time, parse_gtfs_time

    if graph is not None:
        from api.cli.planner import route_door

        route_door(
            graph, from_stop, to_stop, depart, arrive or arrive_by, modes, ev_connector=ev_connector,
            min_power_kw=min_power_kw, walk_speed_mps=walk_speed_mps, max_walk_m=max_walk_m,
            max_transfer_m=max_transfer_m, as_json=as_json, geometry=geometry,
        )  # fmt: skip
        return
    _need_gtfs(gtfs)

    if (depart is None) == (arrive_by is None):
        raise click.UsageError("give exactly one of --depart and --arrive-by")
    date = _parse_date(date_text) if date_text else dt.date.today()
    try:
        when = parse_gtfs_time(depart if depart is not None else str(arrive_by))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    router = _load(
        gtfs,
        date,
        transfers,
        walk_radius_m,
        walk_speed_mps,
        _cache_dir(settings, cache_dir, no_cache=no_cache),
    )
    tt = router.tt
    groups = []
    for label, stop_id in (("--from", from_stop), ("--to", to_stop)):
        index = tt.stop_index(stop_id)
        if index < 0:
            raise CliError(f"{label}: unknown stop {stop_id!r}", 2)
        groups.append(tt.stop_group(index))
    if from_stop == to_stop:
        journeys = [Journey(when, when, [])]
    elif arrive_by is not None:
        journeys = router.latest_departure(groups[0], groups[1], when)
    elif window_min > 0:
        journeys = router.range_query(groups[0], groups[1], when, window_min * 60)
    else:
        journeys = router.pareto(groups[0], groups[1], when)
    names = {s: str(tt.stop_names[tt.stop_index(s)]) for s in (from_stop, to_stop)}
    click.echo(f"{names[from_stop]} [{from_stop}] -> {names[to_stop]} [{to_stop}] on {date.isoformat()}")
    if not journeys:
        bound = f"arriving by {format_gtfs_time(when)}" if arrive_by else f"from {format_gtfs_time(when)}"
        click.echo(f"no journey {bound}")
        return
    for n, journey in enumerate(journeys, start=1):
        click.echo(f"\n{n}. {describe_journey(tt, journey)}")


@click.command("build")
@_feed_options
@click.option("--date", "dates", multiple=True, help="Service date YYYY-MM-DD (repeatable).")
@click.option(
    "--osm", type=click.Path(path_type=Path), default=None, help="OSM .pbf/.osm(.gz): build a graph."
)
@click.option("--gbfs", multiple=True, type=click.Path(path_type=Path), help="GBFS folder (repeatable).")
@click.option("--ocpi", multiple=True, type=click.Path(path_type=Path), help="OCPI Locations JSON file.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Graph folder.")
@click.pass_obj
def build(
    settings: Settings | None,
    *,
    gtfs: tuple[Path, ...],
    cache_dir: Path | None,
    no_cache: bool,
    dates: tuple[str, ...],
    osm: Path | None,
    gbfs: tuple[Path, ...],
    ocpi: tuple[Path, ...],
    out: Path | None,
) -> None:
    """Build timetables of given dates into the cache, or (with --osm --out) a door-to-door graph folder."""
    _need_gtfs(gtfs)
    if osm is not None or out is not None:
        if osm is None or out is None:
            raise click.UsageError("a graph needs both --osm and --out")
        from api.cli.planner import build_graph

        build_graph(gtfs, osm, out, gbfs, ocpi)
        return
    if not dates:
        raise click.UsageError("give --date (timetables) or --osm and --out (graph folder)")
    from mobility.cache import cache_path, save_timetable
    from mobility.timetable import build_timetable

    target_dir = _cache_dir(settings, cache_dir, no_cache=False)
    assert target_dir is not None
    for text in dates:
        date = _parse_date(text)
        with progress_bar(f"Timetable {date.isoformat()}") as update:
            tt = build_timetable(list(gtfs), date, lambda stage, done, total: update(done, total, stage))
        target = cache_path(list(gtfs), date, target_dir)
        if not no_cache:
            save_timetable(tt, target)
        click.echo(
            f"{date.isoformat()}: {tt.n_stops} stops, {tt.n_patterns} patterns, {tt.n_trips} trips, "
            f"{tt.n_stop_times} stop times -> {target if not no_cache else '(not stored)'}"
        )
