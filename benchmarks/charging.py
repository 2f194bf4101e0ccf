"""Smart-charging benchmark: offline optimum vs online policies on real and synthetic sessions.

Run from the repository root (the ACN data lives in ``../shared/data/charging/acn``)::

    .venv/bin/pip install -e '.[bench]'        # acnportal, for its EDF/LLF and constraint check
    .venv/bin/python benchmarks/charging.py    # everything (about 20-30 minutes on 2 cores)
    .venv/bin/python benchmarks/charging.py --only speed,depot

Parts: ``acn`` (Caltech March 2019, one aggregate limit of 20/30/50/80 kW), ``acn3`` (the same
under acnportal's three-phase ``caltech_acn`` network), ``minpeak`` (80 kW, min-peak MPC),
``summer`` (Caltech and JPL May-Aug 2019), ``depot`` (synthetic German depot days), ``speed``.
Percentages are energy delivered / energy requested, as acnportal's
``proportion_of_energy_delivered``. acnportal's conventions: 5-minute periods, 208 V, power in kW =
current in A x 208 V / 1000, EventQueue times are period indices.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from charging.acn import AcnEv, event_queue_sessions, load_acn_csv, load_event_queue  # noqa: E402
from charging.model import (  # noqa: E402
    Circuit,
    PhasorConstraint,
    Session,
    Site,
    SiteEvse,
    StepSeries,
    build_problem,
)
from charging.optimize import optimize, optimize_decomposed  # noqa: E402
from charging.problem import Problem, check_schedule  # noqa: E402
from charging.simulate import simulate  # noqa: E402

DATA = ROOT / ".." / "shared" / "data" / "charging" / "acn"
MARCH = DATA / "caltech_20190301T000000_20190401T000000_5m_208V_6.6kW.json.gz"
LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
VOLTAGE = 208.0
POLICIES = ("uncontrolled", "edf", "llf", "round-robin", "mpc")

warnings.filterwarnings("ignore")


def _acnportal() -> Any:
    try:
        import acnportal.acnsim as acnsim  # type: ignore[import-not-found]
    except ImportError:
        return None
    return acnsim


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _pct(x: float) -> str:
    return f"{x:.2f}"


# -- acnportal side by side -------------------------------------------------------------------------
def acnportal_sorted(
    evs: Sequence[AcnEv], limit_kw: float | None, algo: str, *, three_phase: bool
) -> float | None:
    """acnportal's own EDF/LLF on the same EVs; energy delivered in % (None without acnportal)."""
    acnsim = _acnportal()
    if acnsim is None:
        return None
    from acnportal.acnsim import EV, Battery, EventQueue, PluginEvent, Simulator
    from acnportal.acnsim.models.evse import get_evse_by_type
    from acnportal.acnsim.network import ChargingNetwork, Current
    from acnportal.acnsim.network.sites import caltech_acn
    from acnportal.algorithms import SortedSchedulingAlgo, earliest_deadline_first, least_laxity_first

    if three_phase:
        network = caltech_acn(basic_evse=True, voltage=VOLTAGE, transformer_cap=limit_kw)
    else:
        network = ChargingNetwork()
        ids = caltech_acn(basic_evse=True).station_ids
        for sid in ids:
            network.register_evse(get_evse_by_type(sid, "BASIC"), VOLTAGE, 0)
        network.add_constraint(Current(ids), limit_kw * 1000 / VOLTAGE, name="site")
    events = [
        PluginEvent(
            e.arrival,
            EV(
                e.arrival,
                e.departure,
                e.requested_energy_kwh,
                e.station_id,
                e.session_id,
                Battery(e.requested_energy_kwh, 0, e.max_power_kw),
                e.estimated_departure,
            ),
        )
        for e in evs
    ]
    sort_fn = earliest_deadline_first if algo == "edf" else least_laxity_first
    sim = Simulator(
        network,
        SortedSchedulingAlgo(sort_fn),
        EventQueue(events),
        datetime(2019, 3, 1, tzinfo=LA),
        period=5,
        verbose=False,
    )
    sim.run()
    return 100.0 * float(acnsim.analysis.proportion_of_energy_delivered(sim))


