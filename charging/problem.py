"""Compact array form of a charging problem: the input of the optimiser and the online policies.

Time is a grid of equal slots (index 0 .. ``n_slots - 1``, ``slot_h`` hours each). A session may
charge in slots ``first <= t < last`` at up to ``max_kw``; power is constant within a slot. The
network is a set of limits over EVSE powers:

* the site (grid connection) limit per slot, ``site_limit_kw[t]`` (already combined with any
  time-varying limit such as a §14a EnWG reduction), on the grid import ``load - pv``;
* linear limits ``sum_e coeff_e * p_e <= limit`` (sub-circuits of a tree, per-phase currents);
* phasor limits ``|sum_e coeff_e * p_e| <= limit`` with complex coefficients (three-phase
  networks with line-to-line loads, where a line current is the phasor sum of branch currents).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from charging.errors import InvalidInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ComplexArray = NDArray[np.complex128]


@dataclass(frozen=True)
class LinearLimit:
    """``sum_e coeff[k] * p[evse_index[k]] <= limit`` in every slot (``p`` in kW)."""

    name: str
    evse_index: IntArray
    coeff: FloatArray
    limit: float


@dataclass(frozen=True)
class PhasorLimit:
    """``|sum_e coeff[k] * p[evse_index[k]]| <= limit`` in every slot, complex ``coeff`` (e.g. A per kW)."""

    name: str
    evse_index: IntArray
    coeff: ComplexArray
    limit: float


@dataclass(frozen=True)
class Network:
    """EVSEs (by integer index) and the limits that couple them below the site limit."""

    evse_max_kw: FloatArray
    evse_min_kw: FloatArray
    linear: tuple[LinearLimit, ...] = ()
    phasor: tuple[PhasorLimit, ...] = ()

    @property
    def n_evse(self) -> int:
        """Number of EVSEs."""
        return int(self.evse_max_kw.shape[0])

    @staticmethod
    def simple(n_evse: int, max_kw: float, min_kw: float = 0.0) -> Network:
        """A network of ``n_evse`` identical EVSEs with no limit but the site limit."""
        return Network(np.full(n_evse, float(max_kw)), np.full(n_evse, float(min_kw)))


@dataclass(frozen=True)
class Problem:
    """Sessions on a slot grid under a network; everything the optimiser needs."""

    network: Network
    slot_h: float
    site_limit_kw: FloatArray
    evse: IntArray
    first: IntArray
    last: IntArray
    energy_kwh: FloatArray
    max_kw: FloatArray
    min_kw: FloatArray
    price_eur_per_kwh: FloatArray = field(default_factory=lambda: np.zeros(0))
    pv_kw: FloatArray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        n_slots = self.site_limit_kw.shape[0]
        if self.price_eur_per_kwh.shape[0] == 0:
            object.__setattr__(self, "price_eur_per_kwh", np.zeros(n_slots))
        if self.pv_kw.shape[0] == 0:
            object.__setattr__(self, "pv_kw", np.zeros(n_slots))
        n = self.evse.shape[0]
        for name in ("first", "last", "energy_kwh", "max_kw", "min_kw"):
            if getattr(self, name).shape[0] != n:
                raise InvalidInputError(
                    f"problem: {name} has {getattr(self, name).shape[0]} entries, expected {n}"
                )
        for name in ("price_eur_per_kwh", "pv_kw"):
            if getattr(self, name).shape[0] != n_slots:
                raise InvalidInputError(f"problem: {name} must have one value per slot ({n_slots})")
        if n and (self.first.min() < 0 or self.last.max() > n_slots):
            raise InvalidInputError("problem: session window outside the slot grid")
        if self.slot_h <= 0:
            raise InvalidInputError("problem: slot length must be positive")

    @property
    def n_sessions(self) -> int:
        """Number of sessions."""
        return int(self.evse.shape[0])

    @property
    def n_slots(self) -> int:
        """Number of slots of the grid."""
        return int(self.site_limit_kw.shape[0])

    def deliverable_kwh(self) -> FloatArray:
        """Per session, the energy its window and rate allow if it were alone (the requested cap)."""
        window = np.maximum(self.last - self.first, 0) * self.slot_h * self.max_kw
        return np.minimum(self.energy_kwh, window)

    def subset(self, index: IntArray) -> Problem:
        """The same grid and network with only the sessions ``index``."""
        return Problem(
            self.network,
            self.slot_h,
            self.site_limit_kw,
            self.evse[index],
            self.first[index],
            self.last[index],
            self.energy_kwh[index],
            self.max_kw[index],
            self.min_kw[index],
            self.price_eur_per_kwh,
            self.pv_kw,
        )

    def window(self, start: int, stop: int, index: IntArray) -> Problem:
        """Sessions ``index`` on slots ``start .. stop - 1`` only, re-indexed from 0."""
        first = np.clip(self.first[index] - start, 0, stop - start)
        last = np.clip(self.last[index] - start, 0, stop - start)
        return Problem(
            self.network,
            self.slot_h,
            self.site_limit_kw[start:stop],
            self.evse[index],
            first,
            last,
            self.energy_kwh[index],
            self.max_kw[index],
            self.min_kw[index],
            self.price_eur_per_kwh[start:stop],
            self.pv_kw[start:stop],
        )


@dataclass(frozen=True)
class Schedule:
    """Power per session and slot: session ``i`` charges ``power_kw[offset[i] + t - first[i]]`` in slot t."""

    problem: Problem
    power_kw: FloatArray
    offset: IntArray
    objective_values: dict[str, float] = field(default_factory=dict)
    solve_time_s: float = 0.0

    def session_power(self, i: int) -> FloatArray:
        """Power of session ``i`` in its slots ``first[i] .. last[i] - 1``."""
        a = int(self.offset[i])
        return self.power_kw[a : a + int(self.problem.last[i] - self.problem.first[i])]

    def dense(self) -> FloatArray:
        """A dense ``(n_sessions, n_slots)`` matrix of powers (kW)."""
        p = self.problem
        out = np.zeros((p.n_sessions, p.n_slots))
        sess, slot = variable_layout(p)[1:]
        out[sess, slot] = self.power_kw
        return out

    def delivered_kwh(self) -> FloatArray:
        """Energy delivered per session."""
        p = self.problem
        sess = variable_layout(p)[1]
        return np.asarray(
            np.bincount(sess, weights=self.power_kw, minlength=p.n_sessions) * p.slot_h, dtype=np.float64
        )

    def load_kw(self) -> FloatArray:
        """Total charging load per slot."""
        p = self.problem
        slot = variable_layout(p)[2]
        return np.asarray(np.bincount(slot, weights=self.power_kw, minlength=p.n_slots), dtype=np.float64)

    def grid_kw(self) -> FloatArray:
        """Grid import per slot (load minus PV, may be negative when PV exceeds the load)."""
        return self.load_kw() - self.problem.pv_kw

    def peak_kw(self) -> float:
        """Highest grid import over the grid (0 for an empty schedule)."""
        grid = self.grid_kw()
        return float(max(grid.max(initial=0.0), 0.0))

    def energy_cost_eur(self) -> float:
        """Cost of the grid import at the time-of-use prices (exports are not paid)."""
        p = self.problem
        return float(np.dot(np.maximum(self.grid_kw(), 0.0), p.price_eur_per_kwh) * p.slot_h)


def variable_layout(problem: Problem) -> tuple[IntArray, IntArray, IntArray]:
    """Offsets per session and, per variable, its session and slot (the flat schedule layout)."""
    length = np.maximum(problem.last - problem.first, 0).astype(np.int64)
    offset = np.zeros(problem.n_sessions, dtype=np.int64)
    if problem.n_sessions:
        offset[1:] = np.cumsum(length)[:-1]
    total = int(length.sum())
    sess = np.repeat(np.arange(problem.n_sessions, dtype=np.int64), length)
    slot = np.arange(total, dtype=np.int64) - np.repeat(offset, length) + np.repeat(problem.first, length)
    return offset, sess, slot


def check_schedule(schedule: Schedule, tol_kw: float = 1e-6) -> list[str]:
    """Every violated constraint of ``schedule`` as a one-line description (empty when feasible)."""
    p = schedule.problem
    _, sess, _slot = variable_layout(p)
    x = schedule.power_kw
    problems: list[str] = []
    if (x < -tol_kw).any():
        problems.append("negative power")
    over = x - p.max_kw[sess]
    if (over > tol_kw).any():
        problems.append(f"session above its max rate by {over.max():.6f} kW")
    on = x > tol_kw
    if (on & (x < p.min_kw[sess] - tol_kw)).any():
        problems.append("session below its minimum charging power while on")
    extra = schedule.delivered_kwh() - p.energy_kwh
    if (extra > tol_kw * p.slot_h * 10).any():
        problems.append(f"session charged more than requested by {extra.max():.6f} kWh")
    grid = schedule.grid_kw()
    if (grid - p.site_limit_kw > tol_kw).any():
        t = int(np.argmax(grid - p.site_limit_kw))
        problems.append(f"site limit exceeded in slot {t}: {grid[t]:.4f} > {p.site_limit_kw[t]:.4f} kW")
    dense = schedule.dense()
    evse_power = np.zeros((p.network.n_evse, p.n_slots))
    np.add.at(evse_power, p.evse, dense)
    for lim in p.network.linear:
        value = lim.coeff @ evse_power[lim.evse_index]
        if (value - lim.limit > tol_kw * max(1.0, np.abs(lim.coeff).max(initial=1.0))).any():
            problems.append(f"limit {lim.name} exceeded: {value.max():.4f} > {lim.limit:.4f}")
    for ph in p.network.phasor:
        value = np.abs(ph.coeff @ evse_power[ph.evse_index])
        if (value - lim_tol(ph.limit) > ph.limit).any():
            problems.append(f"limit {ph.name} exceeded: {value.max():.4f} > {ph.limit:.4f}")
    return problems


def lim_tol(limit: float) -> float:
    """Tolerance used for phasor limits (as acnportal: max(1e-5, 1e-7 relative))."""
    return max(1e-5, 1e-7 * abs(limit))
