"""The on-disk timetable cache: one uncompressed ``.npz`` per feeds' content and service date.

The key is a hash of the feeds' bytes (remembered per file size and modification time, so that a
cached ``knoten route`` does not re-read a large zip) and of the cache format.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np

from mobility.errors import GtfsError
from mobility.timetable import Progress, Timetable, build_timetable, no_progress

CACHE_VERSION = 5

logger = logging.getLogger(__name__)


def _file_digest(path: Path, memo: dict[str, list]) -> str:
    """sha256 of a file's bytes, remembered per (path, size, mtime) in ``memo``."""
    st = path.stat()
    key = str(path.resolve())
    seen = memo.get(key)
    if seen is not None and seen[0] == st.st_size and seen[1] == st.st_mtime_ns:
        return str(seen[2])
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            h.update(chunk)
    memo[key] = [st.st_size, st.st_mtime_ns, h.hexdigest()]
    return h.hexdigest()


def feed_fingerprint(paths: Sequence[str | Path], memo_file: Path | None = None) -> str:
    """A hash of the feeds' content (file bytes, in order) and of the timetable format.

    With ``memo_file`` the digest of each file is remembered there and recomputed only when the
    file's size or modification time changes.
    """
    memo: dict[str, list] = {}
    if memo_file is not None and memo_file.exists():
        try:
            memo = json.loads(memo_file.read_text())
        except (OSError, ValueError):
            memo = {}
    h = hashlib.sha256(f"knoten-timetable-v{CACHE_VERSION}".encode())
    for p in map(Path, paths):
        if not p.exists():
            raise GtfsError(p.name, f"no such file or folder: {p}")
        files = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(f.name.encode())
            h.update(_file_digest(f, memo).encode())
    if memo_file is not None:
        try:
            memo_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo_file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(memo))
            os.replace(tmp, memo_file)
        except OSError as exc:  # the memo only saves time
            logger.debug("cannot write the fingerprint memo %s: %s", memo_file, exc)
    return h.hexdigest()[:20]


_ARRAY_FIELDS = [
    f.name
    for f in fields(Timetable)
    if f.name not in ("date", "feed_names", "timezone", "monotone", "_stop_lookup", "_children")
]


def save_timetable(tt: Timetable, path: Path) -> None:
    """Write ``tt`` to ``path`` (npz, uncompressed for fast loading); atomic replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: getattr(tt, name) for name in _ARRAY_FIELDS}
    arrays["meta_date"] = np.array(tt.date.isoformat())
    arrays["meta_feeds"] = np.array(tt.feed_names, dtype=np.str_)
    arrays["meta_timezone"] = np.array(tt.timezone)
    arrays["meta_monotone"] = np.array(tt.monotone)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_cached(path: Path) -> Timetable:
    """Read a timetable written by :func:`save_timetable`."""
    with np.load(path, allow_pickle=False) as z:
        data = {name: z[name] for name in _ARRAY_FIELDS}
        return Timetable(
            date=dt.date.fromisoformat(str(z["meta_date"])),
            feed_names=[str(x) for x in z["meta_feeds"]],
            timezone=str(z["meta_timezone"]),
            monotone=bool(z["meta_monotone"]),
            **data,
        )


def cache_path(paths: Sequence[str | Path], date: dt.date, cache_dir: Path) -> Path:
    """Where the timetable of ``paths`` on ``date`` is cached."""
    fingerprint = feed_fingerprint(paths, cache_dir / "fingerprints.json")
    return cache_dir / f"timetable-{date.isoformat()}-{fingerprint}.npz"


def get_timetable(
    paths: Sequence[str | Path],
    date: dt.date,
    cache_dir: Path | None,
    progress: Progress = no_progress,
) -> tuple[Timetable, bool]:
    """The timetable from the cache when present, else built (and cached when ``cache_dir``).

    Returns the timetable and whether it came from the cache.
    """
    if cache_dir is not None:
        target = cache_path(paths, date, cache_dir)
        if target.exists():
            try:
                return load_cached(target), True
            except (OSError, KeyError, ValueError) as exc:
                logger.warning("unreadable cached timetable %s (%s): rebuilding", target, exc)
    tt = build_timetable(paths, date, progress)
    if cache_dir is not None:
        save_timetable(tt, target)
        logger.info("cached the timetable of %s in %s", date.isoformat(), target)
    return tt, False
