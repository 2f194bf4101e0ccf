"""Optimal charging schedules with OR-Tools: lexicographic LP (GLOP/PDLP), MILP (SCIP) when discrete.

Stages, each solved to optimality and then frozen as a constraint (within a tiny tolerance):

1. deliver as much requested energy as the limits allow;
2. fairness: among the energy-optimal schedules, maximise the smallest fraction of its request any
   session receives (only when not every request can be met);
3. the chosen objective order: ``min-peak`` (peak grid import, then energy cost), ``min-cost``
   (energy cost, then peak) or ``max-energy`` (nothing further);
4. a tie-break that charges as early as possible (it keeps headroom for sessions yet to come).

Phasor (three-phase) limits are convex but not linear; they enter as tangent cuts, added lazily
until every line current is within its limit (an exact outer approximation, then scaled into the
feasible set).

When an EVSE has a minimum charging power, on/off variables make the problem a MILP, solved with
SCIP through the same model builder.

Without the early tie-break (offline plans), problems with only a site limit, a tree of
sub-circuits, PV and prices are solved as network flows instead (:mod:`charging.flow`): the same
stages, exact, and one to two orders of magnitude faster than the LP sequence.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from charging.errors import BudgetExceededError, InfeasibleError, InvalidInputError
from charging.flow import flow_applicable, plan_by_flow
from charging.problem import FloatArray, IntArray, Problem, Schedule, variable_layout

if TYPE_CHECKING:
    import scipy.sparse as sp

# scipy and OR-Tools' linear solver are imported where a model is built, so that importing this
# module (for OBJECTIVES, or through the command line) stays cheap.

OBJECTIVES = ("max-energy", "min-peak", "min-cost")
_REL_TOL = 1e-8
_ABS_TOL = 1e-7
_CUT_SPACING_RAD = math.radians(20.0)
_MAX_CUT_ROUNDS = 4
_PHASOR_REL_TOL = 2e-3


def check_deadline(deadline: float | None) -> float:
    """Seconds left until ``deadline`` (``time.monotonic()``); :class:`BudgetExceededError` when none."""
    if deadline is None:
        return math.inf
    remaining_s = deadline - time.monotonic()
    if remaining_s <= 0:
        raise BudgetExceededError("the charging plan exceeded its time budget")
    return remaining_s


def _cone_directions(coeff: np.ndarray) -> list[float]:
    """Directions of the initial tangent cuts of a phasor limit with coefficients ``coeff``.

    Powers are non-negative, so the phasor lies in the cone spanned by the coefficients' angles;
    cuts whose normals span that cone (every ``_CUT_SPACING_RAD``) approximate the circle from
    outside within ``1 / cos(spacing / 2)``. A cone wider than a half-plane gets a full circle.
    """
    if coeff.size == 0:
        return []
    angles = np.unique(np.round(np.angle(coeff[np.abs(coeff) > 0]), 9))
    if angles.size == 1:
        return [float(angles[0])]
    ordered = np.sort(np.mod(angles, 2 * math.pi))
    gaps = np.diff(np.concatenate([ordered, [ordered[0] + 2 * math.pi]]))
    k = int(np.argmax(gaps))
    if gaps[k] <= math.pi:  # the cone is more than a half-plane: cover the whole circle
        n = math.ceil(2 * math.pi / _CUT_SPACING_RAD)
        return [2 * math.pi * i / n for i in range(n)]
    lo = ordered[(k + 1) % ordered.size]
    width = 2 * math.pi - gaps[k]
    n = max(1, math.ceil(width / _CUT_SPACING_RAD))
    return [float(lo + width * i / n) for i in range(n + 1)]


@dataclass
class _Rows:
    """Constraint rows in triplet form, grown in blocks."""

    rows: list[IntArray] = field(default_factory=list)
    cols: list[IntArray] = field(default_factory=list)
    vals: list[FloatArray] = field(default_factory=list)
    lo: list[FloatArray] = field(default_factory=list)
    hi: list[FloatArray] = field(default_factory=list)
    n: int = 0

    def add(self, row: IntArray, col: IntArray, val: FloatArray, lo: FloatArray, hi: FloatArray) -> None:
        """Add ``len(lo)`` rows; ``row`` holds local row numbers 0 .. len(lo) - 1."""
        self.rows.append(np.asarray(row, dtype=np.int64) + self.n)
        self.cols.append(np.asarray(col, dtype=np.int64))
        self.vals.append(np.asarray(val, dtype=np.float64))
        self.lo.append(np.asarray(lo, dtype=np.float64))
        self.hi.append(np.asarray(hi, dtype=np.float64))
        self.n += len(lo)

    def matrix(self, n_vars: int) -> tuple[sp.csr_matrix, FloatArray, FloatArray]:
        """The CSR matrix and row bounds."""
        import scipy.sparse as sp

        if not self.rows:
            return sp.csr_matrix((0, n_vars)), np.zeros(0), np.zeros(0)
        mat = sp.csr_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n, n_vars),
        )
        return mat, np.concatenate(self.lo), np.concatenate(self.hi)


class _Model:
    """The LP/MILP of one problem; variables x (session-slot powers) then auxiliaries."""

    def __init__(
        self, problem: Problem, solver: str, time_limit_s: float | None, deadline: float | None = None
    ) -> None:
        self.p = problem
        self.solver = solver
        self.time_limit_s = time_limit_s
        self.deadline = deadline
        offset, sess, slot = variable_layout(problem)
        self.offset, self.sess, self.slot = offset, sess, slot
        nx = sess.shape[0]
        self.nx = nx
        self.discrete = bool((problem.min_kw[sess] > 0).any()) if nx else False
        self.has_pv = bool((problem.pv_kw != 0).any())
        t_count = problem.n_slots
        # variable blocks
        self.i_peak = nx
        self.i_fair = nx + 1
        self.i_grid = nx + 2
        n_grid = t_count if self.has_pv else 0
        self.i_on = self.i_grid + n_grid
        n_on = nx if self.discrete else 0
        self._phasor = self._phasor_terms()
        self._groups, self._cut_terms = self._phasor_groups()
        self.i_agg = self.i_on + n_on
        self.n_vars = self.i_agg + len(self._groups) * t_count
        lb = np.zeros(self.n_vars)
        ub = np.full(self.n_vars, math.inf)
        ub[:nx] = problem.max_kw[sess]
        ub[self.i_fair] = 1.0
        if n_on:
            ub[self.i_on :] = 1.0
        self.lb, self.ub = lb, ub
        self.rows = _Rows()
        self._add_session_and_site_rows()
        if self.discrete:
            self._add_on_off_rows()
        self._add_linear_limits()
        self._add_phasor_rows()

    def _add_session_and_site_rows(self) -> None:
        """Energy per session, the site limit, the peak, fairness and (with PV) the grid import."""
        problem, sess, slot, nx, t_count = self.p, self.sess, self.slot, self.nx, self.p.n_slots
        dt = problem.slot_h
        # energy per session <= request
        self.rows.add(
            sess,
            np.arange(nx),
            np.full(nx, dt),
            np.full(problem.n_sessions, -math.inf),
            problem.energy_kwh.astype(float),
        )
        # site limit on grid import: load_t <= limit_t + pv_t
        self.rows.add(
            slot,
            np.arange(nx),
            np.ones(nx),
            np.full(t_count, -math.inf),
            problem.site_limit_kw + problem.pv_kw,
        )
        # peak: load_t - P <= pv_t
        self.rows.add(
            np.concatenate([slot, np.arange(t_count)]),
            np.concatenate([np.arange(nx), np.full(t_count, self.i_peak)]),
            np.concatenate([np.ones(nx), -np.ones(t_count)]),
            np.full(t_count, -math.inf),
            problem.pv_kw.astype(float),
        )
        # fairness: delivered_i - E_i * phi >= 0
        self.rows.add(
            np.concatenate([sess, np.arange(problem.n_sessions)]),
            np.concatenate([np.arange(nx), np.full(problem.n_sessions, self.i_fair)]),
            np.concatenate([np.full(nx, dt), -problem.deliverable_kwh()]),
            np.zeros(problem.n_sessions),
            np.full(problem.n_sessions, math.inf),
        )
        if self.has_pv:  # grid_t >= load_t - pv_t
            self.rows.add(
                np.concatenate([slot, np.arange(t_count)]),
                np.concatenate([np.arange(nx), self.i_grid + np.arange(t_count)]),
                np.concatenate([np.ones(nx), -np.ones(t_count)]),
                np.full(t_count, -math.inf),
                problem.pv_kw.astype(float),
            )

    def _add_on_off_rows(self) -> None:
        """A session with a least power charges at least that much, or not at all."""
        # min_kw * on <= x <= max_kw * on
        problem, sess, nx = self.p, self.sess, self.nx
        idx = np.arange(nx)
        on = self.i_on + idx
        self.rows.add(
            np.concatenate([idx, idx]),
            np.concatenate([idx, on]),
            np.concatenate([np.ones(nx), -problem.max_kw[sess]]),
            np.full(nx, -math.inf),
            np.zeros(nx),
        )
        self.rows.add(
            np.concatenate([idx, idx]),
            np.concatenate([idx, on]),
            np.concatenate([np.ones(nx), -problem.min_kw[sess]]),
            np.zeros(nx),
            np.full(nx, math.inf),
        )

    def _add_phasor_rows(self) -> None:
        """The phasor groups' sums per slot and the first cuts of each phasor limit."""
        t_count = self.p.n_slots
        for g, use in enumerate(self._groups):  # y_{g,t} = sum of the group's powers in slot t
            self.rows.add(
                np.concatenate([self.slot[use], np.arange(t_count)]),
                np.concatenate([use, self.i_agg + g * t_count + np.arange(t_count)]),
                np.concatenate([np.ones(use.size), -np.ones(t_count)]),
                np.zeros(t_count),
                np.zeros(t_count),
            )
        for j, (_use, c, _limit) in enumerate(self._phasor):
            for theta in _cone_directions(c):
                self._add_cut(j, np.arange(t_count), np.full(t_count, theta))

    # -- network limits -------------------------------------------------------------------
    def _add_linear_limits(self) -> None:
        p = self.p
        var_evse = p.evse[self.sess]
        for lim in p.network.linear:
            coeff_by_evse = np.zeros(p.network.n_evse)
            np.add.at(coeff_by_evse, lim.evse_index, lim.coeff)
            c = coeff_by_evse[var_evse]
            use = np.nonzero(c)[0]
            if use.size == 0:
                continue
            self.rows.add(
                self.slot[use],
                use,
                c[use],
                np.full(p.n_slots, -math.inf),
                np.full(p.n_slots, float(lim.limit)),
            )

    def _phasor_terms(self) -> list[tuple[IntArray, np.ndarray, float]]:
        """Per phasor limit: the variables involved and their complex coefficients."""
        p = self.p
        var_evse = p.evse[self.sess]
        out = []
        for lim in p.network.phasor:
            coeff_by_evse = np.zeros(p.network.n_evse, dtype=complex)
            np.add.at(coeff_by_evse, lim.evse_index, lim.coeff)
            c = coeff_by_evse[var_evse]
            use = np.nonzero(c)[0]
            out.append((use, c[use], float(lim.limit)))
        return out

    def _phasor_groups(self) -> tuple[list[IntArray], list[tuple[IntArray, np.ndarray]]]:
        """EVSEs sharing a coefficient in a phasor limit form a group with one aggregate per slot.

        Cuts then touch a few aggregates (three phases at most in practice) instead of every
        session, which keeps the LP sparse.
        """
        p = self.p
        var_evse = p.evse[self.sess]
        index: dict[tuple[int, ...], int] = {}
        groups: list[IntArray] = []
        terms: list[tuple[IntArray, np.ndarray]] = []
        for lim in p.network.phasor:
            coeff_by_evse = np.zeros(p.network.n_evse, dtype=complex)
            np.add.at(coeff_by_evse, lim.evse_index, lim.coeff)
            values = np.round(coeff_by_evse, 9)
            gids, vals = [], []
            for v in np.unique(values[values != 0]):
                key = tuple(int(e) for e in np.nonzero(values == v)[0])
                if key not in index:
                    index[key] = len(groups)
                    groups.append(np.nonzero(np.isin(var_evse, key))[0])
                gids.append(index[key])
                vals.append(complex(v))
            terms.append((np.array(gids, dtype=np.int64), np.array(vals, dtype=complex)))
        return groups, terms

    def _add_cut(self, j: int, slots: IntArray, theta: FloatArray) -> None:
        """Tangent cuts ``Re(e^{-i theta} I_t) <= limit`` for phasor limit ``j`` at ``slots``."""
        use, c, limit = self._phasor[j]
        if use.size == 0 or slots.size == 0:
            return
        slot_of = self.slot[use]
        # a limit that cannot bind in a slot (every session there at full power stays below it) needs no cut
        reach = np.bincount(slot_of, weights=np.abs(c) * self.ub[use], minlength=self.p.n_slots)
        binding = reach[slots] > limit
        slots, theta = slots[binding], theta[binding]
        if slots.size == 0:
            return
        gids, vals = self._cut_terms[j]
        t_count = self.p.n_slots
        row = np.repeat(np.arange(slots.size), gids.size)
        col = (self.i_agg + gids[None, :] * t_count + slots[:, None]).ravel()
        val = (vals[None, :] * np.exp(-1j * theta)[:, None]).real.ravel()
        keep = np.abs(val) > 1e-9 * np.abs(np.tile(vals, slots.size))
        self.rows.add(
            row[keep], col[keep], val[keep], np.full(slots.size, -math.inf), np.full(slots.size, limit)
        )

    def phasor_violations(self, x: FloatArray) -> int:
        """Add a tangent cut wherever a line current exceeds its limit; return how many were added."""
        added = 0
        for j, (use, c, limit) in enumerate(self._phasor):
            if use.size == 0:
                continue
            current = np.bincount(
                self.slot[use], weights=(c * x[use]).real, minlength=self.p.n_slots
            ) + 1j * (np.bincount(self.slot[use], weights=(c * x[use]).imag, minlength=self.p.n_slots))
            mag = np.abs(current)
            bad = np.nonzero(mag > limit * (1 + _PHASOR_REL_TOL))[0]
            if bad.size:
                self._add_cut(j, bad, np.angle(current[bad]))
                added += bad.size
        return added

    # -- solving --------------------------------------------------------------------------
    def solve(self, objective: FloatArray, *, maximize: bool) -> FloatArray:
        """Solve with the current rows; repeat with more cuts until the phasor limits hold."""
        for _ in range(_MAX_CUT_ROUNDS):
            x = self._solve_once(objective, maximize=maximize)
            if not self._phasor or self.phasor_violations(x) == 0:
                return x
        return x

    def _solve_once(self, objective: FloatArray, *, maximize: bool) -> FloatArray:
        from ortools.linear_solver.python import model_builder_helper as mbh

        mat, lo, hi = self.rows.matrix(self.n_vars)
        model = mbh.ModelBuilderHelper()
        model.fill_model_from_sparse_data(self.lb, self.ub, objective, lo, hi, mat)  # type: ignore[arg-type]
        model.set_maximize(maximize)
        solver_name = self.solver
        if self.discrete:
            for i in range(self.i_on, self.n_vars):
                model.set_var_integrality(i, True)
            solver_name = "scip"
        solver = mbh.ModelSolverHelper(solver_name)
        if not solver.solver_is_supported():
            raise InvalidInputError(f"solver {solver_name!r} is not available in this OR-Tools build")
        limit_s = self.time_limit_s
        if self.deadline is not None:
            remaining_s = check_deadline(self.deadline)
            limit_s = remaining_s if limit_s is None else min(limit_s, remaining_s)
        if limit_s is not None:
            solver.set_time_limit_in_seconds(limit_s)
        solver.solve(model)
        status = solver.status()
        if status not in (mbh.SolveStatus.OPTIMAL, mbh.SolveStatus.FEASIBLE):
            if self.deadline is not None:
                check_deadline(self.deadline)
            raise InfeasibleError(f"the charging problem could not be solved ({status.name.lower()})")
        return np.asarray(solver.variable_values(), dtype=np.float64)

    def freeze(self, objective: FloatArray, value: float, *, maximize: bool) -> None:
        """Keep the stage's optimum: ``objective . x >= value - tol`` (or ``<= value + tol``)."""
        nz = np.nonzero(objective)[0]
        tol = _REL_TOL * abs(value) + _ABS_TOL
        if maximize:
            zero = np.zeros(nz.size, dtype=np.int64)
            self.rows.add(zero, nz, objective[nz], np.array([value - tol]), np.array([math.inf]))
        else:
            zero = np.zeros(nz.size, dtype=np.int64)
            self.rows.add(zero, nz, objective[nz], np.array([-math.inf]), np.array([value + tol]))


