"""Offline plans against an independent LP (scipy/HiGHS) on held-back random session sets."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from charging.csvio import plan_rows
from charging.model import StepSeries
from charging.plan import plan
from tests.charging.charging_helpers import random_sessions, reference_lp


def _rows_check(result, sessions, limit_kw, slot_minutes):  # type: ignore[no-untyped-def]
    """Feasibility of the written plan, recomputed from the rows themselves."""
    rows = plan_rows(result.schedule, result.grid, result.session_ids)
    by_id = {s.session_id: s for s in sessions}
    step = timedelta(minutes=slot_minutes)
    load: dict[str, float] = {}
    energy: dict[str, float] = {}
    for sid, start, power in rows:
        s = by_id[sid]
        from datetime import datetime

        t = datetime.fromisoformat(start)
        assert (t.hour * 60 + t.minute) % slot_minutes == 0 and t.second == 0
        if power > 0:
            assert s.arrival <= t and t + step <= s.departure, (sid, start)
        assert 0 <= power <= s.max_kw + 1e-9
        load[start] = load.get(start, 0.0) + power
        energy[sid] = energy.get(sid, 0.0) + power * slot_minutes / 60
    assert max(load.values()) <= limit_kw + 1e-9
    for sid, kwh in energy.items():
        assert kwh <= by_id[sid].energy_kwh + 1e-9
    return sum(energy.values()), max(load.values())


@pytest.mark.parametrize("seed", [11, 12, 13])
@pytest.mark.parametrize("slot_minutes", [15, 30])
def test_min_peak_plan_is_optimal(seed: int, slot_minutes: int) -> None:
    sessions = random_sessions(seed, 14)
    limit = 60.0  # every request fits: the peak is set by the min-peak stage, not by the limit
    ref = reference_lp(sessions, limit, slot_minutes)
    deliverable = reference_lp(sessions, 1e6, slot_minutes).energy_kwh
    assert ref.energy_kwh == pytest.approx(deliverable, rel=1e-9)
    assert ref.peak_kw < limit - 10.0
    result = plan(sessions, limit, slot_minutes, "min-peak")
    energy, peak = _rows_check(result, sessions, limit, slot_minutes)
    assert energy == pytest.approx(ref.energy_kwh, rel=1e-6)
    assert peak == pytest.approx(ref.peak_kw, rel=1e-6)


@pytest.mark.parametrize("seed", [21, 22])
def test_max_energy_plan_delivers_the_lp_optimum(seed: int) -> None:
    sessions = random_sessions(seed, 12)
    ref = reference_lp(sessions, 15.0, 15)
    result = plan(sessions, 15.0, 15, "max-energy")
    energy, _ = _rows_check(result, sessions, 15.0, 15)
    assert energy >= 0.999 * ref.energy_kwh
    assert energy <= ref.energy_kwh + 1e-6


@pytest.mark.parametrize("seed", [31, 32])
def test_min_cost_plan_is_optimal(seed: int) -> None:
    sessions = random_sessions(seed, 12)
    day = sessions[0].arrival.replace(hour=0, minute=0, second=0, microsecond=0)
    rng = np.random.default_rng(seed)
    prices = {day + timedelta(hours=h): float(rng.uniform(0.1, 0.5)) for h in range(48)}
    ref = reference_lp(sessions, 20.0, 15, prices)
    series = StepSeries(tuple(prices), tuple(prices.values()))
    result = plan(sessions, 20.0, 15, "min-cost", prices=series)
    energy, _ = _rows_check(result, sessions, 20.0, 15)
    assert energy >= 0.999 * ref.energy_kwh
    assert result.schedule.energy_cost_eur() <= 1.01 * ref.cost_eur + 1e-9


def test_cost_first_differs_from_peak_first() -> None:
    sessions = random_sessions(41, 10)
    day = sessions[0].arrival.replace(hour=0, minute=0, second=0, microsecond=0)
    prices = {day: 0.4, day + timedelta(hours=11): 0.1, day + timedelta(hours=12): 0.4}
    series = StepSeries(tuple(prices), tuple(prices.values()))
    by_cost = plan(sessions, 40.0, 15, "min-cost", prices=series).schedule
    by_peak = plan(sessions, 40.0, 15, "min-peak", prices=series).schedule
    assert by_cost.energy_cost_eur() <= by_peak.energy_cost_eur() + 1e-9
    assert by_peak.peak_kw() <= by_cost.peak_kw() + 1e-9
    assert by_cost.peak_kw() > by_peak.peak_kw() + 1e-3  # cheap hour attracts load
