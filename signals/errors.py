"""Domain errors of the signals package (the CLI and API turn them into one-line messages)."""

from __future__ import annotations


class SignalsError(Exception):
    """Base class for every error raised by :mod:`signals`."""


class ScenarioError(SignalsError):
    """A scenario definition is missing, malformed or unusable (file, field and reason in the message)."""


class ControllerError(SignalsError):
    """A controller name is unknown or a controller cannot run on the given network."""


class SimulationError(SignalsError):
    """SUMO failed while running a scenario."""
