"""Scenario loading and the one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from signals.errors import ScenarioError
from signals.scenario import load_scenario, load_sumocfg

from .conftest import make_grid_scenario


def test_missing_sumocfg_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "signals",
            "evaluate",
            "--sumocfg",
            str(tmp_path / "nope.sumocfg"),
            "--controller",
            "static",
            "--seeds",
            "1",
            "--tripinfo-dir",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1
    assert "sumocfg not found" in result.output


def test_missing_route_file_names_the_file(tiny_grid: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "broken.sumocfg"
    cfg.write_text(
        tiny_grid.read_text()
        .replace('value="net.net.xml"', f'value="{tiny_grid.parent / "net.net.xml"}"')
        .replace('value="routes.rou.xml"', 'value="missing.rou.xml"')
    )
    with pytest.raises(ScenarioError, match=r"route file not found: .*missing\.rou\.xml"):
        load_sumocfg(cfg)


def test_net_without_traffic_lights_is_rejected(tmp_path: Path) -> None:
    cfg = make_grid_scenario(tmp_path / "nolights", lights=False, end_s=60)
    result = CliRunner().invoke(
        main,
        [
            "signals",
            "evaluate",
            "--sumocfg",
            str(cfg),
            "--controller",
            "static",
            "--seeds",
            "1",
            "--tripinfo-dir",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1
    assert "has no traffic lights" in result.output


def test_begin_not_before_end_is_rejected(tiny_grid: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "signals",
            "evaluate",
            "--sumocfg",
            str(tiny_grid),
            "--controller",
            "static",
            "--seeds",
            "1",
            "--tripinfo-dir",
            str(tmp_path / "out"),
            "--begin",
            "300",
            "--end",
            "300",
        ],
    )
    assert result.exit_code == 1
    assert "begin (300 s) must be before end (300 s)" in result.output


def test_unknown_controller_lists_the_known_ones(tiny_grid: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "signals",
            "evaluate",
            "--sumocfg",
            str(tiny_grid),
            "--controller",
            "magic",
            "--seeds",
            "1",
            "--tripinfo-dir",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 1
    assert "unknown controller 'magic'" in result.output and "max-pressure" in result.output


def test_scenario_yaml_with_net_and_routes(tiny_grid: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sc"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(
        f"name: tiny\nnet: {tiny_grid.parent / 'net.net.xml'}\n"
        f"routes: [{tiny_grid.parent / 'routes.rou.xml'}]\n"
        "begin: 0\nend: 120\nseeds: [3, 4]\ncontrollers: [static, knoten]\n"
    )
    scenario = load_scenario(folder)
    assert scenario.name == "tiny"
    assert scenario.seeds == (3, 4)
    assert scenario.controllers == ("static", "knoten")
    assert (scenario.begin_s, scenario.end_s) == (0.0, 120.0)
    (folder / "scenario.yaml").write_text(f"net: {tiny_grid.parent / 'net.net.xml'}\nbegin: 50\nend: 10\n")
    with pytest.raises(ScenarioError, match=r"scenario\.yaml: begin"):
        load_scenario(folder)


def test_stress_version_scales_the_demand_in_sumo(tiny_grid: Path, tmp_path: Path) -> None:
    import libsumo

    from signals.sumo_io import base_options

    base = load_sumocfg(tiny_grid)
    stress = base.scaled(1.5)
    assert stress.name == f"{base.name}x1.5" and base.scaled(1.0) == base
    with pytest.raises(ScenarioError, match="demand scale must be positive"):
        base.scaled(0.0)
    loaded = []
    for sc in (base, stress):
        libsumo.start(["sumo", *base_options(sc, tmp_path, [], end_s=100)])
        try:
            n = 0
            for _ in range(100):
                libsumo.simulationStep()
                n += libsumo.simulation.getLoadedNumber()
            loaded.append(n)
        finally:
            libsumo.close()
    assert loaded[1] >= 1.4 * loaded[0] > 0
