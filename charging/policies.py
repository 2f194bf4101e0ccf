"""Online charging policies (no foresight) and the registry they are chosen from by name.

A policy sees, at slot ``t``, only the sessions plugged in (with their declared departure and the
energy still wanted) and returns their power for that slot. ``uncontrolled`` ignores every limit
(the baseline); ``edf``, ``llf`` and ``round-robin`` allocate greedily within the network's
headroom; ``mpc`` re-optimises over the sessions present whenever one arrives or leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from charging.errors import InvalidInputError
from charging.optimize import optimize
from charging.problem import FloatArray, IntArray, Problem

_EPS = 1e-9


@dataclass
class OnlineView:
    """What a policy may know at slot ``t``."""

    problem: Problem
    t: int
    active: IntArray
    remaining_kwh: FloatArray
    departure: IntArray
    peak_so_far_kw: float


class NetworkHeadroom:
    """Fast feasibility and headroom of EVSE powers against site, linear and phasor limits."""

    def __init__(self, problem: Problem) -> None:
        net = problem.network
        n = net.n_evse
        self.problem = problem
        self.lin = np.zeros((len(net.linear), n))
        self.lin_limit = np.array([lim.limit for lim in net.linear], dtype=float)
        for k, lim in enumerate(net.linear):
            np.add.at(self.lin[k], lim.evse_index, lim.coeff)
        self.ph = np.zeros((len(net.phasor), n), dtype=complex)
        self.ph_limit = np.array([lim.limit for lim in net.phasor], dtype=float)
        for k, plim in enumerate(net.phasor):
            np.add.at(self.ph[k], plim.evse_index, plim.coeff)

    def cap(self, t: int) -> float:
        """Site cap on the charging load in slot ``t`` (limit plus PV)."""
        return float(self.problem.site_limit_kw[t] + self.problem.pv_kw[t])

    def headroom(self, t: int, evse_power: FloatArray, evse: int) -> float:
        """How much more power EVSE ``evse`` may draw given ``evse_power`` (kW)."""
        room = self.cap(t) - float(evse_power.sum())
        if self.lin.shape[0]:
            c = self.lin[:, evse]
            value = self.lin @ evse_power
            pos = c > 0
            if pos.any():
                room = min(room, float(((self.lin_limit[pos] - value[pos]) / c[pos]).min()))
        if self.ph.shape[0]:
            c = self.ph[:, evse]
            current = self.ph @ evse_power
            use = np.abs(c) > 0
            if use.any():
                c, cur, b = c[use], current[use], self.ph_limit[use]
                cc = np.abs(c) ** 2
                bb = (np.conj(cur) * c).real
                disc = bb**2 - cc * (np.abs(cur) ** 2 - b**2)
                roots = np.where(disc >= 0, (-bb + np.sqrt(np.maximum(disc, 0.0))) / cc, 0.0)
                room = min(room, float(roots.min()))
        return max(room * (1 - 1e-9) - 1e-9, 0.0)

    def feasible(self, t: int, evse_power: FloatArray, tol: float = 1e-7) -> bool:
        """Whether ``evse_power`` respects every limit in slot ``t``."""
        if evse_power.sum() > self.cap(t) + tol:
            return False
        if self.lin.shape[0] and (self.lin @ evse_power > self.lin_limit + tol).any():
            return False
        return not (self.ph.shape[0] and (np.abs(self.ph @ evse_power) > self.ph_limit + tol).any())

    def violations(self, t: int, evse_power: FloatArray, tol_rel: float = 1e-6) -> int:
        """Number of limits exceeded in slot ``t`` (site, linear, phasor)."""
        cap = self.cap(t)
        n = int(evse_power.sum() > cap + max(1e-6, tol_rel * abs(cap)))
        if self.lin.shape[0]:
            n += int(
                (self.lin @ evse_power > self.lin_limit + np.maximum(1e-6, tol_rel * self.lin_limit)).sum()
            )
        if self.ph.shape[0]:
            mag = np.abs(self.ph @ evse_power)
            n += int((mag > self.ph_limit + np.maximum(1e-5, 1e-7 * self.ph_limit)).sum())
        return n


Policy = Callable[[OnlineView], FloatArray]


@dataclass
class _Sorted:
    """Greedy allocation in priority order, each session as much as the headroom allows."""

    key: Callable[[OnlineView], FloatArray]
    headroom: NetworkHeadroom | None = None

    def __call__(self, view: OnlineView) -> FloatArray:
        """The power of each active session in this slot (kW), filled in priority order."""
        p = view.problem
        if self.headroom is None or self.headroom.problem is not p:
            self.headroom = NetworkHeadroom(p)
        order = np.argsort(self.key(view), kind="stable")
        evse_power = np.zeros(p.network.n_evse)
        out = np.zeros(view.active.size)
        for k in order:
            i = int(view.active[k])
            want = min(p.max_kw[i], view.remaining_kwh[i] / p.slot_h)
            give = min(want, self.headroom.headroom(view.t, evse_power, int(p.evse[i])))
            if p.min_kw[i] > 0 and give < p.min_kw[i]:
                give = 0.0
            out[k] = give
            evse_power[p.evse[i]] += give
        return out


def _edf_key(view: OnlineView) -> FloatArray:
    return view.departure[view.active].astype(float)


def _llf_key(view: OnlineView) -> FloatArray:
    p = view.problem
    i = view.active
    return (view.departure[i] - view.t) - view.remaining_kwh[i] / (p.max_kw[i] * p.slot_h)


def uncontrolled(view: OnlineView) -> FloatArray:
    """Every car at full power until it is full, regardless of limits."""
    p = view.problem
    i = view.active
    return np.minimum(p.max_kw[i], view.remaining_kwh[i] / p.slot_h)


@dataclass
class RoundRobin:
    """Equal shares: progressive filling, raising all unblocked sessions together (max-min fair)."""

    headroom: NetworkHeadroom | None = None

    def __call__(self, view: OnlineView) -> FloatArray:
        """The power of each active session in this slot (kW): equal shares within the headroom."""
        p = view.problem
        if self.headroom is None or self.headroom.problem is not p:
            self.headroom = NetworkHeadroom(p)
        h = self.headroom
        i = view.active
        want = np.minimum(p.max_kw[i], view.remaining_kwh[i] / p.slot_h)
        give = np.zeros(i.size)
        free = want > _EPS
        evse = p.evse[i]

        def power(x: FloatArray) -> FloatArray:
            out = np.zeros(p.network.n_evse)
            np.add.at(out, evse, x)
            return out

        for _ in range(i.size + 2):
            if not free.any():
                break
            lo, hi = 0.0, float((want - give)[free].max())
            for _ in range(40):
                mid = 0.5 * (lo + hi)
                trial = np.where(free, np.minimum(want, give + mid), give)
                if h.feasible(view.t, power(trial)):
                    lo = mid
                else:
                    hi = mid
                if hi - lo < 1e-6:
                    break
            give = np.where(free, np.minimum(want, give + lo), give)
            current = power(give)
            for k in np.nonzero(free)[0]:
                if give[k] >= want[k] - 1e-9 or h.headroom(view.t, current, int(evse[k])) < 1e-6:
                    free[k] = False
            if lo < 1e-9 and free.any():
                # progress stalled: the remaining sessions are blocked by a shared limit
                break
        return give


@dataclass
class Mpc:
    """Model predictive control: re-optimise at every arrival and departure, follow the plan between.

    ``objective`` is an optimiser objective; with ``min-peak`` the peak already reached is free.
    """

    objective: str = "max-energy"
    fairness: bool = False
    solve_times_s: list[float] = field(default_factory=list)
    _plan: dict[int, FloatArray] = field(default_factory=dict)
    _plan_start: int = 0
    _plan_set: frozenset[int] = frozenset()

    def __call__(self, view: OnlineView) -> FloatArray:
        """The power of each active session in this slot (kW), from the plan of the last re-optimisation."""
        p = view.problem
        present = frozenset(int(i) for i in view.active)
        if present != self._plan_set or view.t - self._plan_start >= self._horizon_left():
            self._replan(view)
        k = view.t - self._plan_start
        out = np.zeros(view.active.size)
        for j, i in enumerate(view.active):
            plan = self._plan.get(int(i))
            if plan is not None and k < plan.size:
                out[j] = plan[k]
        return np.minimum(out, view.remaining_kwh[view.active] / p.slot_h)

    def _horizon_left(self) -> int:
        return max((v.size for v in self._plan.values()), default=0)

    def _replan(self, view: OnlineView) -> None:
        p = view.problem
        i = view.active
        t = view.t
        stop = int(max(view.departure[i].max(), t + 1))
        stop = min(stop, p.n_slots)
        sub = Problem(
            p.network,
            p.slot_h,
            p.site_limit_kw[t:stop],
            p.evse[i],
            np.zeros(i.size, dtype=np.int64),
            np.clip(view.departure[i] - t, 0, stop - t).astype(np.int64),
            view.remaining_kwh[i].copy(),
            p.max_kw[i],
            p.min_kw[i],
            p.price_eur_per_kwh[t:stop],
            p.pv_kw[t:stop],
        )
        start = time.perf_counter()
        sched = optimize(sub, self.objective, peak_floor_kw=view.peak_so_far_kw, fairness=self.fairness)
        self.solve_times_s.append(time.perf_counter() - start)
        self._plan = {int(s): sched.session_power(j) for j, s in enumerate(i)}
        self._plan_start = t
        self._plan_set = frozenset(int(s) for s in i)


POLICIES: dict[str, Callable[..., Policy]] = {
    "uncontrolled": lambda **_: uncontrolled,
    "edf": lambda **_: _Sorted(_edf_key),
    "llf": lambda **_: _Sorted(_llf_key),
    "round-robin": lambda **_: RoundRobin(),
    "mpc": lambda objective="max-energy", **_: Mpc(objective),
}


def make_policy(name: str, **options: object) -> Policy:
    """A fresh policy instance by registry name (``options`` such as ``objective`` for ``mpc``)."""
    try:
        factory = POLICIES[name]
    except KeyError:
        raise InvalidInputError(f"unknown policy {name!r} (expected one of {', '.join(POLICIES)})") from None
    return factory(**options)


def register_policy(name: str, factory: Callable[..., Policy]) -> None:
    """Make another policy available by ``name``."""
    if not name:
        raise InvalidInputError("policy name must not be empty")
    POLICIES[name] = factory
