"""Door-to-door forms of ``knoten build``, ``knoten route`` and ``knoten route-batch``.

``build --osm``: prepare a graph folder; ``route --graph``: plan between two coordinates;
``route-batch --graph``: earliest arrivals of a CSV of coordinate pairs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import click

from api.cli.progress import progress_bar
from api.errors import CliError
from mobility.errors import MobilityError, NoRouteError, QueryError
from mobility.planner.itinerary import Itinerary


def parse_lat_lon(text: str, label: str) -> tuple[float, float]:
    """``LAT,LON`` into floats (CliError with exit 2 when malformed)."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise CliError(f"{label}: {text!r} is not LAT,LON (for example 52.5200,13.4050)", 2) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CliError(f"{label}: {text!r} is outside the range of latitude,longitude", 2)
    return lat, lon


def parse_when(text: str, tz: str, label: str) -> dt.datetime:
    """An ISO 8601 date-time; without an offset it is read in the feeds' time zone."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(
            f"{label}: {text!r} is not an ISO date-time (for example 2026-12-03T08:00+01:00)", 2
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    return when


def build_graph(
    gtfs: tuple[Path, ...], osm: Path, out: Path, gbfs: tuple[Path, ...], ocpi: tuple[Path, ...]
) -> None:
    """``knoten build --osm``: check the inputs and write the graph folder."""
    from mobility.planner.graphdir import build_graph_dir

    for path in (*gtfs, osm, *gbfs, *ocpi):
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")
    try:
        with progress_bar("Graph") as update:
            manifest = build_graph_dir(
                list(gtfs), osm, out, gbfs_dirs=list(gbfs), ocpi_files=list(ocpi),
                progress=lambda stage, done, total: update(done, total, stage),
            )  # fmt: skip
    except MobilityError as exc:
        raise CliError(str(exc)) from None
    graphs = ", ".join(f"{k} {v['nodes']} nodes/{v['edges']} edges" for k, v in manifest["graphs"].items())
    click.echo(
        f"{out}: {graphs}; {manifest['sharing']['stations']} sharing stations, "
        f"{manifest['sharing']['vehicles']} vehicles, {manifest['charging_locations']} charging locations "
        f"({manifest['build_s']} s)"
    )
    unlinked = manifest["stops_unlinked"]
    if unlinked:
        shown = ", ".join(unlinked[:8]) + (" ..." if len(unlinked) > 8 else "")
        click.echo(f"knoten: warning: {len(unlinked)} stops lie off the street network: {shown}", err=True)


def _describe(its: list[Itinerary], tz: ZoneInfo) -> str:
    lines = []
    for n, it in enumerate(its, start=1):
        start, end = it.start.astimezone(tz), it.end.astimezone(tz)
        lines.append(
            f"{n}. {start:%H:%M} -> {end:%H:%M}  ({it.duration_s // 60} min, {it.transfers} transfer"
            f"{'s' if it.transfers != 1 else ''}, walk {it.walk_m / 1000:.1f} km)  {' > '.join(it.modes)}"
        )
        for leg in it.legs:
            what = leg.mode
            if leg.transit:
                route = leg.transit["route"]
                what += f" {route['short_name'] or route['long_name'] or ''}"
                if leg.transit.get("headsign"):
                    what += f" towards {leg.transit['headsign']}"
            if leg.rental:
                what += f" ({leg.rental['system_id']}, {leg.rental['form_factor']})"
            if leg.charging:
                c = leg.charging
                what += f" to EVSE {c['evse_id']} ({c['status']}, {c['max_power_kw']} kW)"
            a, b = leg.start.scheduled.astimezone(tz), leg.end.scheduled.astimezone(tz)
            lines.append(
                f"   {a:%H:%M}-{b:%H:%M}  {what}  "
                f"{leg.origin.name} -> {leg.destination.name}  ({leg.distance_m / 1000:.2f} km)"
            )
    return "\n".join(lines)


def route_door(
    graph: Path, from_text: str, to_text: str, depart: str | None, arrive: str | None, modes_text: str, *,
    ev_connector: str | None, min_power_kw: float, walk_speed_mps: float, max_walk_m: float,
    max_transfer_m: float, as_json: bool, geometry: str,
) -> None:  # fmt: skip
    """``knoten route --graph``: print the itineraries (text or ``{"itineraries": [...]}``)."""
    from mobility.planner.graphdir import GraphDir
    from mobility.planner.query import PlanQuery

    if (depart is None) == (arrive is None):
        raise CliError("give exactly one of --depart and --arrive", 2)
    frm, to = parse_lat_lon(from_text, "--from"), parse_lat_lon(to_text, "--to")
    try:
        gd = GraphDir.load(graph)
        when = parse_when(depart or str(arrive), gd.timezone, "--depart" if depart else "--arrive")
        modes = PlanQuery.parse_modes(modes_text)
        q = PlanQuery(
            frm[0], frm[1], to[0], to[1], when, arrive_by=arrive is not None, modes=modes,
            walk_speed_mps=walk_speed_mps, max_walk_m=max_walk_m, max_transfer_m=max_transfer_m,
            ev_connector=ev_connector, min_power_kw=min_power_kw,
        )  # fmt: skip
        tz = ZoneInfo(gd.timezone)
        with progress_bar("Timetable") as update:
            planner = gd.planner(
                when.astimezone(tz).date(), lambda stage, done, total: update(done, total, stage)
            )
        its = planner.plan(q)
    except QueryError as exc:
        raise CliError(str(exc), 2) from None
    except NoRouteError as exc:
        raise CliError(str(exc), 1) from None
    except MobilityError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        shape: Literal["polyline", "geojson"] = "geojson" if geometry == "geojson" else "polyline"
        doc = {"itineraries": [it.to_json(shape) for it in its]}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo(_describe(its, tz))


def route_batch_door(
    graph: Path, date_text: str, queries: Path, out: Path, modes_text: str, *, walk_speed_mps: float,
    max_walk_m: float, max_transfer_m: float,
) -> None:  # fmt: skip
    """``knoten route-batch --graph``: earliest door-to-door arrivals of a CSV of queries."""
    from mobility.planner.batch import answer_door_queries, read_door_queries, write_door_answers
    from mobility.planner.graphdir import GraphDir
    from mobility.planner.query import PlanQuery

    try:
        date = dt.date.fromisoformat(date_text.strip())
    except ValueError:
        raise CliError(f"--date: {date_text!r} is not a date (expected YYYY-MM-DD)", 2) from None
    try:
        modes = PlanQuery.parse_modes(modes_text)
        rows = read_door_queries(queries)
        gd = GraphDir.load(graph)
        planner = gd.planner(date)
        base = PlanQuery(
            0.0, 0.0, 0.0, 0.0, planner.at(0), modes=modes, walk_speed_mps=walk_speed_mps,
            max_walk_m=max_walk_m, max_transfer_m=max_transfer_m,
        )  # fmt: skip
        with progress_bar("Queries") as update:
            answers = answer_door_queries(
                planner, rows, queries.name, base=base, progress=lambda done, total: update(done, total)
            )
        write_door_answers(out, answers)
    except QueryError as exc:
        raise CliError(str(exc), 2) from None
    except MobilityError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{exc.filename or ''}: {exc.strerror}") from None