def _objective_vectors(m: _Model) -> dict[str, FloatArray]:
    p = m.p
    dt = p.slot_h
    energy = np.zeros(m.n_vars)
    energy[: m.nx] = dt
    fair = np.zeros(m.n_vars)
    fair[m.i_fair] = 1.0
    peak = np.zeros(m.n_vars)
    peak[m.i_peak] = 1.0
    cost = np.zeros(m.n_vars)
    if m.has_pv:
        cost[m.i_grid : m.i_grid + p.n_slots] = p.price_eur_per_kwh * dt
    else:
        cost[: m.nx] = p.price_eur_per_kwh[m.slot] * dt
    early = np.zeros(m.n_vars)
    # charge early, and sessions that leave earlier before those that stay longer (keeps the
    # flexible ones for whatever arrives next)
    rank = np.argsort(np.argsort(-p.last, kind="stable"), kind="stable")
    urgency = 1.0 + rank / max(p.n_sessions, 1)
    early[: m.nx] = dt * (1.0 + m.slot) / max(p.n_slots, 1) * urgency[m.sess]
    return {"energy": energy, "fairness": fair, "peak": peak, "cost": cost, "early": early}


_FLOW_UNIT_KWH = 1e-6


def _flow_representable(problem: Problem) -> bool:
    """Site limit only (no circuits, phases, minimum power): energy and peak are max-flow problems."""
    net = problem.network
    return not net.linear and not net.phasor and not bool((problem.min_kw > 0).any())