def caltech_phasor_site(transformer_kw: float) -> tuple[Site, Any]:
    """Our site model of acnportal's ``caltech_acn`` (three-phase, line-to-line EVSEs) and the network."""
    from acnportal.acnsim.network.sites import caltech_acn

    net = caltech_acn(basic_evse=True, voltage=VOLTAGE, transformer_cap=transformer_kw)
    ids = list(net.station_ids)
    evses = tuple(
        SiteEvse(i, 32 * VOLTAGE / 1000, 0.0, "L1L2L3", VOLTAGE, float(net._phase_angles[k]))
        for k, i in enumerate(ids)
    )
    constraints = tuple(
        PhasorConstraint(
            str(net.constraint_index[j]),
            {
                ids[k]: float(net.constraint_matrix[j, k])
                for k in range(len(ids))
                if net.constraint_matrix[j, k]
            },
            float(net.magnitudes[j]),
        )
        for j in range(len(net.magnitudes))
    )
    return Site(1e6, evses, phasor_constraints=constraints), net


def acnportal_feasible(net: Any, problem: Problem, evse_ids: list[str], dense_kw: np.ndarray) -> bool:
    """acnportal's own constraint check (``ChargingNetwork.is_feasible``) on our schedule in amps."""
    index = {e: k for k, e in enumerate(net.station_ids)}
    amps = np.zeros((len(index), problem.n_slots))
    for i in range(problem.n_sessions):
        amps[index[evse_ids[problem.evse[i]]]] += dense_kw[i] * 1000 / VOLTAGE
    return bool(net.is_feasible(amps))


# -- ACN March 2019 ---------------------------------------------------------------------------------
def march_sessions() -> tuple[list[AcnEv], list[Session]]:
    """The Caltech sessions of March 2019, as acnportal EVs and as our sessions (5-minute slots)."""
    evs = load_event_queue(MARCH)
    return evs, event_queue_sessions(evs, datetime(2019, 3, 1, tzinfo=LA), 5)


@dataclass
class Outcome:
    """One policy's result on one problem."""

    energy_pct: float
    peak_kw: float
    violations: int
    p95_s: float = math.nan


def run_policies(problem: Problem, policies: Sequence[str], **opts: object) -> dict[str, Outcome]:
    """Replay ``problem`` under each online policy; their outcomes by name."""
    out = {}
    for name in policies:
        t = time.perf_counter()
        _s, m = simulate(problem, name, **opts)
        out[name] = Outcome(m.energy_delivered_pct, m.peak_kw, m.limit_violations, m.solve_time_p95_s)
        print(
            f"  {name:13s} {m.energy_delivered_pct:7.3f}%  peak {m.peak_kw:6.2f} kW  "
            f"violations {m.limit_violations}  solves {m.n_solves}  p95 {m.solve_time_p95_s:.3f} s  "
            f"({time.perf_counter() - t:.0f} s)",
            flush=True,
        )
    return out


def bench_acn(limits: Sequence[float], results: dict[str, Any], acn_limits: Sequence[float]) -> None:
    """Caltech March 2019 under one aggregate limit: offline LP, our policies and acnportal's."""
    evs, sessions = march_sessions()
    print("\n## Caltech March 2019, one aggregate limit")
    table = [
        _row("limit kW", "offline LP", *POLICIES, "acnportal EDF", "acnportal LLF"),
        _row(*["---"] * (len(POLICIES) + 5)),
    ]
    for limit in limits:
        problem, _grid, _ids = build_problem(Site(limit), sessions, 5)
        t = time.perf_counter()
        offline = optimize_decomposed(problem, "max-energy")
        opt_pct = 100 * offline.delivered_kwh().sum() / problem.energy_kwh.sum()
        print(
            f"{limit:g} kW: offline optimum {opt_pct:.3f}% ({time.perf_counter() - t:.0f} s), "
            f"feasible: {check_schedule(offline) == []}",
            flush=True,
        )
        res = run_policies(problem, POLICIES)
        acn_edf = acn_llf = None
        if limit in acn_limits:
            acn_edf = acnportal_sorted(evs, limit, "edf", three_phase=False)
            acn_llf = acnportal_sorted(evs, limit, "llf", three_phase=False)
            print(f"  acnportal EDF {acn_edf}  LLF {acn_llf}", flush=True)
        table.append(
            _row(
                f"{limit:g}",
                _pct(opt_pct),
                *(_pct(res[p].energy_pct) for p in POLICIES),
                "-" if acn_edf is None else _pct(acn_edf),
                "-" if acn_llf is None else _pct(acn_llf),
            )
        )
        results[f"acn_{limit:g}"] = {
            "offline": opt_pct,
            **{p: vars(o) for p, o in res.items()},
            "acnportal_edf": acn_edf,
            "acnportal_llf": acn_llf,
        }
    print("\n" + "\n".join(table))


