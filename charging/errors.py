"""Domain errors of the charging package (the API and CLI translate them at the edge)."""

from __future__ import annotations


class ChargingError(ValueError):
    """Base class of every charging error; its message is one line meant for the user."""


class InvalidInputError(ChargingError):
    """Sessions, site, prices or parameters are malformed or inconsistent."""


class InfeasibleError(ChargingError):
    """The optimisation problem has no feasible schedule (or the solver failed)."""


class LimitExceededError(InvalidInputError):
    """A number is not finite or beyond its plausible range, or the problem is too large.

    ``field`` names the input (``sessions[3].max_kw``, ``session_slots``), ``value`` what was
    given, ``limit`` the bound it broke and ``constraint`` its kind (``maximum``, ``minimum``,
    ``exclusiveMinimum``, ``finite``, ``range``).
    """

    def __init__(
        self, field: str, value: object, limit: object, message: str, constraint: str = "maximum"
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.limit = limit
        self.constraint = constraint


class BudgetExceededError(ChargingError):
    """The solve ran out of its time budget before it found the plan."""