class _FlowModel:
    """source -> session (request) -> slot (rate x slot length) -> sink (site cap x slot length).

    Capacities are integers in units of ``_FLOW_UNIT_KWH``; OR-Tools' max-flow solves each case.
    """

    def __init__(self, problem: Problem) -> None:
        from ortools.graph.python import max_flow

        self.p = problem
        _offset, sess, slot = variable_layout(problem)
        n, t_count = problem.n_sessions, problem.n_slots
        self.dt, self.unit = problem.slot_h, _FLOW_UNIT_KWH
        self.n, self.t_count = n, t_count
        self.src, self.sink = n + t_count, n + t_count + 1
        self.tails = np.concatenate([np.full(n, self.src), sess, n + np.arange(t_count)])
        self.heads = np.concatenate([np.arange(n), n + slot, np.full(t_count, self.sink)])
        self.x_caps = np.floor(problem.max_kw[sess] * self.dt / self.unit).astype(np.int64)
        self.cap_kw = problem.site_limit_kw + problem.pv_kw
        self.full = np.floor(problem.energy_kwh / self.unit).astype(np.int64)
        self.deliverable = np.floor(problem.deliverable_kwh() / self.unit).astype(np.int64)
        self.nx = sess.size
        self._mf = max_flow
        self.smf = max_flow.SimpleMaxFlow()
        caps = np.concatenate([self.full, self.x_caps, self.sink_caps(float(self.cap_kw.max()))])
        self.arcs = self.smf.add_arcs_with_capacity(self.tails, self.heads, caps)
        self.a_src = self.arcs[:n]
        self.a_sink = self.arcs[n + self.nx :]

    def sink_caps(self, peak_kw: float) -> np.ndarray:
        caps = np.minimum(self.cap_kw, peak_kw + self.p.pv_kw)
        return np.floor(np.maximum(caps, 0.0) * self.dt / self.unit).astype(np.int64)

    def solve(self, src_caps: np.ndarray, peak_kw: float) -> int:
        self.smf.set_arcs_capacity(self.a_src, src_caps)
        self.smf.set_arcs_capacity(self.a_sink, self.sink_caps(peak_kw))
        if self.smf.solve(self.src, self.sink) != self.smf.OPTIMAL:
            raise InfeasibleError("max-flow failed")
        return int(self.smf.optimal_flow())

    def fair_ok(self, phi: float, peak_kw: float) -> bool:
        """Can every session get ``phi`` of its deliverable energy under ``peak_kw``?"""
        caps = np.floor(phi * self.deliverable).astype(np.int64)
        return self.solve(caps, peak_kw) >= int(caps.sum()) - (self.n + self.nx)

    def earliest_flow(self, peak_kw: float) -> FloatArray:
        """The maximum flow under ``peak_kw`` that charges as early as possible (min-cost max-flow)."""
        from ortools.graph.python import min_cost_flow

        n, nx = self.n, self.nx
        mcf = min_cost_flow.SimpleMinCostFlow()
        slot = self.heads[n : n + nx] - n
        sess = self.tails[n : n + nx]
        # slope per session: earlier departures charge first (keeps late sessions flexible)
        rank = np.argsort(np.argsort(-self.p.last, kind="stable"), kind="stable")
        base = max(self.n, 1)
        weight = base + rank[sess]  # in [base, 2 base)
        costs = np.concatenate(
            [
                np.zeros(n, dtype=np.int64),
                (slot * weight).astype(np.int64),
                np.zeros(self.t_count, dtype=np.int64),
            ]
        )
        caps = np.concatenate([self.full, self.x_caps, self.sink_caps(peak_kw)])
        arcs = mcf.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, caps, costs)
        total = int(self.full.sum())
        mcf.set_node_supply(self.src, total)
        mcf.set_node_supply(self.sink, -total)
        if mcf.solve_max_flow_with_min_cost() != mcf.OPTIMAL:
            raise InfeasibleError("min-cost flow failed")
        f = np.asarray(mcf.flows(arcs[n : n + nx]), dtype=np.float64)
        return f * self.unit / self.dt

    def final_flow(self, phi: float, peak_kw: float) -> FloatArray:
        """A max flow under ``peak_kw`` that gives each session at least ``phi`` of its deliverable energy.

        First the fair shares, then augmentation on the residual network (augmenting paths never
        reduce what leaves the source, so the shares stay).
        """
        caps = np.floor(phi * self.deliverable).astype(np.int64)
        self.solve(caps, peak_kw)
        f = np.asarray(self.smf.flows(self.arcs), dtype=np.int64)
        n, nx = self.n, self.nx
        f_src, f_x, f_sink = f[:n], f[n : n + nx], f[n + nx :]
        res = self._mf.SimpleMaxFlow()
        sink_caps = self.sink_caps(peak_kw)
        x_tail, x_head = self.tails[n : n + nx], self.heads[n : n + nx]
        s_tail, s_head = self.tails[n + nx :], self.heads[n + nx :]
        arcs = res.add_arcs_with_capacity(
            np.concatenate([self.tails[:n], x_tail, x_head, s_tail, s_head]),
            np.concatenate([self.heads[:n], x_head, x_tail, s_head, s_tail]),
            np.concatenate(
                [
                    np.maximum(self.full - f_src, 0),
                    self.x_caps - f_x,
                    f_x,
                    np.maximum(sink_caps - f_sink, 0),
                    f_sink,
                ]
            ),
        )
        if res.solve(self.src, self.sink) != res.OPTIMAL:
            raise InfeasibleError("max-flow failed")
        g = np.asarray(res.flows(arcs), dtype=np.int64)
        x = f_x + g[n : n + nx] - g[n + nx : n + 2 * nx]
        return np.asarray(x, dtype=np.float64) * self.unit / self.dt


