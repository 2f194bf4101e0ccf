"""The evaluate/compare/optimise commands and a Dask sweep on tiny generated nets."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from signals.evaluate import sweep
from signals.executor import DaskExecutor, LocalExecutor
from signals.scenario import load_sumocfg
from signals.sumo_io import sumo_binary


def test_evaluate_writes_tripinfo_per_seed_and_kpis(tiny_grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "trips"
    result = CliRunner().invoke(
        main,
        [
            "signals",
            "evaluate",
            "--sumocfg",
            str(tiny_grid),
            "--controller",
            "knoten",
            "--seeds",
            "1,2",
            "--tripinfo-dir",
            str(out),
            "--end",
            "120",
            "--workers",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    stem = tiny_grid.name.removesuffix(".sumocfg")
    for seed in (1, 2):
        trips = out / f"{stem}.knoten.s{seed}.tripinfo.xml"
        assert trips.is_file() and "<tripinfo " in trips.read_text()
    kpis = json.loads((out / f"{stem}.knoten.kpis.json").read_text())
    assert kpis["seeds"] == [1, 2] and kpis["end_s"] == 120.0
    agg = kpis["aggregate"]
    # every vehicle of the route file due by the end counts, also those still waiting to get in
    departs = [
        float(v.get("depart", "0")) for v in ET.parse(tiny_grid.parent / "routes.rou.xml").iter("vehicle")
    ]
    due = sum(1 for d in departs if d <= 120.0)
    assert 0 < due < len(departs)
    for run in kpis["runs"]:
        trips = list(ET.parse(out / f"{stem}.knoten.s{run['seed']}.tripinfo.xml").iter("tripinfo"))
        arrived = [t for t in trips if float(t.get("arrival", "-1")) >= 0]
        assert run["scheduled"] == len(trips) == due
        assert run["arrived"] == len(arrived) and 0 < len(arrived) < due
        delays = [float(t.get("timeLoss", "0")) + float(t.get("departDelay", "0")) for t in trips]
        assert run["delay_s"] == pytest.approx(sum(delays) / len(delays))
    assert agg["co2_kg"]["mean"] > 0 and agg["teleports"]["max"] == 0
    assert kpis["decision_ms_per_intersection"] > 0  # measured; its size is a benchmark figure
    assert len(kpis["runs"][0]["queue_series"]["time_s"]) > 5


def test_compare_prints_table_and_saves_plots(tiny_grid: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenario"
    folder.mkdir()
    (folder / "scenario.yaml").write_text(
        f"sumocfg: {tiny_grid}\nbegin: 0\nend: 120\nseeds: [1]\ncontrollers: [static, webster]\n"
        "kpis: [delay_s, arrived, queue_veh]\n"
    )
    result = CliRunner().invoke(main, ["signals", "compare", "--scenario", str(folder)])
    assert result.exit_code == 0, result.output
    assert "webster" in result.output and "delay_s" in result.output
    results = folder / "results"
    for name in ("delay.png", "queue.png", "compare.txt"):
        assert (results / f"{tiny_grid.stem}.{name}").stat().st_size > 100


def test_optimise_writes_a_tllogic_file_that_sumo_loads(tiny_grid: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.tll.xml"
    result = CliRunner().invoke(
        main,
        [
            "signals",
            "optimise",
            "--scenario",
            str(tiny_grid),
            "--out",
            str(plan),
            "--seeds",
            "1",
            "--end",
            "120",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "optimised" in result.output
    assert plan.read_text().count("<tlLogic") == 4
    net = tiny_grid.parent / "net.net.xml"
    proc = subprocess.run(
        [sumo_binary(), "-n", str(net), "-a", str(plan), "--end", "5", "--no-step-log"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_sweep_through_a_dask_local_cluster(tiny_grid: Path, tiny_grid_b: Path, tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    scenarios = [load_sumocfg(tiny_grid, 0, 120), load_sumocfg(tiny_grid_b, 0, 120)]
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        done: list[int] = []
        summaries = sweep(
            scenarios,
            ["static", "max-pressure"],
            [1, 2],
            tmp_path / "sweep",
            DaskExecutor(client=client),
            progress=lambda d, t: done.append(d),
        )
    assert len(summaries) == 4
    assert done[-1] == 8
    assert {(s["scenario"], s["controller"]) for s in summaries} == {
        (sc.name, c) for sc in scenarios for c in ("static", "max-pressure")
    }
    for s in summaries:
        assert s["seeds"] == [1, 2]
        assert Path(s["kpis_file"]).is_file()
    # the same runs on this machine give the same KPIs: the cluster ran the very simulations, and
    # each summary holds its own scenario's and controller's runs
    local = sweep(scenarios[:1], ["static", "max-pressure"], [1, 2], tmp_path / "local", LocalExecutor(2))
    timing = {"decision_ms", "tripinfo", "wall_s"}
    for here in local:
        remote = next(
            s for s in summaries if (s["scenario"], s["controller"]) == (here["scenario"], here["controller"])
        )
        for a, b in zip(remote["runs"], here["runs"], strict=True):
            assert a["arrived"] > 0
            assert {k: v for k, v in a.items() if k not in timing} == {
                k: v for k, v in b.items() if k not in timing
            }
        drop = {"decision_ms", "decision_ms_per_intersection"}
        assert {k: v for k, v in remote["aggregate"].items() if k not in drop} == {
            k: v for k, v in here["aggregate"].items() if k not in drop
        }
    static, pressure = (next(s for s in local if s["controller"] == c) for c in ("static", "max-pressure"))
    assert static["aggregate"]["delay_s"] != pressure["aggregate"]["delay_s"]  # the runs tell them apart
