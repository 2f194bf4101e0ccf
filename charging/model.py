"""Sites, EVSEs, circuits, sessions and tariffs with real datetimes, and their slot-grid arrays.

Slots are aligned to whole multiples of ``slot_minutes`` from local midnight (of the earliest
arrival's local day, in the offset of that arrival); a session charges only in slots lying wholly
within ``[arrival, departure]``.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from charging.errors import InvalidInputError
from charging.problem import LinearLimit, Network, PhasorLimit, Problem


@dataclass(frozen=True, slots=True)
class SiteEvse:
    """A charging point of the site as the scheduler sees it: its power range and phase wiring.

    Not the OCPI ``charging.points.Evse`` (identity, status, connectors of a public charge point).

    ``phases`` is ``"L1L2L3"`` for three-phase, ``"L1"``/``"L2"``/``"L3"`` for single phase.
    ``phase_angle_deg`` and ``voltage_v`` feed phasor limits (three-phase networks with
    line-to-line connected EVSEs, as at Caltech's ACN).
    """

    evse_id: str
    max_kw: float
    min_kw: float = 0.0
    phases: str = "L1L2L3"
    voltage_v: float = 230.0
    phase_angle_deg: float = 0.0


@dataclass(frozen=True, slots=True)
class Circuit:
    """A sub-circuit with its own limit (kW); its load is its EVSEs plus its child circuits."""

    circuit_id: str
    limit_kw: float
    evse_ids: tuple[str, ...] = ()
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class PhasorConstraint:
    """``|sum_e coefficient_e * I_e| <= limit_a`` with ``I_e`` the EVSE's current phasor."""

    name: str
    coefficients: dict[str, float]
    limit_a: float


@dataclass(frozen=True)
class Site:
    """A site behind one grid connection.

    ``evses`` empty means every EVSE named by a session exists with no limit but the session's.
    ``phase_limits_a`` maps ``"L1"``, ``"L2"``, ``"L3"`` to the fuse current of each phase.
    """

    limit_kw: float
    evses: tuple[SiteEvse, ...] = ()
    circuits: tuple[Circuit, ...] = ()
    phase_limits_a: dict[str, float] = field(default_factory=dict)
    phasor_constraints: tuple[PhasorConstraint, ...] = ()


@dataclass(frozen=True, slots=True)
class Session:
    """A charging session: plugged in from ``arrival`` to ``departure``, wants ``energy_kwh``."""

    session_id: str
    evse_id: str
    arrival: datetime
    departure: datetime
    energy_kwh: float
    max_kw: float


@dataclass(frozen=True, slots=True)
class StepSeries:
    """A step function over time: ``values[k]`` holds from ``starts[k]`` until the next start."""

    starts: tuple[datetime, ...]
    values: tuple[float, ...]

    def at(self, times: Sequence[datetime], what: str) -> np.ndarray:
        """The value at each of ``times`` (error when a time lies before the first start)."""
        if not self.starts:
            raise InvalidInputError(f"{what}: no values")
        keys = np.array([s.timestamp() for s in self.starts])
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        vals = np.array(self.values, dtype=float)[order]
        query = np.array([t.timestamp() for t in times])
        pos = np.searchsorted(keys, query, side="right") - 1
        if (pos < 0).any():
            t = times[int(np.argmax(pos < 0))]
            raise InvalidInputError(f"{what}: no value for the slot starting {t.isoformat()}")
        return vals[pos]


@dataclass(frozen=True, slots=True)
class LimitWindow:
    """A time-varying cap on the grid import, e.g. a §14a EnWG reduction by the grid operator."""

    start: datetime
    end: datetime
    limit_kw: float


@dataclass(frozen=True, slots=True)
class SlotGrid:
    """Slots of ``slot_minutes`` starting at ``start`` (aware)."""

    start: datetime
    slot_minutes: int
    n_slots: int

    def slot_start(self, k: int) -> datetime:
        """Start of slot ``k``."""
        return self.start + timedelta(minutes=self.slot_minutes * k)

    @property
    def slot_h(self) -> float:
        """Slot length in hours."""
        return self.slot_minutes / 60.0


def validate_sessions(sessions: Sequence[Session]) -> None:
    """Raise :class:`InvalidInputError` for the first malformed session."""
    seen: set[str] = set()
    for s in sessions:
        where = f"session {s.session_id}"
        if s.session_id in seen:
            raise InvalidInputError(f"{where}: duplicate session_id")
        seen.add(s.session_id)
        if s.arrival.tzinfo is None or s.departure.tzinfo is None:
            raise InvalidInputError(f"{where}: arrival and departure need a UTC offset")
        if s.departure <= s.arrival:
            raise InvalidInputError(
                f"{where}: departure {s.departure.isoformat()} is not after arrival {s.arrival.isoformat()}"
            )
        if not math.isfinite(s.energy_kwh) or s.energy_kwh < 0:
            raise InvalidInputError(f"{where}: energy_kwh must be >= 0, got {s.energy_kwh}")
        if not math.isfinite(s.max_kw) or s.max_kw <= 0:
            raise InvalidInputError(f"{where}: max_kw must be > 0, got {s.max_kw}")


def slot_grid(sessions: Sequence[Session], slot_minutes: int) -> SlotGrid:
    """The grid covering all sessions, aligned to multiples of ``slot_minutes`` from local midnight."""
    if slot_minutes <= 0:
        raise InvalidInputError(f"slot minutes must be > 0, got {slot_minutes}")
    if not sessions:
        raise InvalidInputError("no sessions")
    first = min(sessions, key=lambda s: s.arrival).arrival
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    step = timedelta(minutes=slot_minutes)
    start = midnight + ((first - midnight) // step) * step
    end = max(s.departure for s in sessions)
    n_slots = max(1, math.ceil((end - start) / step))
    return SlotGrid(start, slot_minutes, n_slots)


def _phase_coeffs(evse: SiteEvse, phase: str) -> float:
    """Current on ``phase`` (A) per kW drawn by ``evse``."""
    parts = [evse.phases[i : i + 2] for i in range(0, len(evse.phases), 2)]
    if phase not in parts:
        return 0.0
    return 1000.0 / (evse.voltage_v * len(parts))


def build_network(site: Site, evse_ids: Sequence[str]) -> Network:
    """The array network of ``site`` over EVSEs in the order ``evse_ids``."""
    if not site.limit_kw > 0:
        raise InvalidInputError(f"site limit must be > 0 kW, got {site.limit_kw}")
    index = {e: k for k, e in enumerate(evse_ids)}
    by_id = {e.evse_id: e for e in site.evses}
    max_kw, min_kw = _evse_bounds(site, index)
    linear = _circuit_limits(site, index, by_id)
    for phase, limit_a in site.phase_limits_a.items():
        if not limit_a > 0:
            raise InvalidInputError(f"phase {phase}: limit must be > 0 A, got {limit_a}")
        coeff = np.array([_phase_coeffs(by_id.get(e, SiteEvse(e, 1.0)), phase) for e in evse_ids])
        use = np.nonzero(coeff)[0]
        linear.append(LinearLimit(f"phase {phase}", use.astype(np.int64), coeff[use], float(limit_a)))
    phasor = [_phasor_limit(pc, index, by_id) for pc in site.phasor_constraints]
    return Network(max_kw, min_kw, tuple(linear), tuple(phasor))


def _evse_bounds(site: Site, index: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Each EVSE's most and least power (kW) in the order of ``index``; unlimited when not given."""
    max_kw = np.full(len(index), math.inf)
    min_kw = np.zeros(len(index))
    for e in site.evses:
        if e.max_kw <= 0 or e.min_kw < 0 or e.min_kw > e.max_kw:
            raise InvalidInputError(f"evse {e.evse_id}: need 0 <= min_kw <= max_kw and max_kw > 0")
        if e.evse_id in index:
            max_kw[index[e.evse_id]] = e.max_kw
            min_kw[index[e.evse_id]] = e.min_kw
    return max_kw, min_kw


def _circuit_limits(site: Site, index: Mapping[str, int], by_id: Mapping[str, SiteEvse]) -> list[LinearLimit]:
    """One limit per circuit over every EVSE below it (its own and its sub-circuits')."""
    circuits = {c.circuit_id: c for c in site.circuits}
    children: dict[str, list[str]] = {c: [] for c in circuits}
    for c in site.circuits:
        if not c.limit_kw > 0:
            raise InvalidInputError(f"circuit {c.circuit_id}: limit must be > 0 kW, got {c.limit_kw}")
        if c.parent_id is not None:
            if c.parent_id not in circuits:
                raise InvalidInputError(f"circuit {c.circuit_id}: unknown parent {c.parent_id!r}")
            children[c.parent_id].append(c.circuit_id)
        for member in c.evse_ids:
            if by_id and member not in by_id:
                raise InvalidInputError(f"circuit {c.circuit_id}: unknown EVSE {member!r}")

    def members(cid: str, path: tuple[str, ...]) -> set[str]:
        if cid in path:
            raise InvalidInputError(f"circuit {cid}: circuits form a cycle")
        out = set(circuits[cid].evse_ids)
        for child in children[cid]:
            out |= members(child, (*path, cid))
        return out

    linear: list[LinearLimit] = []
    for c in site.circuits:
        ids = sorted(e for e in members(c.circuit_id, ()) if e in index)
        if ids:
            linear.append(
                LinearLimit(
                    f"circuit {c.circuit_id}",
                    np.array([index[e] for e in ids]),
                    np.ones(len(ids)),
                    float(c.limit_kw),
                )
            )
    return linear


def _phasor_limit(
    pc: PhasorConstraint, index: Mapping[str, int], by_id: Mapping[str, SiteEvse]
) -> PhasorLimit:
    """The phasor limit of ``pc`` in amperes per kW of each EVSE (230 V, angle 0 when unknown)."""
    if not pc.limit_a > 0:
        raise InvalidInputError(f"constraint {pc.name}: limit must be > 0 A")
    ids = [e for e in pc.coefficients if e in index]
    coeff = np.array(
        [
            pc.coefficients[e]
            * cmath.exp(1j * math.radians(by_id[e].phase_angle_deg))
            * 1000.0
            / by_id[e].voltage_v
            if e in by_id
            else pc.coefficients[e] * 1000.0 / 230.0
            for e in ids
        ],
        dtype=complex,
    )
    return PhasorLimit(pc.name, np.array([index[e] for e in ids], dtype=np.int64), coeff, float(pc.limit_a))


def build_problem(
    site: Site,
    sessions: Sequence[Session],
    slot_minutes: int,
    *,
    prices: StepSeries | None = None,
    pv_kw: StepSeries | None = None,
    limit_windows: Sequence[LimitWindow] = (),
) -> tuple[Problem, SlotGrid, list[str]]:
    """Arrays for the optimiser: the problem, its slot grid and the EVSE ids by index."""
    validate_sessions(sessions)
    if not site.limit_kw > 0:
        raise InvalidInputError(f"site limit must be > 0 kW, got {site.limit_kw}")
    grid = slot_grid(sessions, slot_minutes)
    known = {e.evse_id for e in site.evses}
    evse_ids: list[str] = [e.evse_id for e in site.evses]
    seen = set(evse_ids)
    for s in sessions:
        if known and s.evse_id not in known:
            raise InvalidInputError(f"session {s.session_id}: unknown EVSE {s.evse_id!r}")
        if s.evse_id not in seen:
            seen.add(s.evse_id)
            evse_ids.append(s.evse_id)
    by_evse: dict[str, list[Session]] = {}
    for s in sessions:
        by_evse.setdefault(s.evse_id, []).append(s)
    for evse_id, group in by_evse.items():
        group.sort(key=lambda s: s.arrival)
        for prev, nxt in zip(group, group[1:], strict=False):  # noqa: RUF007
            if nxt.arrival < prev.departure:
                raise InvalidInputError(
                    f"session {nxt.session_id}: overlaps session {prev.session_id} on EVSE {evse_id!r}"
                )
    network = build_network(site, evse_ids)
    index = {e: k for k, e in enumerate(evse_ids)}
    step = timedelta(minutes=slot_minutes)
    evse = np.array([index[s.evse_id] for s in sessions], dtype=np.int64)
    first = np.array([-((grid.start - s.arrival) // step) for s in sessions], dtype=np.int64)
    last = np.array([(s.departure - grid.start) // step for s in sessions], dtype=np.int64)
    last = np.maximum(last, first)
    energy = np.array([s.energy_kwh for s in sessions], dtype=float)
    max_kw = np.minimum(np.array([s.max_kw for s in sessions], dtype=float), network.evse_max_kw[evse])
    min_kw = np.minimum(network.evse_min_kw[evse], max_kw)
    starts = [grid.slot_start(k) for k in range(grid.n_slots)]
    limit = np.full(grid.n_slots, float(site.limit_kw))
    for w in limit_windows:
        a: int
        b: int
        if w.limit_kw < 0:
            raise InvalidInputError(f"limit window from {w.start.isoformat()}: limit must be >= 0 kW")
        a = max(0, int((w.start - grid.start) // step))
        b = min(grid.n_slots, -int((grid.start - w.end) // step))
        limit[a:b] = np.minimum(limit[a:b], w.limit_kw)
    price = prices.at(starts, "prices") if prices is not None else np.zeros(grid.n_slots)
    pv = np.maximum(pv_kw.at(starts, "pv forecast"), 0.0) if pv_kw is not None else np.zeros(grid.n_slots)
    problem = Problem(network, grid.slot_h, limit, evse, first, last, energy, max_kw, min_kw, price, pv)
    return problem, grid, evse_ids
