"""The station display at ``/display/<hub_id>`` (see :mod:`api.display`)."""

from __future__ import annotations

from flask_openapi3 import OpenAPI

from api.display.views import create_display_blueprint
from api.settings import Settings


def register(app: OpenAPI, settings: Settings) -> None:
    """Serve the kiosk board of each hub under ``/display`` and announce the capability."""
    app.register_blueprint(create_display_blueprint(settings))
    app.config["KNOTEN_CAPABILITIES"].append("display")
