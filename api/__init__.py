"""HTTP API, station display and the ``knoten`` command line; the only layer that sees all packages."""

from api.app import create_app
from api.settings import Settings, load_settings

__all__ = ["Settings", "create_app", "load_settings"]
