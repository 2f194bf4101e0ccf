"""GBFS over HTTP: auto-discovery from ``gbfs.json`` or ``manifest.json``, every listed file.

The parsing is :mod:`mobility.sharing.gbfs`'s (the same as for folders); this module only brings
the HTTP fetcher (timeouts, size limit, retries; :mod:`mobility.live.http`) and merges systems.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mobility.errors import FeedError
from mobility.live.http import HttpClient, HttpPolicy
from mobility.sharing.gbfs import GbfsFeed, read_source
from mobility.sharing.model import SharingSnapshot


def fetch_gbfs(url: str, policy: HttpPolicy | None = None) -> list[GbfsFeed]:
    """Every system behind a discovery URL (or a local discovery file), with its problems."""
    client = HttpClient(policy)
    try:
        return read_source(url, client.remote_fetcher(url))
    finally:
        client.close()


def fetch_snapshot(urls: Sequence[str], policy: HttpPolicy | None = None) -> SharingSnapshot:
    """One snapshot of the systems behind several discovery URLs; FeedError on any problem."""
    feeds = [feed for url in urls for feed in fetch_gbfs(url, policy)]
    problems = [p for f in feeds for p in f.problems]
    if problems:
        raise FeedError(f"GBFS not valid: {problems[0]}", problems)
    if not feeds:
        return SharingSnapshot.empty(datetime.now(UTC))
    return SharingSnapshot.merge([f.snapshot for f in feeds])
