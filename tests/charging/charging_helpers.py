"""Helpers of the charging tests: random session sets and an independent LP (scipy/HiGHS)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from scipy.optimize import linprog

from charging.model import Session

CET = timezone(timedelta(hours=1))


def random_sessions(seed: int, n: int, n_evse: int | None = None) -> list[Session]:
    """``n`` sessions on one day, arrivals and departures at arbitrary minutes (not slot-aligned)."""
    rng = random.Random(seed)
    day = datetime(2026, 11, 27, tzinfo=CET)
    out = []
    for i in range(n):
        arrival = day + timedelta(minutes=rng.randint(6 * 60, 14 * 60))
        departure = arrival + timedelta(minutes=rng.randint(45, 9 * 60))
        out.append(
            Session(
                f"s{i}",
                f"E{i if n_evse is None else i % n_evse}",
                arrival,
                departure,
                round(rng.uniform(2, 45), 3),
                rng.choice([3.7, 7.4, 11.0, 22.0]),
            )
        )
    if n_evse is not None:  # keep sessions on one EVSE apart
        by: dict[str, datetime] = {}
        fixed = []
        for s in sorted(out, key=lambda s: s.arrival):
            start = max(s.arrival, by.get(s.evse_id, s.arrival))
            end = start + (s.departure - s.arrival)
            by[s.evse_id] = end
            fixed.append(Session(s.session_id, s.evse_id, start, end, s.energy_kwh, s.max_kw))
        out = fixed
    return out


@dataclass
class Reference:
    """Optimal values of the independent LP."""

    energy_kwh: float
    peak_kw: float
    cost_eur: float


def reference_lp(
    sessions: list[Session], limit_kw: float, slot_minutes: int, prices: dict[datetime, float] | None = None
) -> Reference:
    """Solve max energy, then min peak, then (separately) min cost with scipy's HiGHS."""
    step = timedelta(minutes=slot_minutes)
    first = min(s.arrival for s in sessions)
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    start = midnight + ((first - midnight) // step) * step
    n_slots = -(-(max(s.departure for s in sessions) - start) // step)
    slots = [start + k * step for k in range(n_slots)]
    n = len(sessions)
    dt = slot_minutes / 60
    ub = np.zeros((n, n_slots))
    for i, s in enumerate(sessions):
        for k, t in enumerate(slots):
            if s.arrival <= t and t + step <= s.departure:
                ub[i, k] = s.max_kw
    nv = n * n_slots
    a_energy = np.zeros((n, nv))
    for i in range(n):
        a_energy[i, i * n_slots : (i + 1) * n_slots] = dt
    a_site = np.zeros((n_slots, nv))
    for k in range(n_slots):
        a_site[k, k::n_slots] = 1.0
    e = np.array([s.energy_kwh for s in sessions])
    bounds = [(0.0, float(u)) for u in ub.ravel()]
    res = linprog(
        -np.full(nv, dt),
        A_ub=np.vstack([a_energy, a_site]),
        b_ub=np.concatenate([e, np.full(n_slots, limit_kw)]),
        bounds=bounds,
        method="highs",
    )
    assert res.status == 0
    energy = -res.fun
    # min peak with energy fixed
    a_total = np.full((1, nv), -dt)
    c = np.zeros(nv + 1)
    c[-1] = 1.0
    a_peak = np.hstack([a_site, -np.ones((n_slots, 1))])
    a = np.vstack([np.hstack([a_energy, np.zeros((n, 1))]), a_peak, np.hstack([a_total, [[0.0]]])])
    b = np.concatenate([e, np.zeros(n_slots), [-(energy * (1 - 1e-9))]])
    res = linprog(c, A_ub=a, b_ub=b, bounds=[*bounds, (0, limit_kw)], method="highs")
    assert res.status == 0
    peak = res.fun
    cost = 0.0
    if prices:
        keys = sorted(prices)
        price = np.array([prices[max(k for k in keys if k <= t)] for t in slots])
        c = np.tile(price * dt, n)
        a = np.vstack([a_energy, a_site, a_total])
        b = np.concatenate([e, np.full(n_slots, limit_kw), [-(energy * (1 - 1e-9))]])
        res = linprog(c, A_ub=a, b_ub=b, bounds=bounds, method="highs")
        assert res.status == 0
        cost = res.fun
    return Reference(energy, peak, cost)
