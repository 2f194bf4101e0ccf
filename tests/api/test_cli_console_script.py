"""Error paths of the installed ``knoten`` console script, run as a user runs it (a real process).

Click's test runner catches exceptions itself and never prints a traceback, so only a real process
shows what a user would see: one line ``knoten: error: ...`` on stderr, nothing on stdout, and the
documented exit code (2 for usage errors and unknown names, 1 for failures).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs"
KNOTEN = Path(sys.executable).parent / "knoten"
SESSIONS = """session_id,evse_id,arrival,departure,energy_kwh,max_kw
a,E1,2026-11-27T07:52:00+01:00,2026-11-27T11:07:00+01:00,30,11
b,E2,2026-11-27T10:05:00+01:00,2026-11-27T10:00:00+01:00,15,11
"""


def _zip(name: str, target: Path, drop: str | None = None) -> Path:
    with zipfile.ZipFile(target, "w") as zf:
        for f in sorted((FIXTURES / name).iterdir()):
            if f.name != drop:
                zf.writestr(f.name, f.read_text(encoding="utf-8"))
    return target


def knoten(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script installed next to this interpreter."""
    assert KNOTEN.is_file(), f"{KNOTEN} missing: install the project (make venv)"
    return subprocess.run(
        [str(KNOTEN), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _cases(tmp: Path) -> list[tuple[list[str], int, str]]:
    feed = _zip("frequencies", tmp / "freq.gtfs.zip")
    broken = _zip("stations", tmp / "broken.gtfs.zip", drop="stop_times.txt")
    sessions = tmp / "sessions.csv"
    sessions.write_text(SESSIONS, encoding="utf-8")
    route = ["route", "--gtfs", str(feed), "--from", "A", "--date", "2024-03-06", "--no-cache"]
    queries = tmp / "queries.csv"
    queries.write_text("query_id,from_stop_id,to_stop_id,departure\nq,P,Q,07:00:00\n", encoding="utf-8")
    return [
        ([*route, "--to", "NOPE", "--depart", "07:00:00"], 2, "knoten: error: --to: unknown stop 'NOPE'"),
        (
            [*route, "--to", "C", "--depart", "07:00:00", "--arrive-by", "09:00:00"],
            2,
            "knoten: error: give exactly one of --depart and --arrive-by",
        ),
        ([*route, "--to", "C", "--depart", "7h"], 2, "knoten: error: Invalid value: bad time '7h'"),
        (
            ["route", "--gtfs", str(tmp / "nothing.zip"), "--from", "A", "--to", "C", "--depart", "07:00:00"],
            1,
            "knoten: error: nothing.zip: no such file or folder",
        ),
        (
            [
                "route-batch",
                *("--gtfs", str(broken), "--date", "2024-03-06", "--queries", str(queries)),
                *("--out", str(tmp / "answers.csv"), "--no-cache"),
            ],
            1,
            "knoten: error: broken.gtfs.zip, stop_times.txt",
        ),
        (
            [
                *("signals", "evaluate", "--sumocfg", str(tmp / "nope.sumocfg")),
                *("--controller", "static", "--seeds", "1", "--tripinfo-dir", str(tmp / "out")),
            ],
            1,
            "knoten: error: sumocfg not found",
        ),
        (
            [
                *("signals", "evaluate", "--sumocfg", str(tmp / "nope.sumocfg")),
                *("--controller", "nope", "--seeds", "1", "--tripinfo-dir", str(tmp / "out")),
            ],
            1,
            "knoten: error: unknown controller 'nope'",
        ),
        (
            [
                *("charging", "plan", "--sessions", str(sessions), "--site-limit-kw", "20"),
                *("--slot-minutes", "15", "--objective", "min-peak", "--out", str(tmp / "plan.csv")),
            ],
            1,
            "row 3: departure",
        ),
        (["demo", "build", "--date", "2026-13-40", "--out", str(tmp / "city")], 2, "--date"),
        (["--config", str(tmp / "none.toml"), "serve"], 2, "knoten: error: config file not found"),
    ]


CASE_IDS = [
    "route-unknown-stop",
    "route-depart-and-arrive-by",
    "route-bad-time",
    "route-missing-feed",
    "route-batch-broken-feed",
    "signals-missing-sumocfg",
    "signals-unknown-controller",
    "charging-bad-session-row",
    "demo-bad-date",
    "missing-config",
]


@pytest.mark.parametrize("case", range(len(CASE_IDS)), ids=CASE_IDS)
def test_error_is_one_line_with_exit_code_and_no_traceback(case: int, tmp_path: Path) -> None:
    args, code, needle = _cases(tmp_path)[case]
    proc = knoten(*args)
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == code, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("knoten: error: "), proc.stderr
    assert needle in lines[0]
    assert proc.stdout == ""


def test_debug_flag_shows_the_traceback(tmp_path: Path) -> None:
    """The counterpart: with --debug the same failure raises, so the checks above can see one."""
    proc = knoten(
        "--debug",
        *("signals", "evaluate", "--sumocfg", str(tmp_path / "nope.sumocfg")),
        *("--controller", "static", "--seeds", "1", "--tripinfo-dir", str(tmp_path / "out")),
    )
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "sumocfg not found" in proc.stderr