def _plan_by_flow(
    problem: Problem, peak_floor_kw: float, *, minimise_peak: bool, fairness: bool, early: bool = False
) -> tuple[FloatArray, dict[str, float]]:
    """Max energy, then max-min fairness, then (optionally) min peak, by max-flow and bisection."""
    fm = _FlowModel(problem)
    top = float(fm.cap_kw.max())
    best = fm.solve(fm.full, top)
    slack = fm.nx + fm.n  # one unit per arc at most is lost to rounding
    phi = 1.0
    short = best < int(fm.deliverable.sum()) - slack
    if fairness and short:
        lo, hi = 0.0, 1.0
        while hi - lo > 1e-7:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if fm.fair_ok(mid, top) else (lo, mid)
        phi = lo
    peak = top
    if minimise_peak:
        lo = max(peak_floor_kw, 0.0)
        hi = max(float(problem.site_limit_kw.max()), lo)

        def ok(p: float) -> bool:
            return fm.solve(fm.full, p) >= best - slack and (not (fairness and short) or fm.fair_ok(phi, p))

        if ok(lo):
            hi = lo
        else:
            while hi - lo > max(1e-7 * hi, 1e-7):
                mid = 0.5 * (lo + hi)
                lo, hi = (lo, mid) if ok(mid) else (mid, hi)
        peak = hi
    if early and not (fairness and short):
        x = fm.earliest_flow(peak)
    else:
        x = fm.final_flow(phi if fairness and short else 0.0, peak)
    values = {"energy": float(x.sum() * fm.dt), "fairness": phi}
    if minimise_peak:
        values["peak"] = peak
    return x, values


