"""Registry of signal controllers, chosen by name in scenario files and CLI flags."""

from __future__ import annotations

from collections.abc import Callable

from signals.controllers.base import Controller, PhaseDriver, RunContext
from signals.controllers.fixed import ActuatedController, PlanController, StaticController, WebsterController
from signals.controllers.knoten import KnotenController
from signals.controllers.max_pressure import MaxPressureController
from signals.errors import ControllerError

CONTROLLERS: dict[str, Callable[[], Controller]] = {
    "static": StaticController,
    "actuated": ActuatedController,
    "webster": WebsterController,
    "max-pressure": MaxPressureController,
    "knoten": KnotenController,
    "plan": PlanController,
}

#: Controllers compared by default (``plan`` needs a plan file and is used by ``optimise``).
BASELINES: tuple[str, ...] = ("static", "actuated", "webster", "max-pressure")


def register(name: str, factory: Callable[[], Controller]) -> None:
    """Add a controller under ``name`` (overwrites an existing entry)."""
    CONTROLLERS[name] = factory


def make_controller(name: str) -> Controller:
    """A fresh controller instance by registry name."""
    try:
        factory = CONTROLLERS[name]
    except KeyError:
        known = ", ".join(sorted(CONTROLLERS))
        raise ControllerError(f"unknown controller {name!r} (known: {known})") from None
    return factory()


__all__ = [
    "BASELINES",
    "CONTROLLERS",
    "Controller",
    "PhaseDriver",
    "RunContext",
    "make_controller",
    "register",
]
