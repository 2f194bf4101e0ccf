"""Caltech ACN sessions (acnportal EventQueue JSON) read without acnportal."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from charging.acn import event_queue_sessions, load_acn_csv, load_event_queue
from charging.model import Site, build_problem
from charging.optimize import optimize
from charging.simulate import simulate

MARCH = "caltech_20190301T000000_20190401T000000_5m_208V_6.6kW.json.gz"


def test_event_queue_reads_the_march_2019_sessions(shared_data: Path) -> None:
    evs = load_event_queue(shared_data / "charging" / "acn" / MARCH)
    assert len(evs) == 954
    assert {e.max_power_kw for e in evs} == {6.6}
    assert all(e.departure > e.arrival for e in evs)
    start = datetime(2019, 3, 1, tzinfo=ZoneInfo("America/Los_Angeles"))
    sessions = event_queue_sessions(evs, start, 5)
    problem, grid, _ids = build_problem(Site(30.0), sessions, 5)
    # the EventQueue's period indices are the slot indices of the grid (which starts at the first arrival)
    shift = evs[0].arrival
    assert grid.start == start + timedelta(minutes=5 * shift)
    assert np.array_equal(problem.first + shift, [e.arrival for e in evs])
    assert np.array_equal(problem.last + shift, [e.departure for e in evs])


def test_one_week_offline_beats_llf_beats_edf_at_a_tight_limit(shared_data: Path) -> None:
    evs = load_event_queue(shared_data / "charging" / "acn" / MARCH)
    start = datetime(2019, 3, 1, tzinfo=ZoneInfo("America/Los_Angeles"))
    week = [e for e in evs if e.arrival < 7 * 288]
    problem, _grid, _ids = build_problem(Site(20.0), event_queue_sessions(week, start, 5), 5)
    offline = optimize(problem, "max-energy").delivered_kwh().sum()
    _s, llf = simulate(problem, "llf")
    _s, edf = simulate(problem, "edf")
    assert offline >= llf.energy_delivered_kwh - 1e-6 >= edf.energy_delivered_kwh - 2e-6
    assert llf.limit_violations == edf.limit_violations == 0


def test_acn_csv_export_reads(shared_data: Path) -> None:
    sessions = load_acn_csv(shared_data / "charging" / "acn" / "jpl_2019-05-01_2019-08-31.csv.gz")
    assert len(sessions) > 5000
    assert all(s.arrival.tzinfo is not None and s.energy_kwh >= 0 for s in sessions)
