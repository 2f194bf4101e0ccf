"""HTTP API and the ``knoten`` command line; the only layer that sees all packages.

- ``app.py``: the Flask app factory ``create_app(settings)``; ``errors.py``: problem+json.
- ``routes/<capability>.py``: each capability's HTTP routes with one ``register(app, settings)``.
- ``cli/``: the ``knoten`` command (``cli/main.py`` maps every error to one line in one place).
- ``display/``: where the kiosk page (templates, static files) goes.
- ``settings.py``: ``knoten.toml``, environment variables and flags.

The demo city generator is not here: it is ``scenarios.demo``. ``create_app`` and the settings are
imported lazily, so that the command line starts without loading the web stack.
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