def bench_acn3(limits: Sequence[float], results: dict[str, Any]) -> None:
    """The three-phase Caltech network (acnportal's constraint set), ours against acnportal's."""
    if _acnportal() is None:
        print("\n## three-phase Caltech network: skipped (install acnportal: pip install -e '.[bench]')")
        return
    evs, sessions = march_sessions()
    print("\n## Caltech March 2019, three-phase caltech_acn network (transformer limit)")
    table = [
        _row(
            "limit kW",
            "offline LP",
            "edf",
            "llf",
            "round-robin",
            "mpc",
            "acnportal EDF",
            "acnportal LLF",
            "acnportal check",
        ),
        _row(*["---"] * 9),
    ]
    for limit in limits:
        site, net = caltech_phasor_site(limit)
        problem, _grid, evse_ids = build_problem(site, sessions, 5)
        t = time.perf_counter()
        offline = optimize_decomposed(problem, "max-energy", fairness=False, tie_break_early=False)
        opt_pct = 100 * offline.delivered_kwh().sum() / problem.energy_kwh.sum()
        ok_offline = acnportal_feasible(net, problem, evse_ids, offline.dense())
        print(
            f"{limit:g} kW: offline LP {opt_pct:.3f}% ({time.perf_counter() - t:.0f} s), "
            f"acnportal feasible: {ok_offline}",
            flush=True,
        )
        checks = [ok_offline]
        res = {}
        for name in ("edf", "llf", "round-robin", "mpc"):
            t = time.perf_counter()
            sched, m = simulate(problem, name)
            feasible = acnportal_feasible(net, problem, evse_ids, sched.dense())
            checks.append(feasible)
            res[name] = Outcome(m.energy_delivered_pct, m.peak_kw, m.limit_violations, m.solve_time_p95_s)
            print(
                f"  {name:13s} {m.energy_delivered_pct:7.3f}%  violations {m.limit_violations}  "
                f"acnportal feasible {feasible}  p95 {m.solve_time_p95_s:.3f} s "
                f"({time.perf_counter() - t:.0f} s)",
                flush=True,
            )
        acn_edf = acnportal_sorted(evs, limit, "edf", three_phase=True)
        acn_llf = acnportal_sorted(evs, limit, "llf", three_phase=True)
        print(f"  acnportal EDF {acn_edf:.3f}  LLF {acn_llf:.3f}", flush=True)
        table.append(
            _row(
                f"{limit:g}",
                _pct(opt_pct),
                *(_pct(res[p].energy_pct) for p in res),
                _pct(acn_edf),
                _pct(acn_llf),
                "all feasible" if all(checks) else "VIOLATION",
            )
        )
        results[f"acn3_{limit:g}"] = {
            "offline": opt_pct,
            **{p: vars(o) for p, o in res.items()},
            "acnportal_edf": acn_edf,
            "acnportal_llf": acn_llf,
            "acnportal_feasible": all(checks),
        }
    print("\n" + "\n".join(table))


def bench_minpeak(results: dict[str, Any]) -> None:
    """The lowest peak that still delivers the most energy, for Caltech March 2019."""
    _evs, sessions = march_sessions()
    problem, _grid, _ids = build_problem(Site(80.0), sessions, 5)
    print("\n## Caltech March 2019, 80 kW, minimum peak")
    best = optimize_decomposed(problem, "min-peak")
    deliverable = best.delivered_kwh().sum()
    print(
        f"offline: min peak {best.peak_kw():.2f} kW delivering "
        f"{100 * deliverable / problem.energy_kwh.sum():.3f}%"
    )
    _s, unc = simulate(problem, "uncontrolled")
    sched, m = simulate(problem, "mpc", objective="min-peak")
    share = 100 * sched.delivered_kwh().sum() / deliverable
    print(
        f"uncontrolled peak {unc.peak_kw:.2f} kW; mpc min-peak: peak {m.peak_kw:.2f} kW "
        f"({m.peak_kw / best.peak_kw():.3f} x optimum), {share:.3f}% of deliverable, "
        f"violations {m.limit_violations}, p95 {m.solve_time_p95_s:.3f} s"
    )
    results["minpeak_80"] = {
        "optimal_peak_kw": best.peak_kw(),
        "mpc_peak_kw": m.peak_kw,
        "mpc_share_of_deliverable_pct": share,
        "uncontrolled_peak_kw": unc.peak_kw,
        "violations": m.limit_violations,
    }


