"""Domain errors of the charging package (the API and CLI translate them at the edge)."""

from __future__ import annotations


class ChargingError(ValueError):
    """Base class of every charging error; its message is one line meant for the user."""


class InvalidInputError(ChargingError):
    """Sessions, site, prices or parameters are malformed or inconsistent."""


class InfeasibleError(ChargingError):
    """The optimisation problem has no feasible schedule (or the solver failed)."""