def optimize(
    problem: Problem,
    objective: str = "min-peak",
    *,
    peak_floor_kw: float = 0.0,
    fairness: bool = True,
    tie_break_early: bool = True,
    solver: str = "glop",
    time_limit_s: float | None = None,
    deadline: float | None = None,
) -> Schedule:
    """The lexicographically optimal schedule of ``problem`` for ``objective``.

    ``peak_floor_kw`` is a peak already paid for (online operation): peaks up to it cost nothing.
    ``deadline`` (``time.monotonic()``) bounds the whole solve: past it, every solver stops and
    :class:`BudgetExceededError` is raised.
    """
    if objective not in OBJECTIVES:
        raise InvalidInputError(f"unknown objective {objective!r} (expected one of {', '.join(OBJECTIVES)})")
    start = time.perf_counter()
    tree = flow_applicable(problem) if not tie_break_early else None
    if tree is not None:  # exact and fast: the stages as network flows
        offset, sess, slot = variable_layout(problem)
        if sess.size == 0:
            return Schedule(problem, np.zeros(0), offset, {}, time.perf_counter() - start)
        try:
            x_flow, values_flow = plan_by_flow(
                problem, objective, tree, peak_floor_kw=peak_floor_kw, fairness=fairness, deadline=deadline
            )
        except InfeasibleError:  # a flow solver gave up (e.g. integer range): solve the LP instead
            pass
        else:
            power = _repair(problem, sess, slot, x_flow)
            return Schedule(problem, power, offset, values_flow, time.perf_counter() - start)
    check_deadline(deadline)
    m = _Model(problem, solver, time_limit_s, deadline)
    offset = m.offset
    if m.nx == 0:
        return Schedule(problem, np.zeros(0), offset, {}, time.perf_counter() - start)
    has_prices = bool(np.ptp(problem.price_eur_per_kwh) > 0) or m.has_pv
    flow_ok = objective in ("min-peak", "max-energy") and not has_prices and _flow_representable(problem)
    if flow_ok and not fairness:
        x_flow, values_flow = _plan_by_flow(
            problem,
            peak_floor_kw,
            minimise_peak=objective == "min-peak",
            fairness=fairness,
            early=tie_break_early,
        )
        power = _repair(problem, m.sess, m.slot, x_flow)
        return Schedule(problem, power, offset, values_flow, time.perf_counter() - start)
    m.lb[m.i_peak] = max(peak_floor_kw, 0.0)
    x, values = _solve_stages(
        m, objective, fairness=fairness, tie_break_early=tie_break_early, has_prices=has_prices
    )
    power = _repair(problem, m.sess, m.slot, x[: m.nx], discrete=m.discrete, phasor=m._phasor)
    sched = Schedule(problem, power, offset, values, time.perf_counter() - start)
    return sched


