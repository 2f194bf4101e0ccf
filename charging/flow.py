"""Lexicographic charging plans as network flows: exact, and much faster than the LP where it applies.

Without minimum charging powers, per-phase or phasor limits, a charging problem is a flow network:

    source -> session (request) -> circuit slot (rate x slot length) -> parent circuit slot ...
           -> site slot -> sink (grid limit, and the PV forecast as a free second arc)

with one node per session, one node per circuit (of a tree of sub-circuits) and slot, and energies
as integer flows in a common small unit. The stages of :mod:`charging.optimize` become:

1. energy: a maximum flow ``F``;
2. fairness: the largest share ``phi`` of its deliverable energy every session can get together
   with ``F`` (bisection; each test is a flow with lower bounds ``floor(phi * deliverable)``);
3. ``min-peak``: the lowest peak ``P`` (bisection; the grid arcs are capped at ``P``), then the
   cheapest such flow (min-cost flow with the node supplies fixed at ``F``);
   ``min-cost``: the cheapest flow, then the lowest peak among the cheapest flows: every
   cost-optimal flow satisfies complementary slackness with the potentials of one optimum, which
   fixes every arc of non-zero reduced cost at a bound; bisection on ``P`` over that face.

All tests are exact in the integer network; the only approximation is the unit (capacities are
rounded down to whole units, about ``1e-10`` of the total request each) and the prices (rounded to
``1e-6`` of the largest price).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from charging.errors import BudgetExceededError, InfeasibleError
from charging.problem import FloatArray, IntArray, Problem, variable_layout

_TOTAL_UNITS = 1e10  # the total request in flow units (int64 headroom for costs x flows)
_PRICE_UNITS = 1e6  # the largest |price| in cost units
_REL_TOL = 1e-7  # bisection tolerance (relative) on phi and on the peak


@dataclass(frozen=True)
class CircuitTree:
    """Sub-circuits as a tree under the site: ``parent[k]`` is a circuit index or -1 (the site)."""

    parent: IntArray
    limit_kw: FloatArray
    leaf_of_evse: IntArray  # innermost circuit of each EVSE, -1 when directly under the site


def circuit_tree(problem: Problem) -> CircuitTree | None:
    """The linear limits as a tree of circuits, or None when they are not one.

    A tree needs every limit to have equal positive coefficients (a power sum) and the EVSE sets
    to be laminar: any two are disjoint or one contains the other.
    """
    net = problem.network
    sets: list[np.ndarray] = []
    limits: list[float] = []
    for lim in net.linear:
        coeff = np.zeros(net.n_evse)
        np.add.at(coeff, lim.evse_index, lim.coeff)
        members = np.nonzero(coeff)[0]
        if members.size == 0:
            continue
        c = coeff[members]
        if (c <= 0).any() or np.ptp(c) > 1e-12 * c.max() or lim.limit < 0:
            return None
        mask = np.zeros(net.n_evse, dtype=bool)
        mask[members] = True
        sets.append(mask)
        limits.append(float(lim.limit) / float(c[0]))
    order = sorted(range(len(sets)), key=lambda k: (-int(sets[k].sum()), k))
    parent = np.full(len(sets), -1, dtype=np.int64)
    leaf = np.full(net.n_evse, -1, dtype=np.int64)
    for pos, k in enumerate(order):
        for j in order[:pos]:
            inter = sets[k] & sets[j]
            if not inter.any():
                continue
            if not np.array_equal(inter, sets[k]):
                return None  # overlapping, neither contains the other
            parent[k] = j  # the latest containing set in this order is the smallest one
        leaf[sets[k]] = k
    return CircuitTree(parent, np.asarray(limits, dtype=np.float64), leaf)


def flow_applicable(problem: Problem) -> CircuitTree | None:
    """The circuit tree when ``problem`` is a flow problem (else None).

    Needs: no minimum charging power, no phasor limits, linear limits forming a tree of circuits,
    and no negative price together with PV (the free PV arc must be used first).
    """
    if problem.network.phasor or bool((problem.min_kw > 0).any()):
        return None
    if bool((problem.pv_kw > 0).any()) and bool((problem.price_eur_per_kwh < 0).any()):
        return None
    return circuit_tree(problem)


class _FlowNet:
    """The integer flow network of a problem with its arcs in fixed blocks.

    Arc blocks: source -> session, session -> leaf slot (one per variable), circuit slot -> parent
    slot, site slot -> sink (grid import, priced, capped by the peak), site slot -> sink (PV, free).
    """

    def __init__(self, problem: Problem, tree: CircuitTree, deadline: float | None = None) -> None:
        self.p = problem
        self.deadline = deadline
        _offset, sess, slot = variable_layout(problem)
        n, t_count, k_count = problem.n_sessions, problem.n_slots, tree.parent.size
        self.n, self.t_count, self.nx = n, t_count, sess.size
        self.dt = problem.slot_h
        total = float(problem.energy_kwh.sum())
        self.unit = max(total, 1e-3) / _TOTAL_UNITS  # kWh per flow unit
        self.src = n + (k_count + 1) * t_count
        self.sink = self.src + 1
        self.n_nodes = self.sink + 1

        def slot_node(level: np.ndarray, t: np.ndarray) -> np.ndarray:  # level -1 = site
            return n + (level + 1) * t_count + t

        t_all = np.arange(t_count)
        leaf = tree.leaf_of_evse[problem.evse[sess]]
        circ_k = np.repeat(np.arange(k_count), t_count)
        circ_t = np.tile(t_all, k_count)
        self.has_pv = bool((problem.pv_kw > 0).any())
        tails = [
            np.full(n, self.src),
            sess,
            slot_node(circ_k, circ_t),
            slot_node(np.full(t_count, -1), t_all),
        ]
        heads = [
            np.arange(n),
            slot_node(leaf, slot),
            slot_node(tree.parent[circ_k], circ_t),
            np.full(t_count, self.sink),
        ]
        if self.has_pv:
            tails.append(slot_node(np.full(t_count, -1), t_all))
            heads.append(np.full(t_count, self.sink))
        self.tails = np.concatenate(tails).astype(np.int64)
        self.heads = np.concatenate(heads).astype(np.int64)
        self.n_arcs = self.tails.size
        # block boundaries
        self.b_x = n
        self.b_circ = n + self.nx
        self.b_grid = self.b_circ + k_count * t_count
        self.b_pv = self.b_grid + t_count
        self.sess, self.slot = sess, slot
        self.full = self._units(problem.energy_kwh)
        x_caps = self._units(problem.max_kw[sess] * self.dt)
        window = np.bincount(sess, weights=x_caps.astype(np.float64), minlength=n).astype(np.int64)
        self.deliverable = np.minimum(self.full, window)
        circ_caps = self._units(np.repeat(tree.limit_kw, t_count) * self.dt)
        self.grid_kw = np.maximum(problem.site_limit_kw, 0.0)
        upper = [self.full, x_caps, circ_caps, self._units(self.grid_kw * self.dt)]
        if self.has_pv:
            upper.append(self._units(problem.pv_kw * self.dt))
        self.upper = np.concatenate(upper)
        self.lower = np.zeros(self.n_arcs, dtype=np.int64)
        price = problem.price_eur_per_kwh
        top = float(np.abs(price).max(initial=0.0))
        self.price_scale = _PRICE_UNITS / top if top > 0 else 1.0
        self.cost = np.zeros(self.n_arcs, dtype=np.int64)
        self.cost[self.b_grid : self.b_pv] = np.round(price * self.price_scale).astype(np.int64)
        # the plain max-flow network, and the lower-bound feasibility network: the same arcs plus
        # super source -> node and node -> super sink
        from ortools.graph.python import max_flow

        self._mf = max_flow.SimpleMaxFlow()
        self._mf_arcs = self._mf.add_arcs_with_capacity(self.tails, self.heads, self.upper)
        self.s_star, self.t_star = self.n_nodes, self.n_nodes + 1
        nodes = np.arange(self.n_nodes, dtype=np.int64)
        self._cf = max_flow.SimpleMaxFlow()
        self._cf_arcs = self._cf.add_arcs_with_capacity(
            np.concatenate([self.tails, np.full(self.n_nodes, self.s_star), nodes]),
            np.concatenate([self.heads, nodes, np.full(self.n_nodes, self.t_star)]),
            np.zeros(self.n_arcs + 2 * self.n_nodes, dtype=np.int64),
        )

    def _units(self, kwh: np.ndarray) -> IntArray:
        # no arc ever carries more than the total request: larger capacities (or inf) are clipped
        units = np.minimum(np.maximum(kwh, 0.0) / self.unit * (1 + 1e-12), 4 * _TOTAL_UNITS)
        return np.floor(units).astype(np.int64)

    def upper_at(self, peak_kw: float | None, upper: IntArray | None = None) -> IntArray:
        """Arc capacities with the grid import capped at ``peak_kw`` (None: the site limit)."""
        out = (self.upper if upper is None else upper).copy()
        if peak_kw is not None:
            cap = self._units(np.minimum(self.grid_kw, max(peak_kw, 0.0)) * self.dt)
            out[self.b_grid : self.b_pv] = np.minimum(out[self.b_grid : self.b_pv], cap)
        return out

    def max_flow(self) -> int:
        """The maximum energy (flow units) under the site limit."""
        if self._mf.solve(self.src, self.sink) != self._mf.OPTIMAL:
            raise InfeasibleError("max-flow failed")
        return int(self._mf.optimal_flow())

    def feasible(self, total: int, lower: IntArray, upper: IntArray) -> IntArray | None:
        """A flow of value ``total`` within ``lower <= f <= upper`` (None when there is none)."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise BudgetExceededError("the charging plan exceeded its time budget")
        if (lower > upper).any():
            return None
        excess = np.zeros(self.n_nodes, dtype=np.int64)
        excess[self.src] += total
        excess[self.sink] -= total
        excess += np.bincount(self.heads, weights=lower, minlength=self.n_nodes).astype(np.int64)
        excess -= np.bincount(self.tails, weights=lower, minlength=self.n_nodes).astype(np.int64)
        need = int(np.maximum(excess, 0).sum())
        caps = np.concatenate([upper - lower, np.maximum(excess, 0), np.maximum(-excess, 0)])
        self._cf.set_arcs_capacity(self._cf_arcs, caps)
        if self._cf.solve(self.s_star, self.t_star) != self._cf.OPTIMAL:
            raise InfeasibleError("max-flow failed")
        if int(self._cf.optimal_flow()) < need:
            return None
        flows = np.asarray(self._cf.flows(self._cf_arcs[: self.n_arcs]), dtype=np.int64)
        return lower + flows

    def min_cost(self, total: int, lower: IntArray, upper: IntArray) -> IntArray:
        """The cheapest flow of value ``total`` within ``lower <= f <= upper``."""
        from ortools.graph.python import min_cost_flow

        mcf = min_cost_flow.SimpleMinCostFlow()
        arcs = mcf.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, upper - lower, self.cost)
        supply = np.zeros(self.n_nodes, dtype=np.int64)
        supply[self.src] += total
        supply[self.sink] -= total
        supply += np.bincount(self.heads, weights=lower, minlength=self.n_nodes).astype(np.int64)
        supply -= np.bincount(self.tails, weights=lower, minlength=self.n_nodes).astype(np.int64)
        mcf.set_nodes_supplies(np.arange(self.n_nodes), supply)
        status = mcf.solve()
        if status != mcf.OPTIMAL:
            raise InfeasibleError(f"min-cost flow failed ({status})")
        return lower + np.asarray(mcf.flows(arcs), dtype=np.int64)

    def optimal_face(self, flow: IntArray, lower: IntArray, upper: IntArray) -> tuple[IntArray, IntArray]:
        """Bounds of the face of cost-optimal flows through ``flow`` (an optimum).

        Potentials are shortest distances in the residual network (Bellman-Ford from a virtual
        root; it has no negative cycle at an optimum); arcs of positive reduced cost stay at their
        lower bound, arcs of negative reduced cost at their upper bound in every optimum.
        """
        fwd = flow < upper
        bwd = flow > lower
        r_tail = np.concatenate([self.tails[fwd], self.heads[bwd]])
        r_head = np.concatenate([self.heads[fwd], self.tails[bwd]])
        r_cost = np.concatenate([self.cost[fwd], -self.cost[bwd]])
        order = np.argsort(r_head, kind="stable")
        r_tail, r_head, r_cost = r_tail[order], r_head[order], r_cost[order]
        heads_u, starts = np.unique(r_head, return_index=True)
        dist = np.zeros(self.n_nodes, dtype=np.int64)
        for _ in range(self.n_nodes + 1):
            best = np.minimum.reduceat(dist[r_tail] + r_cost, starts)
            new = dist.copy()
            new[heads_u] = np.minimum(dist[heads_u], best)
            if np.array_equal(new, dist):
                break
            dist = new
        else:  # pragma: no cover - a negative cycle: the flow was not optimal
            raise InfeasibleError("min-cost flow: no optimal potentials")
        reduced = self.cost + dist[self.tails] - dist[self.heads]
        lo, hi = lower.copy(), upper.copy()
        hi[reduced > 0] = lower[reduced > 0]
        lo[reduced < 0] = upper[reduced < 0]
        return lo, hi

    def power_kw(self, flow: IntArray) -> FloatArray:
        """Session-slot powers (kW) of a flow, in the schedule layout."""
        x = flow[self.b_x : self.b_circ].astype(np.float64)
        return np.asarray(x * self.unit / self.dt, dtype=np.float64)

    def cost_eur(self, flow: IntArray) -> float:
        """Energy cost of a flow at the exact prices."""
        grid = flow[self.b_grid : self.b_pv].astype(np.float64) * self.unit
        return float(grid @ self.p.price_eur_per_kwh)


