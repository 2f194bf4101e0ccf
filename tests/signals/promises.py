"""What an adaptive controller promises, read from its own declared parameters (not restated here)."""

from __future__ import annotations

from dataclasses import dataclass

from signals.controllers import make_controller


@dataclass(frozen=True)
class Promises:
    """Minimum green and maximum red of a controller, and how late its decisions may come."""

    min_green_s: float
    max_green_s: float | None
    max_red_s: float
    decision_s: float
    yellow_s: float

    def red_bound_s(self) -> float:
        """The longest red a link with demand may see: the maximum red is noticed at the next
        decision (which waits for the running green's minimum), then yellow and all-red follow."""
        return self.max_red_s + max(self.decision_s, self.min_green_s) + 2 * self.yellow_s + 1.0


def promises(name: str) -> Promises:
    """The promises of the registered adaptive controller ``name``."""
    ctl = make_controller(name)
    params = getattr(ctl, "params", ctl)
    decision = getattr(params, "decide_every_s", None) or params.period_s
    return Promises(
        min_green_s=float(params.min_green_s),
        max_green_s=getattr(params, "max_green_s", None),
        max_red_s=float(params.max_red_s),
        decision_s=float(decision),
        yellow_s=float(getattr(params, "yellow_s", 3.0)),
    )
