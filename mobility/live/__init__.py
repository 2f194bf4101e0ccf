"""Live state: the last good snapshot of every feed (GBFS, GTFS-RT, OCPI), kept fresh and persisted.

- ``state.py``: :class:`~mobility.live.state.LiveState`, which accepts or refuses payloads and
  knows each feed's age, errors and staleness;
- ``store.py``: its persistence, SQLite (WAL) by default or PostgreSQL through the same code;
- ``poller.py``: one scheduler thread that polls every configured feed at its own interval;
- ``http.py``: fetching with timeouts, size limits, retries and backoff (files and URLs alike);
- ``check.py``: ``knoten feeds check``: is a source valid, and what is in it.
"""