def _unique_evses(sessions: list[Session]) -> list[Session]:
    """Give overlapping sessions at one station (data glitches) their own EVSE id."""
    busy: dict[str, datetime] = {}
    out = []
    for s in sorted(sessions, key=lambda s: s.arrival):
        evse = s.evse_id
        if busy.get(evse, s.arrival) > s.arrival:
            evse = f"{s.evse_id}#{s.session_id}"
        busy[s.evse_id] = max(busy.get(s.evse_id, s.departure), s.departure)
        out.append(Session(s.session_id, evse, s.arrival, s.departure, s.energy_kwh, s.max_kw))
    return out


def bench_summer(limits: Sequence[float], results: dict[str, Any]) -> None:
    """Caltech and JPL, May-August 2019, under one aggregate limit."""
    print("\n## Caltech and JPL, May-Aug 2019 (ACN-Data CSV), one aggregate limit")
    table = [_row("site", "limit kW", "offline LP", *POLICIES), _row(*["---"] * (len(POLICIES) + 3))]
    for site_name in ("caltech", "jpl"):
        raw = load_acn_csv(DATA / f"{site_name}_2019-05-01_2019-08-31.csv.gz", max_kw=6.6)
        sessions = _unique_evses([s for s in raw if s.departure > s.arrival])
        for limit in limits:
            problem, _grid, _ids = build_problem(Site(limit), sessions, 5)
            offline = optimize_decomposed(problem, "max-energy", fairness=False)
            opt_pct = 100 * offline.delivered_kwh().sum() / problem.energy_kwh.sum()
            print(
                f"{site_name} {limit:g} kW ({problem.n_sessions} sessions): offline {opt_pct:.3f}%",
                flush=True,
            )
            res = run_policies(problem, POLICIES)
            table.append(
                _row(site_name, f"{limit:g}", _pct(opt_pct), *(_pct(res[p].energy_pct) for p in POLICIES))
            )
            results[f"{site_name}_summer_{limit:g}"] = {
                "offline": opt_pct,
                **{p: vars(o) for p, o in res.items()},
            }
    print("\n" + "\n".join(table))


# -- synthetic German depot days -----------------------------------------------------------------------
def depot_day(n: int, seed: int = 1) -> list[Session]:
    """A fleet depot day: vans arrive 15:00-20:00, leave 05:00-08:00, want 20-70 kWh, 11 kW chargers."""
    rng = random.Random(seed)
    day = datetime(2026, 11, 27, tzinfo=BERLIN)
    out = []
    for i in range(n):
        arrival = day + timedelta(hours=15, minutes=rng.randint(0, 300))
        departure = day + timedelta(days=1, hours=5, minutes=rng.randint(0, 180))
        out.append(Session(f"v{i}", f"P{i}", arrival, departure, round(rng.uniform(20, 70), 2), 11.0))
    return out


def bench_depot(sizes: Sequence[int], results: dict[str, Any], mpc_max: int) -> None:
    """Synthetic German depot days of growing size."""
    print("\n## Synthetic German depot days (11 kW chargers, limit = 75% of the requests spread over 12 h)")
    table = [_row("sessions", "limit kW", "offline LP", *POLICIES), _row(*["---"] * (len(POLICIES) + 3))]
    for n in sizes:
        sessions = depot_day(n)
        # tight: the vans stay 9-17 h; 75% of the energy spread over 12 h
        limit = round(0.75 * sum(s.energy_kwh for s in sessions) / 12.0, 0)
        problem, _grid, _ids = build_problem(Site(limit), sessions, 5)
        t = time.perf_counter()
        offline = optimize(problem, "max-energy", tie_break_early=False)
        opt_pct = 100 * offline.delivered_kwh().sum() / problem.energy_kwh.sum()
        print(
            f"{n} sessions, {limit:g} kW: offline {opt_pct:.3f}% ({time.perf_counter() - t:.1f} s)",
            flush=True,
        )
        names = [p for p in POLICIES if p != "mpc" or n <= mpc_max]
        res = run_policies(problem, names)
        table.append(
            _row(
                n,
                f"{limit:g}",
                _pct(opt_pct),
                *(_pct(res[p].energy_pct) if p in res else "-" for p in POLICIES),
            )
        )
        results[f"depot_{n}"] = {
            "limit_kw": limit,
            "offline": opt_pct,
            **{p: vars(o) for p, o in res.items()},
        }
    print("\n" + "\n".join(table))


