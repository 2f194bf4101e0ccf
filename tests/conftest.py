"""Shared fixtures: the reference data, the demo city and the real ``knoten`` command.

Test helpers are imported one way: by their package path from the repository root,
``from tests.<area>.<module> import ...`` (e.g. ``tests.charging.charging_helpers``,
``tests.mobility.reference``); fixtures shared by several areas live here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Protocol

import pytest

from scenarios.demo import DemoCity, build_demo_city

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real reference data next to the checkout; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data folder {SHARED_DATA} is absent")
    return SHARED_DATA.resolve()


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    """The fictional demo city Knotenstadt (seed 42, today's date), built into a temporary folder."""
    return build_demo_city(tmp_path_factory.mktemp("demo-city"), seed=42)


class RunCli(Protocol):
    """``run_cli(*args, cwd=None, timeout_s=300)``: run ``knoten ARGS`` and return the finished process."""

    def __call__(
        self, *args: str, cwd: Path | None = None, timeout_s: float = 300
    ) -> subprocess.CompletedProcess[str]: ...


def _knoten_executable() -> Path:
    """The installed ``knoten`` console script of this environment."""
    beside = Path(sys.executable).with_name("knoten")
    if beside.is_file():
        return beside
    found = shutil.which("knoten")
    if found is None:
        pytest.fail("the knoten console script is not installed (run 'make venv')")
    return Path(found)


@pytest.fixture(scope="session")
def knoten_exe() -> Path:
    """Path of the real ``knoten`` console script (the one users run)."""
    return _knoten_executable()


@pytest.fixture(scope="session")
def run_cli(knoten_exe: Path) -> RunCli:
    """Run the real ``knoten`` console script in a subprocess; exit code, stdout and stderr come back."""

    def run(*args: str, cwd: Path | None = None, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(knoten_exe), *args], capture_output=True, text=True, timeout=timeout_s, check=False, cwd=cwd
        )

    return run
