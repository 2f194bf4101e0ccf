"""Shared fixtures: the demo city, built once per test session (once per xdist worker)."""

from __future__ import annotations

from pathlib import Path

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
