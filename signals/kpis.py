"""KPIs from SUMO tripinfo output (RESCO-style) and their aggregation over seeds.

Delay is the mean over *all scheduled* vehicles of ``timeLoss + departDelay``: vehicles still on
the road at the end (``--tripinfo-output.write-unfinished``) count their time loss so far, and
vehicles that never got in (``--tripinfo-output.write-undeparted``) count their waiting time up
to the end of the window as ``departDelay``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from signals.errors import SimulationError

#: KPIs aggregated over seeds (name -> unit) in the comparison table.
RUN_KPIS: dict[str, str] = {
    "delay_s": "s",
    "travel_time_s": "s",
    "waiting_time_s": "s",
    "stops": "per veh",
    "scheduled": "veh",
    "departed": "veh",
    "arrived": "veh",
    "throughput_veh_h": "veh/h",
    "queue_veh": "veh",
    "queue_max_veh": "veh",
    "teleports": "veh",
    "co2_kg": "kg",
    "nox_g": "g",
    "pmx_g": "g",
    "decision_ms": "ms",
}


def tripinfo_kpis(tripinfo: Path, window_s: float) -> dict[str, float]:
    """Per-run KPIs from a tripinfo file written with unfinished and undeparted vehicles."""
    try:
        root = ET.parse(tripinfo).getroot()
    except (ET.ParseError, OSError) as exc:
        raise SimulationError(f"{tripinfo}: unreadable tripinfo output ({exc})") from exc
    delay: list[float] = []
    waiting: list[float] = []
    stops: list[float] = []
    travel: list[float] = []
    departed = arrived = 0
    co2_mg = nox_mg = pmx_mg = 0.0
    for trip in root.iter("tripinfo"):
        depart_delay = float(trip.get("departDelay", 0.0))
        time_loss = float(trip.get("timeLoss", 0.0))
        delay.append(time_loss + depart_delay)
        waiting.append(float(trip.get("waitingTime", 0.0)))
        if trip.get("depart", "-1") not in ("-1", "-1.00"):
            departed += 1
            stops.append(float(trip.get("waitingCount", 0.0)))
        if float(trip.get("arrival", -1.0)) >= 0:
            arrived += 1
            travel.append(float(trip.get("duration", 0.0)))
        em = trip.find("emissions")
        if em is not None:
            co2_mg += float(em.get("CO2_abs", 0.0))
            nox_mg += float(em.get("NOx_abs", 0.0))
            pmx_mg += float(em.get("PMx_abs", 0.0))
    n = len(delay)
    return {
        "delay_s": float(np.mean(delay)) if n else 0.0,
        "travel_time_s": float(np.mean(travel)) if travel else 0.0,
        "waiting_time_s": float(np.mean(waiting)) if n else 0.0,
        "stops": float(np.mean(stops)) if stops else 0.0,
        "scheduled": float(n),
        "departed": float(departed),
        "arrived": float(arrived),
        "throughput_veh_h": arrived * 3600.0 / window_s if window_s > 0 else 0.0,
        "co2_kg": co2_mg / 1e6,
        "nox_g": nox_mg / 1e3,
        "pmx_g": pmx_mg / 1e3,
    }


def confidence_interval(values: list[float], level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval (half-width 0 for one value)."""
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, 0.0
    from scipy import stats

    sem = float(arr.std(ddof=1)) / math.sqrt(arr.size)
    return mean, float(stats.t.ppf(0.5 + level / 2, arr.size - 1) * sem)


def aggregate_runs(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, 95 % CI half-width, min and max of each KPI over runs (seeds)."""
    out: dict[str, dict[str, float]] = {}
    for name in RUN_KPIS:
        values = [float(r[name]) for r in runs if r.get(name) is not None and not math.isnan(float(r[name]))]
        if not values:
            continue
        mean, half = confidence_interval(values)
        out[name] = {"mean": mean, "ci95": half, "min": min(values), "max": max(values), "n": len(values)}
    return out
