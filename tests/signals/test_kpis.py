"""KPIs from tripinfo: undeparted and unfinished vehicles count, CIs over seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from signals.kpis import aggregate_runs, confidence_interval, tripinfo_kpis

TRIPINFO = """<tripinfos>
  <tripinfo id="a" depart="10.00" departDelay="2.00" arrival="70.00" duration="60.00" waitingTime="5.00"
      waitingCount="1" timeLoss="8.00" vaporized="">
    <emissions CO2_abs="2000000.00" NOx_abs="1000.00" PMx_abs="50.00"/>
  </tripinfo>
  <tripinfo id="b" depart="20.00" departDelay="0.00" arrival="-1.00" duration="80.00" waitingTime="30.00"
      waitingCount="2" timeLoss="40.00" vaporized="end"/>
  <tripinfo id="c" depart="-1" departDelay="50.00" arrival="-1.00" duration="0.00" waitingTime="0.00"
      waitingCount="0" timeLoss="0.00" vaporized="end"/>
</tripinfos>
"""


def test_delay_counts_unfinished_and_undeparted_vehicles(tmp_path: Path) -> None:
    path = tmp_path / "t.xml"
    path.write_text(TRIPINFO)
    k = tripinfo_kpis(path, window_s=100.0)
    assert k["scheduled"] == 3 and k["departed"] == 2 and k["arrived"] == 1
    assert k["delay_s"] == pytest.approx((10.0 + 40.0 + 50.0) / 3)
    assert k["travel_time_s"] == pytest.approx(60.0)
    assert k["stops"] == pytest.approx(1.5)
    assert k["throughput_veh_h"] == pytest.approx(36.0)
    assert k["co2_kg"] == pytest.approx(2.0)
    assert k["nox_g"] == pytest.approx(1.0)


def test_confidence_interval_uses_student_t() -> None:
    mean, half = confidence_interval([10.0, 12.0, 14.0])
    assert mean == pytest.approx(12.0)
    assert half == pytest.approx(4.303 * 2.0 / 3**0.5, rel=1e-3)
    agg = aggregate_runs([{"delay_s": 1.0}, {"delay_s": 3.0}])
    assert agg["delay_s"]["mean"] == pytest.approx(2.0) and agg["delay_s"]["n"] == 2
