"""``knoten charging``: offline charging plans, online replays and charging-profile export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from api.cli.progress import progress_bar
from api.errors import CliError
from charging.ocpp import PROFILE_FORMATS
from charging.optimize import OBJECTIVES
from charging.policies import POLICIES

_PATH = click.Path(dir_okay=False, path_type=Path)
_IN = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("charging")
def charging() -> None:
    """Smart charging: optimal plans, online policies, OCPP/OCPI profiles."""


def _positive_limit(value: float) -> float:
    if not value > 0:
        raise CliError(f"--site-limit-kw must be > 0, got {value:g}", 2)
    return value


def _announce_size(inputs: dict[str, Any], slot_minutes: int) -> None:
    """Print the size of the problem about to be solved; refuse one this machine cannot hold."""
    import os

    from charging.limits import problem_size

    size = problem_size(inputs["sessions"], slot_minutes)
    click.echo(f"Solving {size.describe()}")
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not on Linux/macOS
        return
    if size.estimated_bytes() > memory:
        raise CliError(
            f"problem too large for this machine: {size.describe()} needs about "
            f"{size.estimated_bytes() / 2**30:.0f} GiB, more than its {memory / 2**30:.0f} GiB "
            "(use longer slots or fewer sessions)",
            1,
        )


def _inputs(
    sessions: Path, prices: Path | None, pv: Path | None, limits: Path | None, evses: Path | None
) -> dict[str, Any]:
    from charging.csvio import read_evses, read_limit_windows, read_prices, read_pv, read_sessions

    out: dict[str, Any] = {"sessions": read_sessions(sessions)}
    out["prices"] = read_prices(prices) if prices else None
    out["pv_kw"] = read_pv(pv) if pv else None
    out["limit_windows"] = read_limit_windows(limits) if limits else ()
    if evses is not None:
        if evses.suffix.lower() == ".json":
            out["evses"] = _ocpi_evses(evses)
        else:
            out["evses"] = read_evses(evses)
    return out


def _ocpi_evses(path: Path) -> list[Any]:
    from charging.model import SiteEvse
    from charging.points import parse_locations

    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"{path}: not valid JSON ({exc})", 1) from exc
    out = []
    for loc in parse_locations(payload):
        for e in loc.evses:
            key = e.evse_id or e.uid
            out.append(SiteEvse(key, e.max_power_kw or 22.0, 0.0, "L1L2L3" if e.phases == 3 else "L1"))
    return out


_common = [
    click.option(
        "--sessions",
        "sessions_csv",
        type=_IN,
        required=True,
        help="Sessions CSV: session_id,evse_id,arrival,departure,energy_kwh,max_kw.",
    ),
    click.option(
        "--site-limit-kw", type=float, required=True, help="Grid-connection limit of the site (kW)."
    ),
    click.option(
        "--prices",
        "prices_csv",
        type=_IN,
        default=None,
        help="Time-of-use prices CSV: slot_start,price_eur_per_kwh.",
    ),
    click.option("--pv", "pv_csv", type=_IN, default=None, help="PV forecast CSV: slot_start,pv_kw."),
    click.option(
        "--limit-windows",
        "limits_csv",
        type=_IN,
        default=None,
        help="Time-varying grid limits (e.g. §14a EnWG) CSV: start,end,limit_kw.",
    ),
    click.option(
        "--evses",
        "evses_path",
        type=_IN,
        default=None,
        help="Known EVSEs: CSV evse_id,max_kw[,min_kw][,phases] or OCPI 2.2.1 Locations JSON.",
    ),
]


def _with_common(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_common):
        f = option(f)
    return f


@charging.command("plan")
@_with_common
@click.option("--slot-minutes", type=click.IntRange(min=1), required=True, help="Slot length in minutes.")
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    required=True,
    help="After delivering as much energy as possible: minimise the peak or the cost.",
)
@click.option("--out", "out_csv", type=_PATH, required=True, help="PLAN.csv: session_id,slot_start,power_kw.")
@click.option(
    "--profiles",
    "profiles_path",
    type=_PATH,
    default=None,
    help="Also write charging profiles (JSON) to this file.",
)
@click.option("--profile-format", type=click.Choice(PROFILE_FORMATS), default="ocpp201", show_default=True)
@click.option("--rate-unit", type=click.Choice(["W", "A"]), default="W", show_default=True)
def plan_command(
    sessions_csv: Path,
    site_limit_kw: float,
    prices_csv: Path | None,
    pv_csv: Path | None,
    limits_csv: Path | None,
    evses_path: Path | None,
    slot_minutes: int,
    objective: str,
    out_csv: Path,
    profiles_path: Path | None,
    profile_format: str,
    rate_unit: str,
) -> None:
    """Plan charging offline: as much energy as the limits allow, then OBJECTIVE."""
    from charging.csvio import write_plan
    from charging.plan import plan

    _positive_limit(site_limit_kw)
    inputs = _inputs(sessions_csv, prices_csv, pv_csv, limits_csv, evses_path)
    _announce_size(inputs, slot_minutes)
    with progress_bar("Optimising") as progress:
        result = plan(
            site_limit_kw=site_limit_kw,
            slot_minutes=slot_minutes,
            objective=objective,
            progress=progress,
            **inputs,
        )
    rows = write_plan(out_csv, result.schedule, result.grid, result.session_ids)
    if profiles_path is not None:
        _write_profiles(profiles_path, result, profile_format, rate_unit)
    s = result.summary()
    click.echo(
        f"{s['sessions']} sessions, {s['slots']} slots of {slot_minutes} min: "
        f"{s['energy_delivered_kwh']:.2f} of {s['energy_requested_kwh']:.2f} kWh "
        f"({s['energy_delivered_pct']:.2f}%), peak {s['peak_kw']:.2f} kW, "
        f"cost {s['energy_cost_eur']:.2f} EUR; "
        f"{rows} rows in {out_csv}"
    )


def _write_profiles(path: Path, result: Any, fmt: str, unit: str) -> None:
    from charging.ocpp import profiles_for

    payload = profiles_for(fmt, result.schedule, result.grid, result.session_ids, result.evse_ids, unit=unit)
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


@charging.command("simulate")
@_with_common
@click.option("--policy", type=click.Choice(sorted(POLICIES)), required=True, help="Online policy.")
@click.option("--slot-minutes", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--objective",
    type=click.Choice(OBJECTIVES),
    default="max-energy",
    show_default=True,
    help="Objective of the mpc policy.",
)
@click.option("--demand-charge-eur-per-kw", type=float, default=0.0, show_default=True)
@click.option("--out", "out_json", type=_PATH, required=True, help="metrics.json")
def simulate_command(
    sessions_csv: Path,
    site_limit_kw: float,
    prices_csv: Path | None,
    pv_csv: Path | None,
    limits_csv: Path | None,
    evses_path: Path | None,
    policy: str,
    slot_minutes: int,
    objective: str,
    demand_charge_eur_per_kw: float,
    out_json: Path,
) -> None:
    """Replay the sessions under an online POLICY (no foresight) and write its metrics."""
    from charging.plan import replay

    _positive_limit(site_limit_kw)
    inputs = _inputs(sessions_csv, prices_csv, pv_csv, limits_csv, evses_path)
    _announce_size(inputs, slot_minutes)
    with progress_bar(f"Replaying {policy}") as progress:
        _result, metrics = replay(
            site_limit_kw=site_limit_kw,
            policy=policy,
            slot_minutes=slot_minutes,
            objective=objective,
            demand_charge_eur_per_kw=demand_charge_eur_per_kw,
            progress=progress,
            **inputs,
        )
    body = {k: (None if isinstance(v, float) and v != v else v) for k, v in metrics.to_dict().items()}
    body["site_limit_kw"] = site_limit_kw
    body["slot_minutes"] = slot_minutes
    if out_json.parent and not out_json.parent.exists():
        out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    click.echo(
        f"{policy}: {metrics.energy_delivered_pct:.2f}% of energy, "
        f"{metrics.demands_met_pct:.1f}% of demands met, "
        f"peak {metrics.peak_kw:.2f} kW, {metrics.limit_violations} limit violations"
    )
