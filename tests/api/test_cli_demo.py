"""``knoten demo build``: builds, skips an unchanged second run, rejects bad input with one line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunCli


def test_demo_build_then_second_run_is_skipped(tmp_path: Path, run_cli: RunCli) -> None:
    out = tmp_path / "city"
    first = run_cli("demo", "build", "--seed", "3", "--date", "2026-06-15", "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert "built" in first.stdout and "fictional" in first.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["build_date"] == "2026-06-15"
    assert manifest["gtfs_feed_period"] == {"start": "2026-05-16", "end": "2027-05-16"}
    before = (out / "gtfs" / "demo-city.gtfs.zip").stat().st_mtime_ns
    second = run_cli("demo", "build", "--seed", "3", "--date", "2026-06-15", "--out", str(out))
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert (out / "gtfs" / "demo-city.gtfs.zip").stat().st_mtime_ns == before


def test_demo_build_defaults_to_the_data_dir(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("--data-dir", str(tmp_path / "data"), "demo", "build", "--date", "2026-01-10")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "demo" / "sumo" / "demo.sumocfg").is_file()


def test_demo_build_bad_date_is_a_usage_error(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("demo", "build", "--date", "2026-13-40", "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--date" in result.stderr and "Traceback" not in result.stderr


def test_demo_build_unwritable_output_is_one_line(tmp_path: Path, run_cli: RunCli) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("demo", "build", "--out", str(blocker / "city"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_demo_build_writes_the_planner_graph_and_keeps_it_while_current(
    tmp_path: Path, run_cli: RunCli
) -> None:
    out = tmp_path / "city"
    first = run_cli("demo", "build", "--date", "2026-06-15", "--out", str(out))
    assert first.returncode == 0, first.stderr
    graph = json.loads((out / "graph" / "manifest.json").read_text())
    assert graph["gtfs"] == [str((out / "gtfs" / "demo-city.gtfs.zip").resolve())]
    assert graph["osm"] == str((out / "osm" / "demo-city.osm").resolve())
    assert graph["sharing"]["stations"] > 0 and graph["sharing"]["vehicles"] > 0
    assert graph["charging_locations"] > 0
    assert (out / "graph" / "streets.npz").is_file()
    built = (out / "graph" / "manifest.json").stat().st_mtime_ns
    second = run_cli("demo", "build", "--date", "2026-06-15", "--out", str(out))
    assert second.returncode == 0 and "up to date" in second.stdout
    assert (out / "graph" / "manifest.json").stat().st_mtime_ns == built
    (out / "graph" / "streets.npz").unlink()  # a damaged graph folder is built again
    third = run_cli("demo", "build", "--date", "2026-06-15", "--out", str(out))
    assert third.returncode == 0 and "built" in third.stdout
    assert (out / "graph" / "streets.npz").is_file()
    rebuilt = (out / "graph" / "manifest.json").stat().st_mtime_ns
    other = run_cli("demo", "build", "--seed", "5", "--date", "2026-06-15", "--out", str(out))
    assert other.returncode == 0 and "built" in other.stdout
    assert (out / "graph" / "manifest.json").stat().st_mtime_ns > rebuilt  # a new city gets a new graph
