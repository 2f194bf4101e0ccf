"""``knoten feeds``: check a live feed (GBFS, GTFS-Realtime, OCPI) and show the live state."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import click

from api.errors import CliError
from api.settings import Settings
from charging.ocpi import check_locations
from mobility.errors import FeedError, FeedProblem
from mobility.live.check import (
    KINDS,
    CheckReport,
    check_folder_gtfs_rt,
    check_gbfs,
    check_gtfs_rt,
    detect_kind,
    is_url,
    read_bytes,
)
from mobility.live.http import HttpPolicy
from mobility.sharing.gbfs import decode_json


@click.group("feeds")
def feeds() -> None:
    """Live feeds: check a source, show the state of the configured feeds."""


def format_age(seconds: float) -> str:
    """``42 s``, ``5 min``, ``3 h 10 min``, ``2 d 4 h``, ``1 y 12 d`` (negative: "in the future")."""
    if seconds < 0:
        return f"{format_age(-seconds)} in the future"
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86_400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    if s < 365 * 86_400:
        return f"{s // 86_400} d {s % 86_400 // 3600} h"
    return f"{s // (365 * 86_400)} y {s % (365 * 86_400) // 86_400} d"


def _check_ocpi(source: str, data: bytes) -> CheckReport:
    report = CheckReport(source, "ocpi", version="2.2.1")
    name = Path(source.split("?")[0]).name or source
    try:
        doc = decode_json(data, name)
    except FeedError as exc:
        report.problems.extend(exc.problems)
        return report
    locations, problems = check_locations(doc)
    report.problems = [FeedProblem(name, path, message) for path, message in problems]
    report.counts = {"locations": len(locations), "evses": sum(len(loc.evses) for loc in locations)}
    items = doc.get("data", doc) if isinstance(doc, dict) else doc
    stamps = []
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, dict) and isinstance(item.get("last_updated"), str):
            with contextlib.suppress(ValueError):  # reported by check_locations
                stamps.append(datetime.fromisoformat(item["last_updated"].replace("Z", "+00:00")))
    report.as_of = max((t for t in stamps if t.tzinfo is not None), default=None)
    return report


def run_check(source: str, kind: str | None, policy: HttpPolicy) -> CheckReport:
    """Check ``source`` as ``kind`` (detected when None); FeedError/ValueError when unreadable."""
    local_dir = not is_url(source) and Path(source).is_dir()
    if not is_url(source) and not Path(source).exists():
        raise CliError(f"{source}: no such file or folder")
    data: bytes | None = None
    if kind is None:
        if not local_dir:
            data = read_bytes(source, policy)
        try:
            kind = detect_kind(source, data)
        except ValueError as exc:
            raise CliError(f"{exc}; name the kind with --kind") from exc
    if kind == "gbfs":
        return check_gbfs(source, policy)
    if kind == "gtfs-rt":
        if local_dir:
            return check_folder_gtfs_rt(Path(source))
        return check_gtfs_rt(source, data if data is not None else read_bytes(source, policy))
    if local_dir:
        raise CliError(f"{source}: an OCPI source is a file or URL, not a folder")
    return _check_ocpi(source, data if data is not None else read_bytes(source, policy))


def _summary(report: CheckReport) -> list[str]:
    lines = [f"kind      {report.kind}" + (f" {report.version}" if report.version else "")]
    lines.append(f"source    {report.source}")
    if report.counts:
        lines.append("counts    " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.counts.items()))
    if report.as_of is not None:
        age = report.age_s(datetime.now(UTC))
        lines.append(f"as of     {report.as_of.isoformat()} (age {format_age(age or 0.0)})")
    else:
        lines.append("as of     unknown (the feed gives no time)")
    return lines


@feeds.command("check")
@click.argument("source")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Feed kind (detected when omitted).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--timeout", "timeout_s", type=float, default=15.0, show_default=True, help="HTTP timeout in seconds."
)
@click.option(
    "--max-bytes", type=int, default=50 * 1024 * 1024, show_default=True, help="Response size limit."
)
def check(source: str, *, kind: str | None, as_json: bool, timeout_s: float, max_bytes: int) -> None:
    """Check a feed: SOURCE is a URL, a file or a folder. Exit 0 when valid, 1 with every problem."""
    try:
        report = run_check(source, kind, HttpPolicy(timeout_s=timeout_s, max_bytes=max_bytes, retries=0))
    except FeedError as exc:  # unreadable source (HTTP error, timeout, too large)
        raise CliError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in _summary(report):
            click.echo(line)
        for w in report.warnings:
            click.echo(f"warning   {w}")
        for p in report.problems:
            click.echo(f"problem   {p}")
        if report.ok:
            click.echo("valid")
    if not report.ok:
        n = len(report.problems)
        raise CliError(f"{report.kind} feed is not valid: {n} problem{'s' if n != 1 else ''}")


@feeds.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_obj
def status(settings: Settings, *, as_json: bool) -> None:
    """Age, staleness and errors of every feed in the live-state database."""
    from mobility.live.state import LiveState  # loads the router (numba): only here
    from mobility.live.store import StoreError

    url = settings.resolved_database_url
    try:
        state = LiveState.open(url)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    rows = state.feed_status()
    if as_json:
        click.echo(json.dumps([r.to_json() for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"no feeds recorded in {url}")
        return
    click.echo(f"{'feed':<20} {'kind':<8} {'age':>14}  {'stale':<5} {'errors':>6}  last error")
    for r in rows:
        age = "no data" if r.age_s is None else format_age(r.age_s)
        last = (r.last_error or "")[:80]
        click.echo(
            f"{r.name:<20} {r.kind:<8} {age:>14}  {'yes' if r.stale else 'no':<5} {r.errors:>6}  {last}"
        )