def _bisect(ok: Callable[[float], bool], lo: float, hi: float, abs_tol: float) -> float:
    """The smallest value in ``[lo, hi]`` where the monotone test ``ok`` holds (``ok(hi)`` assumed)."""
    if ok(lo):
        return lo
    while hi - lo > max(_REL_TOL * abs(hi), abs_tol):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return hi


def plan_by_flow(
    problem: Problem,
    objective: str,
    tree: CircuitTree,
    *,
    peak_floor_kw: float = 0.0,
    fairness: bool = True,
    deadline: float | None = None,
) -> tuple[FloatArray, dict[str, float]]:
    """The lexicographically optimal powers (schedule layout) and the stage values, by flows.

    Past ``deadline`` (``time.monotonic()``) the next bisection step raises
    :class:`BudgetExceededError`.
    """
    net = _FlowNet(problem, tree, deadline)
    total = net.max_flow()
    base_upper = net.upper
    zero = np.zeros(net.n_arcs, dtype=np.int64)
    values: dict[str, float] = {"energy": total * net.unit}
    short = total < int(net.deliverable.sum())
    lower = zero
    if fairness and short:

        def lower_at(phi: float) -> IntArray:
            out = zero.copy()
            out[: net.n] = np.floor(phi * net.deliverable).astype(np.int64)
            return out

        # the largest phi that is feasible: bisect on 1 - phi
        gap = _bisect(
            lambda g: net.feasible(total, lower_at(1.0 - g), base_upper) is not None, 0.0, 1.0, 1e-9
        )
        phi = 1.0 - gap
        lower = lower_at(phi)
        values["fairness"] = phi
    has_prices = bool(np.ptp(problem.price_eur_per_kwh) > 0) or net.has_pv
    floor = max(peak_floor_kw, 0.0)
    top = float(net.grid_kw.max(initial=0.0))

    def min_peak(lo_b: IntArray, hi_b: IntArray) -> float:
        def ok(p: float) -> bool:
            return net.feasible(total, lo_b, net.upper_at(p, hi_b)) is not None

        return _bisect(ok, min(floor, top), top, 1e-7)

    flow: IntArray | None
    if objective == "min-peak":
        peak = min_peak(lower, base_upper)
        values["peak"] = peak
        if has_prices:
            flow = net.min_cost(total, lower, net.upper_at(peak))
            values["cost"] = net.cost_eur(flow)
        else:
            flow = net.feasible(total, lower, net.upper_at(peak))
    elif objective == "min-cost":
        if has_prices:
            best = net.min_cost(total, lower, base_upper)
            values["cost"] = net.cost_eur(best)
            face_lo, face_hi = net.optimal_face(best, lower, base_upper)
        else:
            face_lo, face_hi = lower, base_upper
        peak = min_peak(face_lo, face_hi)
        values["peak"] = peak
        flow = net.feasible(total, face_lo, net.upper_at(peak, face_hi))
        if "cost" not in values and flow is not None:
            values["cost"] = net.cost_eur(flow)
    else:
        flow = net.feasible(total, lower, base_upper)
    if flow is None:  # pragma: no cover - every stage keeps a feasible flow
        raise InfeasibleError("flow stages lost feasibility")
    return net.power_kw(flow), values