def _solve_stages(
    m: _Model, objective: str, *, fairness: bool, tie_break_early: bool, has_prices: bool
) -> tuple[FloatArray, dict[str, float]]:
    """Solve the LP stage by stage, each keeping the optimum of the ones before; x and the values."""
    problem = m.p
    vec = _objective_vectors(m)
    values: dict[str, float] = {}

    def stage(
        name: str, *, maximize: bool, previous: FloatArray | None, perturb: FloatArray | None = None
    ) -> FloatArray:
        try:
            x = m.solve(vec[name] if perturb is None else vec[name] + perturb, maximize=maximize)
        except InfeasibleError:
            if previous is None:
                raise
            return previous  # numerical trouble in a later stage: keep the earlier stages' optimum
        values[name] = float(vec[name] @ x)
        m.freeze(vec[name], values[name], maximize=maximize)
        return x

    # with only the tie-break left (max-energy), fold it into the energy stage: at most 1e-6 of the
    # energy is traded for earliness, and one LP is saved (this is what an MPC step solves)
    fold = objective == "max-energy" and tie_break_early
    x = stage("energy", maximize=True, previous=None, perturb=-1e-6 * vec["early"] if fold else None)
    requested = float(np.minimum(problem.energy_kwh, problem.deliverable_kwh()).sum())
    fair_stage = fairness and values["energy"] < requested * (1 - 1e-6) - 1e-6
    if fair_stage:
        x = stage("fairness", maximize=True, previous=x)
    order: list[tuple[str, bool]] = []
    if objective == "min-peak":
        order = [("peak", False)] + ([("cost", False)] if has_prices else [])
    elif objective == "min-cost":
        order = [("cost", False), ("peak", False)]
    if tie_break_early and not (fold and not fair_stage):
        order.append(("early", False))
    for name, maximize in order:
        x = stage(name, maximize=maximize, previous=x)
    return x, values


