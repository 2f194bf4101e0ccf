"""Footpaths and the kernels that use them.

Crow-fly footpaths find exactly the stop pairs within the radius (scipy's k-d tree as the oracle);
the router still runs where numba cannot cache its compiled kernels.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

from mobility.footpaths import pairs_within

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "gtfs"


def _as_set(pairs: np.ndarray) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in pairs}


@pytest.mark.parametrize(
    ("n", "extent_m", "radius_m"),
    [(2, 100.0, 400.0), (500, 20_000.0, 400.0), (3_000, 3_000.0, 150.0), (400, 50_000.0, 5_000.0)],
)
def test_pairs_within_the_radius_match_a_kd_tree(n: int, extent_m: float, radius_m: float) -> None:
    xy = np.random.default_rng(n).uniform(-extent_m, extent_m, (n, 2))
    expected = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    found = pairs_within(xy, radius_m, block=97)  # a small block: candidates come in many pieces
    assert len(found) == len(expected)
    assert _as_set(found) == _as_set(expected)
    assert (found[:, 0] < found[:, 1]).all()


@pytest.mark.parametrize("radius_m", [1.0, 2.0, float(np.sqrt(2.0)), 5.0])
def test_pairs_exactly_at_the_radius_are_kept(radius_m: float) -> None:
    xy = np.array([(x, y) for x in range(25) for y in range(25)], dtype=np.float64)
    expected = _as_set(cKDTree(xy).query_pairs(radius_m, output_type="ndarray"))
    assert _as_set(pairs_within(xy, radius_m)) == expected


def test_no_pairs_without_a_radius_or_a_second_point() -> None:
    assert pairs_within(np.zeros((1, 2)), 400.0).shape == (0, 2)
    assert pairs_within(np.zeros((3, 2)), 0.0).shape == (0, 2)


def test_the_router_runs_where_numba_can_write_no_cache(tmp_path: Path) -> None:
    """A read-only install without a home folder: the kernels compile in memory instead of failing."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    env = {
        **os.environ,
        "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",  # numba may write only here...
        "NUMBA_CACHE_DIR": str(not_a_folder / "cache"),  # ...and here it cannot
    }
    script = (
        "import datetime as dt, sys\n"
        "from mobility.footpaths import gtfs_footpaths\n"
        "from mobility.raptor import Router\n"
        "from mobility.timetable import build_timetable\n"
        "tt = build_timetable([sys.argv[1]], dt.date(2024, 3, 4))\n"
        "groups = [tt.stop_group(tt.stop_index(s)) for s in ('A', 'C')]\n"
        "print(len(Router(tt, gtfs_footpaths(tt)).pareto(groups[0], groups[1], 8 * 3600)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(FIXTURES / "riding")],
        env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 1
