"""PNG plots of a comparison: delay per controller (95 % CI) and queue over time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_delay(summaries: Sequence[dict[str, Any]], path: Path, title: str) -> Path:
    """Bar chart of mean delay per controller with 95 % confidence intervals."""
    names = [s["controller"] for s in summaries]
    means = [s["aggregate"]["delay_s"]["mean"] for s in summaries]
    cis = [s["aggregate"]["delay_s"]["ci95"] for s in summaries]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(names)), 3.5))
    ax.bar(names, means, yerr=cis, capsize=4, color="#4C72B0")
    ax.set_ylabel("delay per vehicle [s]")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_queue(summaries: Sequence[dict[str, Any]], path: Path, title: str) -> Path:
    """Halting vehicles on all signal approaches over time (mean over seeds) per controller."""
    fig, ax = plt.subplots(figsize=(7.0, 3.5))
    for s in summaries:
        series = [r["queue_series"] for r in s["runs"] if r.get("queue_series")]
        if not series:
            continue
        n = min(len(x["time_s"]) for x in series)
        t = np.asarray(series[0]["time_s"][:n])
        q = np.mean([np.asarray(x["halting_veh"][:n]) for x in series], axis=0)
        ax.plot(t, q, label=s["controller"], linewidth=1.2)
    ax.set_xlabel("simulation time [s]")
    ax.set_ylabel("halting vehicles")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
