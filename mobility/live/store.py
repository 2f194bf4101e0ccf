"""Persistence of live state: SQLite (WAL) by default, PostgreSQL through the same code.

Two tables: ``feed_state`` holds the last good payload of every feed with its times and error
counts (one row per feed, replaced on each update), ``feed_history`` appends one row per
station/EVSE and accepted update for occupancy statistics. URLs: ``sqlite:///path/file.sqlite``
(``sqlite:///:memory:`` for tests) or ``postgresql://user@host:port/db``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mobility.errors import MobilityError

logger = logging.getLogger(__name__)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS feed_state (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        payload {blob},
        fetched_at DOUBLE PRECISION,
        feed_time DOUBLE PRECISION,
        ttl_s INTEGER NOT NULL DEFAULT 60,
        errors INTEGER NOT NULL DEFAULT 0,
        consecutive_errors INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        last_error_at DOUBLE PRECISION
    )""",
    """CREATE TABLE IF NOT EXISTS feed_history (
        feed TEXT NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        entity TEXT NOT NULL,
        available INTEGER,
        free INTEGER,
        status TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS feed_history_feed_entity ON feed_history (feed, entity, at)",
)


class StoreError(MobilityError):
    """The live-state database cannot be used (bad URL, cannot connect)."""


@dataclass(frozen=True)
class FeedRow:
    """One feed's persisted state."""

    name: str
    kind: str
    payload: bytes | None
    fetched_at: float | None
    feed_time: float | None
    ttl_s: int
    errors: int
    consecutive_errors: int
    last_error: str | None
    last_error_at: float | None


_COLUMNS = (
    "name, kind, payload, fetched_at, feed_time, ttl_s, errors, consecutive_errors, last_error, last_error_at"
)


class Store:
    """A connection to the live-state database (thread-safe: one lock around each statement)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        if url.startswith("sqlite://"):
            self.dialect = "sqlite"
            path = (
                url.removeprefix("sqlite:///")
                if url.startswith("sqlite:///")
                else url.removeprefix("sqlite://")
            )
            if path not in ("", ":memory:"):
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn: Any = sqlite3.connect(
                    path or ":memory:", check_same_thread=False, isolation_level=None
                )
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.execute("PRAGMA busy_timeout=5000")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {url}: {exc}") from exc
            blob = "BLOB"
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
            try:
                import psycopg
            except ImportError as exc:  # pragma: no cover - psycopg is a dependency
                raise StoreError("PostgreSQL needs the psycopg package") from exc
            try:
                self._conn = psycopg.connect(url, autocommit=True)
            except psycopg.Error as exc:
                raise StoreError(f"cannot connect to {url}: {exc}") from exc
            blob = "BYTEA"
        else:
            raise StoreError(f"unsupported database URL {url!r} (sqlite:///... or postgresql://...)")
        for stmt in SCHEMA:
            self._exec(stmt.format(blob=blob))

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cur = self._conn.execute(self._sql(sql), tuple(params))
            try:
                return list(cur.fetchall()) if cur.description else []
            finally:
                cur.close()

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            if self.dialect == "sqlite":
                self._conn.execute("BEGIN")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            else:
                with self._conn.transaction():
                    yield self._conn

    def save_good(
        self,
        name: str,
        kind: str,
        payload: bytes,
        *,
        fetched_at: float,
        feed_time: float | None,
        ttl_s: int,
        history: Iterable[tuple[str, int | None, int | None, str | None]] = (),
    ) -> None:
        """Replace a feed's last good payload (errors in a row reset) and append history rows."""
        upsert = self._sql(
            f"INSERT INTO feed_state ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, 0, NULL, NULL) "
            "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, "
            "fetched_at = excluded.fetched_at, feed_time = excluded.feed_time, ttl_s = excluded.ttl_s, "
            "consecutive_errors = 0"
        )
        hist_sql = self._sql(
            "INSERT INTO feed_history (feed, at, entity, available, free, status) VALUES (?, ?, ?, ?, ?, ?)"
        )
        rows = [(name, feed_time or fetched_at, e, a, f, s) for e, a, f, s in history]
        with self._transaction() as conn:
            conn.execute(upsert, (name, kind, payload, fetched_at, feed_time, ttl_s))
            if rows:
                if self.dialect == "sqlite":
                    conn.executemany(hist_sql, rows)
                else:
                    with conn.cursor() as cur:
                        cur.executemany(hist_sql, rows)

    def save_error(self, name: str, kind: str, message: str, at: float) -> None:
        """Count an error of a feed (its last good payload stays)."""
        self._exec(
            f"INSERT INTO feed_state ({_COLUMNS}) VALUES (?, ?, NULL, NULL, NULL, 60, 1, 1, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET errors = feed_state.errors + 1, "
            "consecutive_errors = feed_state.consecutive_errors + 1, last_error = excluded.last_error, "
            "last_error_at = excluded.last_error_at",
            (name, kind, message[:500], at),
        )

    def load(self) -> list[FeedRow]:
        """Every feed's persisted state."""
        rows = self._exec(f"SELECT {_COLUMNS} FROM feed_state ORDER BY name")
        return [
            FeedRow(
                r[0],
                r[1],
                None if r[2] is None else bytes(r[2]),
                r[3],
                r[4],
                int(r[5]),
                int(r[6]),
                int(r[7]),
                r[8],
                r[9],
            )
            for r in rows
        ]

    def history(
        self, feed: str, entity: str, since: float = 0.0
    ) -> list[tuple[float, int | None, int | None, str | None]]:
        """History rows of one station/EVSE: ``(at, available, free, status)`` oldest first."""
        rows = self._exec(
            "SELECT at, available, free, status FROM feed_history"
            " WHERE feed = ? AND entity = ? AND at >= ? ORDER BY at",
            (feed, entity, since),
        )
        return [(float(r[0]), r[1], r[2], r[3]) for r in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
