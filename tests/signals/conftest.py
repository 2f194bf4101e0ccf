"""Tiny SUMO scenarios generated with netgenerate/randomTrips for the signals tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from signals.sumo_io import sumo_home


def _bin(name: str) -> str:
    return str(sumo_home() / "bin" / name)


def make_grid_scenario(
    folder: Path,
    *,
    lights: bool = True,
    grid: int = 2,
    period_s: float = 2.0,
    end_s: int = 300,
    seed: int = 7,
) -> Path:
    """A ``grid`` × ``grid`` street grid (signalised or not) with random trips; returns the sumocfg."""
    folder.mkdir(parents=True, exist_ok=True)
    net = folder / "net.net.xml"
    args = [
        _bin("netgenerate"),
        "--grid",
        "--grid.number",
        str(grid),
        "--grid.length",
        "150",
        "--grid.attach-length",
        "100",
        "--default.lanenumber",
        "1",
        "-o",
        str(net),
        "--seed",
        str(seed),
    ]
    if lights:
        args += ["--default-junction-type", "traffic_light", "--tls.default-type", "static"]
    subprocess.run(args, check=True, capture_output=True)
    routes = folder / "routes.rou.xml"
    subprocess.run(
        [
            sys.executable,
            str(sumo_home() / "tools" / "randomTrips.py"),
            "-n",
            str(net),
            "-r",
            str(routes),
            "-o",
            str(folder / "trips.xml"),
            "-e",
            str(end_s),
            "-p",
            str(period_s),
            "--fringe-factor",
            "100",
            "--seed",
            str(seed),
            "--validate",
        ],
        check=True,
        capture_output=True,
    )
    cfg = folder / f"{folder.name}.sumocfg"
    cfg.write_text(
        "<configuration>\n  <input>\n"
        f'    <net-file value="{net.name}"/>\n    <route-files value="{routes.name}"/>\n'
        f'  </input>\n  <time>\n    <begin value="0"/>\n    <end value="{end_s}"/>\n  </time>\n'
        "</configuration>\n",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture(scope="session")
def tiny_grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2×2 signalised grid, 300 s of random trips."""
    return make_grid_scenario(tmp_path_factory.mktemp("sig") / "tinygrid")


@pytest.fixture(scope="session")
def tiny_grid_b(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A second small scenario (3×1 rows of signals, other seed) for sweeps."""
    return make_grid_scenario(tmp_path_factory.mktemp("sig") / "tinygridb", grid=3, seed=11, end_s=240)
