"""Wiring of the live feeds: feed configuration from settings, the OCPI source for the pollers,
and the OCPI push receiver bound to a :class:`~mobility.live.state.LiveState`.

Routes and the CLI use these; the cores they join (``mobility.live``, ``charging.ocpi``) do not
know each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.settings import Settings, SettingsError
from charging.ocpi import EvseStatusReceiver, HttpAnswer, LocationsClient, apply_evse_patch, merge_locations
from mobility.errors import FeedError, FeedProblem
from mobility.live.http import HttpClient, read_local
from mobility.live.poller import FeedConfig, Poller, Source
from mobility.live.state import LiveState
from mobility.realtime.overlay import OverlayBase
from mobility.timetable import Timetable


def ocpi_source(cfg: FeedConfig, http: HttpClient, state: LiveState) -> bytes:
    """Poll an OCPI Locations module: all pages at first, then only changes (``date_from``)."""
    if not cfg.url.startswith(("http://", "https://")):
        return read_local(cfg.url, cfg.max_bytes)

    def get(url: str, headers: Mapping[str, str]) -> HttpAnswer:
        resp = http.get(url, headers)
        return HttpAnswer(resp.status_code, dict(resp.headers), resp.content)

    client = LocationsClient(cfg.url, cfg.token or "", get)
    previous = state.payload(cfg.name)
    since = next((s.as_of for s in state.feed_status() if s.name == cfg.name and s.as_of), None)
    try:
        if previous is None or since is None:
            locations = client.fetch()
        else:
            current = json.loads(previous)
            locations = merge_locations(current if isinstance(current, list) else [], client.fetch(since))
    except ValueError as exc:  # OcpiError is a ValueError
        raise FeedError(str(exc), [FeedProblem(cfg.url, "/", str(exc))]) from exc
    return json.dumps(locations).encode()


SOURCES: dict[str, Source] = {"ocpi": ocpi_source}


def evse_receiver(state: LiveState, tokens: Iterable[str]) -> EvseStatusReceiver:
    """The OCPI EVSE PATCH receiver, storing accepted patches in ``state`` (persisted, history)."""

    def apply(country: str, party: str, location_id: str, evse_uid: str, patch: dict[str, Any]) -> bool:
        def change(payload: bytes) -> bytes | None:
            doc = json.loads(payload)
            items = doc if isinstance(doc, list) else doc.get("data", [doc]) if isinstance(doc, dict) else []
            if isinstance(items, dict):
                items = [items]
            new = apply_evse_patch(list(items), country, party, location_id, evse_uid, patch)
            return None if new is None else json.dumps(new).encode()

        return state.transform("ocpi", change) is not None

    return EvseStatusReceiver(list(tokens), apply)


def feeds_from_tables(tables: Mapping[str, Mapping[str, Any]]) -> list[FeedConfig]:
    """Feed configurations from ``[feeds.NAME]`` tables; ValueError names the bad one."""
    return [FeedConfig.from_mapping(name, table) for name, table in tables.items()]


def feed_configs(settings: Settings) -> list[FeedConfig]:
    """Every live feed of the settings: the ``[feeds.NAME]`` tables, then the plain URL lists
    (``gbfs``, ``gtfs_rt``, ``ocpi_locations``) as ``gbfs-1``, ``gtfs-rt-1``, ``ocpi-1``, ..."""
    try:
        out = feeds_from_tables(settings.feeds)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"invalid setting feeds: {exc}") from exc
    for kind, urls in (
        ("gbfs", settings.gbfs),
        ("gtfs-rt", settings.gtfs_rt),
        ("ocpi", settings.ocpi_locations),
    ):
        for i, url in enumerate(urls, start=1):
            out.append(FeedConfig(f"{kind}-{i}", kind, url))
    return out


def make_poller(state: LiveState, feeds: list[FeedConfig]) -> Poller:
    """One scheduler for all configured feeds, OCPI included."""
    return Poller(state, feeds, sources=SOURCES)


def demo_feeds(base_url: str, demo_dir: Path) -> list[FeedConfig]:
    """The demo city's moving feeds as served under ``{base_url}/demo`` (when it is built)."""
    if not (demo_dir / "manifest.json").is_file():
        return []
    base = base_url.rstrip("/") + "/demo"
    feeds = [
        FeedConfig(f"demo-{p.name}", "gbfs", f"{base}/gbfs/{p.name}/gbfs.json", min_interval_s=10.0)
        for p in sorted((demo_dir / "gbfs").iterdir())
        if (p / "gbfs.json").is_file()
    ]
    feeds.append(FeedConfig("demo-chargers", "ocpi", f"{base}/ocpi/locations.json", interval_s=60.0))
    feeds.append(
        FeedConfig("demo-trip-updates", "gtfs-rt", f"{base}/gtfs-rt/trip-updates.pb", interval_s=30.0)
    )
    return feeds


@dataclass
class Live:
    """A running live state: the state readers use and the poller that keeps it fresh."""

    state: LiveState
    poller: Poller | None

    def stop(self) -> None:
        """Stop polling."""
        if self.poller is not None:
            self.poller.stop()


def start_live(settings: Settings, base_url: str, *, poll: bool = True) -> Live:
    """Open the live state (restored from the database) and start polling the configured feeds;
    without configured feeds the demo city's, when it is built. Readers may use the state at once.
    """
    state = LiveState.open(settings.resolved_database_url, stale_factor=settings.stale_factor)
    feeds = feed_configs(settings) or demo_feeds(base_url, settings.data_dir / "demo")
    if not feeds or not poll:
        return Live(state, None)
    poller = make_poller(state, feeds)
    poller.start(delay_s=2.0)  # the demo's feeds come from the server that is starting up
    return Live(state, poller)


def attach_timetable(state: LiveState, tt: Timetable) -> None:
    """Apply the realtime feeds to ``tt`` from now on (``state.overlay()`` then routes with them)."""
    state.set_overlay_base(OverlayBase(tt))