# -- speed --------------------------------------------------------------------------------------------
def bench_speed(results: dict[str, Any], repeats: int, *, check_lp: bool = False) -> None:
    """Solve times of the offline plans and of the online policies."""
    print("\n## Speed")
    times: list[float] = []
    lp_times: list[float] = []
    rng = np.random.default_rng(3)
    for _ in range(repeats):  # one MPC step: 54 sessions present, 144 five-minute slots ahead
        n, t_count = 54, 144
        last = rng.integers(12, t_count + 1, n)
        last[0] = t_count
        problem = Problem(
            _flat_network(n),
            5 / 60,
            np.full(t_count, 60.0),
            np.arange(n),
            np.zeros(n, dtype=np.int64),
            last,
            rng.uniform(2, 40, n),
            np.full(n, 6.6),
            np.zeros(n),
        )
        t = time.perf_counter()
        optimize(problem, "max-energy", fairness=False)  # exactly what the mpc policy solves per step
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        optimize(problem, "max-energy", fairness=True)  # the general LP path with all stages, for comparison
        lp_times.append(time.perf_counter() - t)
    p50, p95 = np.percentile(times, [50, 95])
    print(
        f"MPC step 54 sessions x 144 slots (max-energy, 60 kW): p50 {p50:.3f} s, "
        f"p95 {p95:.3f} s over {repeats}; general LP path (energy, fairness, early): "
        f"p50 {np.percentile(lp_times, 50):.3f} s, p95 {np.percentile(lp_times, 95):.3f} s"
    )
    results["speed"] = {"mpc_step_p50_s": p50, "mpc_step_p95_s": p95}
    bench_offline(results, check_lp=check_lp)


def _tou_prices(day: datetime) -> StepSeries:
    """Hourly time-of-use prices: cheap nights, an evening peak, a little noise per hour."""
    rng = random.Random(7)
    starts, values = [], []
    for h in range(24):
        base = 0.22 if h < 6 else (0.38 if 17 <= h < 21 else 0.30)
        starts.append(day + timedelta(hours=h))
        values.append(round(base + rng.uniform(-0.03, 0.03), 4))
    return StepSeries(tuple(starts), tuple(values))


