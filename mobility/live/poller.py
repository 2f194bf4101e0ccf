"""Pollers: one scheduler thread that keeps every configured feed's live state fresh.

Each feed is polled at its own interval: the configured ``interval_s``, else the feed's ``ttl``
(GBFS) clamped to ``[min_interval_s, max_interval_s]``. A fetch has a timeout and a size limit and
retries transient failures with exponential backoff and jitter (:mod:`mobility.live.http`);
after a failed poll the feed's next poll backs off the same way. Every outcome goes to the
:class:`~mobility.live.state.LiveState`, which keeps the last good state.

Sources turn a feed configuration into a payload for :meth:`LiveState.accept`; ``gbfs`` and
``gtfs-rt`` are built in, others (OCPI) are passed in by the caller.
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mobility.errors import FeedError
from mobility.live.http import HttpClient, HttpPolicy, backoff_delay_s
from mobility.live.state import KINDS, LiveState, gbfs_payload
from mobility.sharing.gbfs import read_source

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedConfig:
    """One configured feed (a ``[feeds.NAME]`` table of ``knoten.toml``)."""

    name: str
    kind: str
    url: str
    interval_s: float | None = None
    timeout_s: float = 10.0
    max_bytes: int = 20 * 1024 * 1024
    retries: int = 2
    min_interval_s: float = 5.0
    max_interval_s: float = 600.0
    token: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_mapping(cls, name: str, table: Mapping[str, Any]) -> FeedConfig:
        """A feed from a TOML table; ValueError names the bad key."""
        known = {f for f in cls.__dataclass_fields__ if f not in ("name", "options")}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ValueError(f"feed {name!r}: unknown key {unknown[0]!r}")
        if table.get("kind") not in KINDS:
            raise ValueError(f"feed {name!r}: kind must be one of {', '.join(KINDS)}")
        if not isinstance(table.get("url"), str) or not table["url"]:
            raise ValueError(f"feed {name!r}: url is required")
        cfg = cls(name=name, **table)
        for key in ("timeout_s", "min_interval_s", "max_interval_s"):
            if not float(getattr(cfg, key)) > 0:
                raise ValueError(f"feed {name!r}: {key} must be positive")
        return cfg

    @property
    def policy(self) -> HttpPolicy:
        """The HTTP policy of this feed."""
        return HttpPolicy(timeout_s=self.timeout_s, max_bytes=self.max_bytes, retries=self.retries)


Source = Callable[[FeedConfig, HttpClient, LiveState], bytes]


def gbfs_source(cfg: FeedConfig, http: HttpClient, state: LiveState) -> bytes:
    """Fetch a GBFS system (discovery and every listed file) into one payload."""
    files: dict[str, bytes] = {}
    get = http.remote_fetcher(cfg.url)

    def fetch(url: str) -> bytes:
        files[url] = get(url)
        return files[url]

    feeds = read_source(cfg.url, fetch)
    problems = [p for f in feeds for p in f.problems]
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise FeedError(f"GBFS not valid: {problems[0]}{more}", problems)
    return gbfs_payload(cfg.url, files)


def gtfs_rt_source(cfg: FeedConfig, http: HttpClient, state: LiveState) -> bytes:
    """Fetch a GTFS-Realtime message."""
    return http.fetch(cfg.url)


DEFAULT_SOURCES: dict[str, Source] = {"gbfs": gbfs_source, "gtfs-rt": gtfs_rt_source}


class Poller:
    """One scheduler for many feeds; :meth:`start` runs it in a daemon thread."""

    def __init__(
        self,
        state: LiveState,
        feeds: Sequence[FeedConfig],
        *,
        sources: Mapping[str, Source] | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.state = state
        self.feeds = {f.name: f for f in feeds}
        self.sources = {**DEFAULT_SOURCES, **(sources or {})}
        self.clock = clock
        self.rng = rng or random.Random()
        self._clients = {f.name: HttpClient(f.policy) for f in feeds}
        self._failures: dict[str, int] = {}
        now = clock()
        self._heap: list[tuple[float, str]] = [(now, f.name) for f in feeds]
        heapq.heapify(self._heap)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        for f in feeds:
            if f.kind not in self.sources:
                raise ValueError(f"feed {f.name!r}: no source for kind {f.kind!r}")
            state.register(f.name, f.kind)

    def poll(self, name: str) -> bool:
        """Poll one feed now; True when its state was updated."""
        cfg = self.feeds[name]
        try:
            payload = self.sources[cfg.kind](cfg, self._clients[name], self.state)
        except FeedError as exc:  # down, HTTP error, timeout, too large, invalid
            self.state.record_error(name, cfg.kind, str(exc))
            self._failures[name] = self._failures.get(name, 0) + 1
            return False
        except Exception as exc:  # a source must never take the scheduler down
            logger.exception("feed %s: unexpected failure", name)
            self.state.record_error(name, cfg.kind, f"internal error: {type(exc).__name__}: {exc}")
            self._failures[name] = self._failures.get(name, 0) + 1
            return False
        try:
            self.state.accept(name, cfg.kind, payload)  # counts its own refusals
        except FeedError:
            self._failures[name] = self._failures.get(name, 0) + 1
            return False
        except Exception as exc:  # never let the scheduler thread die
            logger.exception("feed %s: unexpected failure while applying", name)
            self.state.record_error(name, cfg.kind, f"internal error: {type(exc).__name__}: {exc}")
            self._failures[name] = self._failures.get(name, 0) + 1
            return False
        self._failures[name] = 0
        return True

    def interval_s(self, name: str) -> float:
        """Seconds until the next poll of a feed: its interval, or a backoff after failures."""
        cfg = self.feeds[name]
        base = cfg.interval_s
        if base is None:
            base = float(self.state.ttl_s(name) or 30)
        base = min(cfg.max_interval_s, max(cfg.min_interval_s, base))
        failures = self._failures.get(name, 0)
        if failures == 0:
            return base
        policy = HttpPolicy(backoff_s=cfg.min_interval_s, max_backoff_s=cfg.max_interval_s)
        return max(cfg.min_interval_s, backoff_delay_s(failures - 1, policy, self.rng))

    def run_pending(self) -> int:
        """Poll every feed that is due; returns how many were polled."""
        n = 0
        while self._heap and self._heap[0][0] <= self.clock() and not self._stop.is_set():
            _, name = heapq.heappop(self._heap)
            self.poll(name)
            n += 1
            heapq.heappush(self._heap, (self.clock() + self.interval_s(name), name))
        return n

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_pending()
            wait = max(0.05, self._heap[0][0] - self.clock()) if self._heap else 1.0
            self._stop.wait(min(wait, 5.0))

    def start(self, delay_s: float = 0.0) -> None:
        """Run the scheduler in a daemon thread; the first polls wait ``delay_s`` (e.g. until the
        server that publishes the feeds itself is listening)."""
        if delay_s > 0:
            self._heap = [(t + delay_s, name) for t, name in self._heap]
            heapq.heapify(self._heap)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="knoten-feeds", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the scheduler thread and close the HTTP sessions."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        for client in self._clients.values():
            client.close()
