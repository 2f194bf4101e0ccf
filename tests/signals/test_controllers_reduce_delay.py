"""The adaptive controllers reduce delay against the net's own fixed-time program on a real net.

RESCO's cologne1 (one real Cologne intersection, TAPASCologne demand) for the first 15 minutes of
its benchmark window, RESCO-style evaluation (no teleports, delay over all scheduled vehicles). On
this window static control gives about 47.6 s of delay, max-pressure about 30.9 s and Knoten about
33.1 s (seed 1); the test asks for a clear margin only, so that tuning can move the figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from signals.evaluate import compare
from signals.executor import LocalExecutor
from signals.scenario import load_sumocfg

BEGIN_S = 25200  # RESCO's cologne window starts at 07:00
WINDOW_S = 900


@pytest.fixture(scope="module")
def cologne1_runs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    cfg = shared_data / "sumo" / "resco" / "cologne1" / "cologne1.sumocfg"
    scenario = load_sumocfg(cfg, BEGIN_S, BEGIN_S + WINDOW_S)
    out = tmp_path_factory.mktemp("cologne1")
    summaries = compare(scenario, out, ["static", "max-pressure", "knoten"], [1], LocalExecutor(2))
    return {s["controller"]: s["aggregate"] for s in summaries}


@pytest.mark.parametrize("controller", ["max-pressure", "knoten"])
def test_adaptive_control_cuts_delay_against_the_fixed_program(
    controller: str, cologne1_runs: dict[str, dict]
) -> None:
    static, adaptive = cologne1_runs["static"], cologne1_runs[controller]
    assert static["scheduled"]["mean"] == adaptive["scheduled"]["mean"] > 400  # same demand
    assert adaptive["teleports"]["max"] == 0
    assert adaptive["delay_s"]["mean"] <= 0.85 * static["delay_s"]["mean"]
    assert adaptive["arrived"]["mean"] >= 0.99 * static["arrived"]["mean"]