def _repair(
    problem: Problem,
    sess: IntArray,
    slot: IntArray,
    x: FloatArray,
    *,
    discrete: bool = False,
    phasor: list[tuple[IntArray, np.ndarray, float]] | None = None,
) -> FloatArray:
    """Remove solver round-off: clip to bounds, never above a request, limits or phasor limits."""
    x = np.clip(x, 0.0, problem.max_kw[sess])
    x[x < 1e-5] = 0.0  # solver noise (10 mW)
    if discrete:
        low = (x > 0) & (x < problem.min_kw[sess])
        x[low] = np.where(x[low] >= 0.5 * problem.min_kw[sess][low], problem.min_kw[sess][low], 0.0)
    delivered = np.bincount(sess, weights=x, minlength=problem.n_sessions) * problem.slot_h
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(delivered > problem.energy_kwh, problem.energy_kwh / delivered, 1.0)
    x = x * factor[sess]
    scale = np.ones(problem.n_slots)
    load = np.bincount(slot, weights=x, minlength=problem.n_slots)
    cap = problem.site_limit_kw + problem.pv_kw
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.minimum(scale, np.where(load > cap, np.maximum(cap, 0.0) / load, 1.0))
    var_evse = problem.evse[sess]
    for lim in problem.network.linear:
        coeff_by_evse = np.zeros(problem.network.n_evse)
        np.add.at(coeff_by_evse, lim.evse_index, lim.coeff)
        value = np.bincount(slot, weights=coeff_by_evse[var_evse] * x, minlength=problem.n_slots)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.minimum(scale, np.where(value > lim.limit, lim.limit / value, 1.0))
    for use, c, limit in phasor or []:
        if use.size == 0:
            continue
        re = np.bincount(slot[use], weights=(c * x[use]).real, minlength=problem.n_slots)
        im = np.bincount(slot[use], weights=(c * x[use]).imag, minlength=problem.n_slots)
        mag = np.hypot(re, im)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.minimum(scale, np.where(mag > limit, limit / mag, 1.0))
    return x * scale[slot]