def _circuit_site(limit_kw: float, n: int) -> Site:
    """A depot tree: 10 feeders of 100 chargers (limit 150 kW), each with 4 groups of 25 (45 kW)."""
    evses = tuple(SiteEvse(f"E{i}", 11.0) for i in range(n))
    circuits = []
    for f in range(n // 100):
        circuits.append(Circuit(f"F{f}", 150.0))
        for g in range(4):
            ids = tuple(f"E{i}" for i in range(f * 100 + g * 25, f * 100 + (g + 1) * 25) if i < n)
            circuits.append(Circuit(f"F{f}G{g}", 45.0, ids, parent_id=f"F{f}"))
    return Site(limit_kw, evses, tuple(circuits))


def reference_lp(problem: Problem) -> dict[str, float]:
    """An independent LP (scipy/HiGHS): max energy; then, energy kept, min peak and (apart) min cost.

    No fairness stage, so this is what a plain lexicographic LP reaches; site limit and linear limits.
    """
    import scipy.sparse as sp
    from scipy.optimize import linprog

    from charging.problem import variable_layout

    _off, sess, slot = variable_layout(problem)
    nx, n, t_count, dt = sess.size, problem.n_sessions, problem.n_slots, problem.slot_h
    cols = np.arange(nx)
    blocks = [sp.csr_matrix((np.full(nx, dt), (sess, cols)), shape=(n, nx + 1))]
    rhs = [problem.energy_kwh]
    blocks.append(sp.csr_matrix((np.ones(nx), (slot, cols)), shape=(t_count, nx + 1)))
    rhs.append(problem.site_limit_kw + problem.pv_kw)
    for lim in problem.network.linear:
        coeff = np.zeros(problem.network.n_evse)
        np.add.at(coeff, lim.evse_index, lim.coeff)
        c = coeff[problem.evse[sess]]
        blocks.append(sp.csr_matrix((c, (slot, cols)), shape=(t_count, nx + 1)))
        rhs.append(np.full(t_count, lim.limit))
    load = sp.csr_matrix((np.ones(nx), (slot, cols)), shape=(t_count, nx))
    blocks.append(sp.hstack([load, -np.ones((t_count, 1))]).tocsr())
    rhs.append(problem.pv_kw)
    a_ub = sp.vstack(blocks).tocsr()
    b_ub = np.concatenate(rhs)
    bounds = np.zeros((nx + 1, 2))
    bounds[:nx, 1] = problem.max_kw[sess]
    bounds[nx, 1] = np.inf
    energy_c = np.zeros(nx + 1)
    energy_c[:nx] = dt
    res = linprog(-energy_c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    energy = float(energy_c @ res.x)
    a_keep = sp.vstack([a_ub, sp.csr_matrix(-energy_c)]).tocsr()
    b_keep = np.concatenate([b_ub, [-energy * (1 - 1e-9)]])
    peak_c = np.zeros(nx + 1)
    peak_c[nx] = 1.0
    peak = float(linprog(peak_c, A_ub=a_keep, b_ub=b_keep, bounds=bounds, method="highs").fun)
    out = {"energy_kwh": energy, "peak_kw": peak}
    if np.ptp(problem.price_eur_per_kwh) > 0 and not (problem.pv_kw > 0).any():
        cost_c = np.zeros(nx + 1)
        cost_c[:nx] = problem.price_eur_per_kwh[slot] * dt
        out["cost_eur"] = float(linprog(cost_c, A_ub=a_keep, b_ub=b_keep, bounds=bounds, method="highs").fun)
    return out


def bench_offline(results: dict[str, Any], *, check_lp: bool) -> None:
    """Offline plans of 1,000 sessions x 288 five-minute slots, as ``knoten charging plan`` runs them."""
    from charging.plan import plan

    sessions = _spread_day(1000)
    day = datetime(2026, 11, 27, tzinfo=BERLIN)
    prices = _tou_prices(day)
    cases: list[tuple[str, float, str, StepSeries | None, Site | None]] = []
    for limit in (2000.0, 1000.0):
        cases += [
            ("site", limit, "min-peak", None, None),
            ("site", limit, "max-energy", None, None),
            ("site, ToU prices", limit, "min-peak", prices, None),
            ("site, ToU prices", limit, "min-cost", prices, None),
        ]
    for limit in (2000.0, 1000.0):
        cases += [
            ("circuit tree", limit, "min-peak", None, _circuit_site(limit, 1000)),
            ("circuit tree, ToU prices", limit, "min-cost", prices, _circuit_site(limit, 1000)),
        ]
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(
        f"\nOffline plan, 1,000 sessions x 288 five-minute slots (charging.plan.plan; load average {load}):"
    )
    rows = []
    for what, limit, objective, price, site in cases:
        t = time.perf_counter()
        result = plan(sessions, limit, 5, objective, prices=price, site=site)
        elapsed = time.perf_counter() - t
        sched = result.schedule
        line = (
            f"  {what:25s} {limit:6.0f} kW {objective:10s}: {elapsed:5.2f} s  "
            f"energy {sched.delivered_kwh().sum():9.2f} kWh  peak {sched.peak_kw():8.2f} kW  "
            f"cost {sched.energy_cost_eur():8.2f} EUR"
        )
        row = {
            "case": what,
            "limit_kw": limit,
            "objective": objective,
            "seconds": elapsed,
            "energy_kwh": float(sched.delivered_kwh().sum()),
            "peak_kw": sched.peak_kw(),
            "cost_eur": sched.energy_cost_eur(),
        }
        if check_lp:
            ref = reference_lp(sched.problem)
            row["lp"] = ref
            line += f"  | LP: energy {row['energy_kwh'] / ref['energy_kwh']:.7f} x"
            if objective == "min-peak":
                line += f", peak {row['peak_kw'] / ref['peak_kw']:.7f} x"
            if objective == "min-cost" and "cost_eur" in ref:
                line += f", cost {row['cost_eur'] / ref['cost_eur']:.7f} x"
        print(line, flush=True)
        rows.append(row)
    results["offline_1000x288"] = rows
    bench_cli(sessions, prices, results)


def bench_cli(sessions: Sequence[Session], prices: StepSeries, results: dict[str, Any]) -> None:
    """Wall time of ``knoten charging plan`` itself (start-up, CSV in and out included)."""
    import subprocess
    import tempfile

    knoten = Path(sys.executable).parent / "knoten"
    if not knoten.exists():
        print("knoten console script not found: skipping the CLI timings")
        return
    print("\n`knoten charging plan`, 1,000 sessions x 288 slots, wall time:")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        s_csv, p_csv, out = Path(tmp) / "S.csv", Path(tmp) / "P.csv", Path(tmp) / "PLAN.csv"
        lines = ["session_id,evse_id,arrival,departure,energy_kwh,max_kw"]
        lines += [
            f"{s.session_id},{s.evse_id},{s.arrival.isoformat()},{s.departure.isoformat()},{s.energy_kwh},{s.max_kw}"
            for s in sessions
        ]
        s_csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
        p_lines = ["slot_start,price_eur_per_kwh"]
        p_lines += [f"{t.isoformat()},{v}" for t, v in zip(prices.starts, prices.values, strict=True)]
        p_csv.write_text("\n".join(p_lines) + "\n", encoding="utf-8")
        for limit in (2000, 1000):
            for objective, with_prices in (
                ("min-peak", False),
                ("max-energy", False),
                ("min-peak", True),
                ("min-cost", True),
            ):
                cmd = [
                    str(knoten),
                    "charging",
                    "plan",
                    "--sessions",
                    str(s_csv),
                    "--site-limit-kw",
                    str(limit),
                ]
                cmd += ["--slot-minutes", "5", "--objective", objective, "--out", str(out)]
                if with_prices:
                    cmd += ["--prices", str(p_csv)]
                t = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                elapsed = time.perf_counter() - t
                what = f"{limit} kW {objective}{' --prices (ToU)' if with_prices else ''}"
                summary = proc.stdout.strip().split(": ", 1)[-1][:80]
                print(f"  {what:36s} {elapsed:5.2f} s  exit {proc.returncode}  {summary}")
                rows.append({"case": what, "seconds": elapsed, "exit": proc.returncode})
    results["cli_1000x288"] = rows


def _flat_network(n: int) -> Any:
    from charging.problem import Network

    return Network.simple(n, 6.6)


def _spread_day(n: int) -> list[Session]:
    """1,000 sessions across one day (288 five-minute slots), 11 kW, 2-10 h stays."""
    rng = random.Random(5)
    day = datetime(2026, 11, 27, tzinfo=BERLIN)
    out = []
    for i in range(n):
        stay = rng.randint(24, 120)
        start = rng.randint(0, 288 - stay)
        arrival = day + timedelta(minutes=5 * start)
        out.append(
            Session(
                f"s{i}",
                f"E{i}",
                arrival,
                arrival + timedelta(minutes=5 * stay),
                round(rng.uniform(5, 60), 2),
                11.0,
            )
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        default="acn,acn3,minpeak,speed,depot,summer",
        help="comma-separated parts: acn, acn3, minpeak, summer, depot, speed",
    )
    parser.add_argument("--limits", default="20,30,50,80")
    parser.add_argument("--three-phase-limits", default="30")
    parser.add_argument("--acnportal-limits", default="30", help="aggregate limits also run with acnportal")
    parser.add_argument("--depot-sizes", default="50,200,1000")
    parser.add_argument("--mpc-depot-max", type=int, default=1000, help="largest depot replayed with mpc")
    parser.add_argument("--speed-repeats", type=int, default=40)
    parser.add_argument(
        "--check-lp", action="store_true", help="check the offline plans against an independent LP (HiGHS)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write all figures to this file")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    limits = [float(x) for x in args.limits.split(",")]
    results: dict[str, Any] = {}
    if not DATA.is_dir() and parts & {"acn", "acn3", "minpeak", "summer"}:
        print(f"ACN data not found in {DATA}: skipping the ACN parts")
        parts -= {"acn", "acn3", "minpeak", "summer"}
    if "speed" in parts:
        bench_speed(results, args.speed_repeats, check_lp=args.check_lp)
    if "acn" in parts:
        bench_acn(limits, results, [float(x) for x in args.acnportal_limits.split(",") if x])
    if "minpeak" in parts:
        bench_minpeak(results)
    if "acn3" in parts:
        bench_acn3([float(x) for x in args.three_phase_limits.split(",")], results)
    if "depot" in parts:
        bench_depot([int(x) for x in args.depot_sizes.split(",")], results, args.mpc_depot_max)
    if "summer" in parts:
        bench_summer(limits, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
