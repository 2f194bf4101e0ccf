"""The knoten command line: help everywhere, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from api.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )


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


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("knoten, version ")


@pytest.mark.parametrize("path", _all_commands(main), ids=lambda p: " ".join(p) or "knoten")
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_bad_flag_is_one_line_with_exit_2() -> None:
    result = run_cli("--no-such-flag")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "No such option" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_one_line() -> None:
    result = run_cli("--config", "/nonexistent/knoten.toml", "serve")
    assert result.returncode == 2
    assert result.stderr.strip() == "knoten: error: config file not found: /nonexistent/knoten.toml"