def independent_groups(problem: Problem) -> list[tuple[int, int, IntArray]]:
    """Split sessions into groups whose slot ranges do not overlap: ``(start, stop, sessions)``."""
    has = problem.last > problem.first
    idx = np.nonzero(has)[0]
    if idx.size == 0:
        return []
    order = idx[np.argsort(problem.first[idx], kind="stable")]
    groups: list[tuple[int, int, IntArray]] = []
    cur: list[int] = []
    cur_start = int(problem.first[order[0]])
    cur_end = -1
    for i in order:
        f, last = int(problem.first[i]), int(problem.last[i])
        if cur and f >= cur_end:
            groups.append((cur_start, cur_end, np.array(cur, dtype=np.int64)))
            cur, cur_start = [], f
        cur.append(int(i))
        cur_end = max(cur_end, last)
    groups.append((cur_start, cur_end, np.array(cur, dtype=np.int64)))
    return groups


def optimize_decomposed(
    problem: Problem,
    objective: str = "min-peak",
    *,
    progress: Callable[[int, int], None] | None = None,
    **kwargs: object,
) -> Schedule:
    """:func:`optimize` on each independent group of sessions (e.g. day by day), joined again.

    Exact for energy, fairness within groups, peak (the peak of later groups is floored at the
    highest peak found so far, which is free) and cost.
    """
    groups = independent_groups(problem)
    offset, _sess, _slot = variable_layout(problem)
    power = np.zeros(_sess.shape[0])
    floor = float(kwargs.pop("peak_floor_kw", 0.0))  # type: ignore[arg-type]
    start = time.perf_counter()
    values: dict[str, float] = {}
    deadline = kwargs.get("deadline")
    for k, (a, b, idx) in enumerate(groups):
        check_deadline(deadline)  # type: ignore[arg-type]
        sub = problem.window(a, b, idx)
        sched = optimize(sub, objective, peak_floor_kw=floor, **kwargs)  # type: ignore[arg-type]
        if objective == "min-peak":
            floor = max(floor, sched.peak_kw())
        for j, i in enumerate(idx):
            n = int(problem.last[i] - problem.first[i])
            power[offset[i] : offset[i] + n] = sched.session_power(j)
        for key, v in sched.objective_values.items():
            values[key] = values.get(key, 0.0) + v if key != "peak" else max(values.get(key, 0.0), v)
        if progress is not None:
            progress(k + 1, len(groups))
    return Schedule(problem, power, offset, values, time.perf_counter() - start)
