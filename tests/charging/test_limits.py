"""Physical ranges, problem sizes and the time budget of a charging plan (core and command line)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from charging.errors import BudgetExceededError, LimitExceededError
from charging.limits import PhysicalRanges, ProblemBounds, check_ranges, check_size, problem_size
from charging.model import LimitWindow, Session, SiteEvse, StepSeries
from charging.plan import plan
from tests.conftest import RunCli

T0 = datetime.fromisoformat("2026-11-27T08:00:00+01:00")


def _session(sid: str = "a", hours: float = 2.0, **changes: object) -> Session:
    values: dict[str, object] = {
        "session_id": sid,
        "evse_id": f"E-{sid}",
        "arrival": T0,
        "departure": T0 + timedelta(hours=hours),
        "energy_kwh": 10.0,
        "max_kw": 11.0,
    }
    values.update(changes)
    return Session(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field", "constraint"),
    [
        ({"sessions": [_session(energy_kwh=1e308)]}, "sessions[0].energy_kwh", "maximum"),
        ({"sessions": [_session(max_kw=1e308)]}, "sessions[0].max_kw", "maximum"),
        ({"sessions": [_session(max_kw=float("nan"))]}, "sessions[0].max_kw", "finite"),
        ({"site_limit_kw": 1e308}, "site_limit_kw", "maximum"),
        ({"site_limit_kw": float("inf")}, "site_limit_kw", "finite"),
        ({"site_limit_kw": 0.0}, "site_limit_kw", "exclusiveMinimum"),
        ({"evses": [SiteEvse("E-a", 5000.0)]}, "evses[0].max_kw", "maximum"),
        (
            {"limit_windows": [LimitWindow(T0, T0 + timedelta(hours=1), 1e9)]},
            "limit_windows[0].limit_kw",
            "maximum",
        ),
        ({"prices": StepSeries((T0,), (-1e6,))}, "prices[0].price_eur_per_kwh", "minimum"),
        ({"pv_kw": StepSeries((T0,), (float("inf"),))}, "pv[0].pv_kw", "finite"),
        (
            {"sessions": [_session(arrival=datetime.fromisoformat("1900-01-01T00:00:00+00:00"))]},
            "sessions[0].arrival",
            "range",
        ),
    ],
)
def test_implausible_numbers_are_named(kwargs: dict[str, object], field: str, constraint: str) -> None:
    args: dict[str, object] = {"sessions": [_session()], "site_limit_kw": 50.0}
    args.update(kwargs)
    sessions = args.pop("sessions")
    site_limit_kw = args.pop("site_limit_kw")
    with pytest.raises(LimitExceededError) as info:
        check_ranges(sessions, site_limit_kw, **args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert info.value.constraint == constraint


def test_plausible_numbers_pass_and_ranges_are_configurable() -> None:
    check_ranges([_session(max_kw=1000.0, energy_kwh=1000.0)], 100_000.0)
    with pytest.raises(LimitExceededError, match="plausible maximum of 50"):
        check_ranges([_session(max_kw=51.0)], 100.0, ranges=PhysicalRanges(point_max_kw=50.0))


def test_a_plan_at_1e308_is_refused_not_silently_empty() -> None:
    # before the ranges the flow units overflowed and the plan delivered 0 kWh with a 200
    with pytest.raises(LimitExceededError, match="energy_kwh"):
        plan([_session(energy_kwh=1e308)], 50.0, 15, "max-energy")
    with pytest.raises(LimitExceededError, match="site_limit_kw"):
        plan([_session()], 1e308, 15, "max-energy")


def test_problem_size_is_measured_without_building_the_problem() -> None:
    century = _session(arrival=datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
    century = Session(
        "a", "E1", century.arrival, datetime.fromisoformat("2100-01-01T00:00:00+00:00"), 10.0, 11.0
    )
    start = time.perf_counter()
    size = problem_size([century], 1)
    assert time.perf_counter() - start < 0.1
    assert size.slots == 36525 * 1440 == size.session_slots
    with pytest.raises(LimitExceededError) as info:
        check_size(size, ProblemBounds(max_horizon_s=31 * 86400))
    assert (info.value.field, info.value.limit) == ("horizon_s", 31 * 86400)


def test_problem_size_counts_the_slots_each_session_may_use() -> None:
    # 08:00-10:00 and 08:10-09:00 in 15-min slots: 8 slots and the 3 slots wholly inside 08:10-09:00
    sessions = [_session("a"), _session("b", arrival=T0 + timedelta(minutes=10), hours=5 / 6)]
    sessions[1] = Session("b", "E2", T0 + timedelta(minutes=10), T0 + timedelta(hours=1), 10.0, 11.0)
    size = problem_size(sessions, 15)
    assert (size.sessions, size.evses, size.slots, size.session_slots) == (2, 2, 8, 11)
    result = plan(sessions, 50.0, 15, "max-energy")
    assert result.grid.n_slots == size.slots
    assert result.schedule.power_kw.size == size.session_slots
    with pytest.raises(LimitExceededError, match="session-slots"):
        check_size(size, ProblemBounds(max_session_slots=10))


def test_a_solve_past_its_budget_stops() -> None:
    # many independent days: the budget is checked between them and inside the flow bisections
    rng = np.random.default_rng(3)
    sessions = []
    for day in range(60):
        for k in range(40):
            a = T0 + timedelta(days=day, minutes=int(rng.integers(0, 600)))
            sessions.append(Session(f"{day}-{k}", f"E{k}", a, a + timedelta(hours=4), 40.0, 11.0))
    with pytest.raises(BudgetExceededError):
        plan(sessions, 60.0, 5, "min-peak", time_limit_s=0.05)


def test_cli_prints_the_size_and_refuses_1e308(tmp_path: Path, run_cli: RunCli) -> None:
    sessions = tmp_path / "S.csv"
    sessions.write_text(
        "session_id,evse_id,arrival,departure,energy_kwh,max_kw\n"
        "a,E1,2026-11-27T08:00:00+01:00,2026-11-27T10:00:00+01:00,1e308,11\n",
        encoding="utf-8",
    )
    args = [
        "charging",
        "plan",
        "--sessions",
        str(sessions),
        "--slot-minutes",
        "15",
        "--objective",
        "min-peak",
    ]
    result = run_cli(*args, "--site-limit-kw", "50", "--out", str(tmp_path / "P.csv"))
    assert result.returncode == 1
    assert "Solving 1 session on 1 EVSE, 8 slots of 15 min" in result.stdout
    assert result.stderr.splitlines() == [
        "knoten: error: session a: energy_kwh: 1e+308 is above the plausible maximum of 1000"
    ]
    assert not (tmp_path / "P.csv").exists()


def test_cli_refuses_a_century_of_minutes_at_once(tmp_path: Path, run_cli: RunCli) -> None:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if memory > 36525 * 1440 * 800:
        pytest.skip("this machine could hold a century of one-minute slots")
    sessions = tmp_path / "S.csv"
    sessions.write_text(
        "session_id,evse_id,arrival,departure,energy_kwh,max_kw\n"
        "a,E1,2000-01-01T00:00:00+00:00,2100-01-01T00:00:00+00:00,10,11\n",
        encoding="utf-8",
    )
    args = ["charging", "plan", "--sessions", str(sessions), "--slot-minutes", "1", "--objective", "min-peak"]
    start = time.perf_counter()
    result = run_cli(*args, "--site-limit-kw", "50", "--out", str(tmp_path / "P.csv"), timeout_s=60)
    assert time.perf_counter() - start < 30
    assert result.returncode == 1
    assert "52596000 slots of 1 min" in result.stdout
    assert len(result.stderr.splitlines()) == 1
    assert "problem too large for this machine" in result.stderr
