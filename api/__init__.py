"""HTTP API, the demo city and the ``knoten`` command line; the only layer that sees all packages.

``create_app`` and the settings are imported lazily, so that the command line starts without
loading the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.app import create_app
    from api.settings import Settings, load_settings

__all__ = ["Settings", "create_app", "load_settings"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from api.app import create_app

        return create_app
    if name in {"Settings", "load_settings"}:
        from api import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'api' has no attribute {name!r}")
