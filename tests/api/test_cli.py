"""The knoten command line: help everywhere, one-line errors, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from api.cli import main
from api.cli.main import KnotenGroup
from tests.conftest import RunCli


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


def test_version(run_cli: RunCli) -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("knoten, version ")


@pytest.mark.parametrize("path", _all_commands(main), ids=lambda p: " ".join(p) or "knoten")
def test_every_command_has_help(path: tuple[str, ...], run_cli: RunCli) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_bad_flag_is_one_line_with_exit_2(run_cli: RunCli) -> None:
    result = run_cli("--no-such-flag")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "No such option" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_one_line(run_cli: RunCli) -> None:
    result = run_cli("--config", "/nonexistent/knoten.toml", "serve")
    assert result.returncode == 2
    assert result.stderr.strip() == "knoten: error: config file not found: /nonexistent/knoten.toml"


def test_top_level_help_lists_each_command_by_its_own_docstring() -> None:
    ctx = click.Context(main)
    for name, (_target, help_line) in KnotenGroup.lazy_commands.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.help is not None, name
        assert command.help.split("\n\n")[0].strip() == help_line, name


def test_top_level_help_imports_no_capability() -> None:
    # knoten --help lists the commands without importing the packages behind them (fast start)
    code = (
        "import sys\n"
        "from api.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('numpy', 'scipy', 'pandas', 'ortools', 'numba', 'pydantic', 'flask', 'rich',\n"
        "         'mobility', 'signals', 'charging', 'scenarios')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Commands:" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_cached_route_off_a_terminal_imports_no_gtfs_reader_spatial_index_or_rich(tmp_path: Path) -> None:
    # a route on a cached timetable reads the cache: pandas and gtfs-kit (the GTFS readers),
    # scipy.spatial (footpaths) and rich (progress bars, stderr is a pipe here) stay unloaded
    feed = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs" / "riding"
    args = ["route", "--gtfs", str(feed), "--cache-dir", str(tmp_path), "--date", "2024-03-04"]
    args += ["--from", "A", "--to", "C", "--depart", "07:55:00"]
    code = (
        "import sys\n"
        "from api.cli import main\n"
        f"main({args!r})\n"
        "heavy = ('pandas', 'gtfs_kit', 'scipy.spatial', 'rich')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stderr
    assert "pandas" in first.stdout.strip().splitlines()[-1]  # the first run builds the timetable
    cached = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env
    )
    assert cached.returncode == 0, cached.stderr
    assert "1. depart" in cached.stdout
    assert cached.stdout.strip().splitlines()[-1] == "[]"


def test_domain_error_is_one_line_with_exit_1(run_cli: RunCli, tmp_path: Path) -> None:
    # a bad GTFS feed raises MobilityError deep in the core; the command line maps it in one place
    feed = tmp_path / "broken.zip"
    feed.write_bytes(b"not a zip file")
    result = run_cli(
        "route", "--gtfs", str(feed), "--from", "a", "--to", "b", "--depart", "08:00:00", "--no-cache"
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("knoten: error: broken.zip: not a zip file"), result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
