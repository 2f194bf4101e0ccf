"""``GET /health``: liveness and basic facts about the running service."""

from __future__ import annotations

from flask import Response, current_app, jsonify
from flask_openapi3 import OpenAPI, Tag
from pydantic import BaseModel

from api.app import api_version, rfc3339_now
from api.settings import Settings

health_tag = Tag(name="health", description="Service liveness")


class HealthResponse(BaseModel):
    """Liveness and basic facts about the running service."""

    status: str
    version: str
    time: str
    timezone: str
    capabilities: list[str]


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach ``GET /health`` to ``app``."""

    @app.get("/health", tags=[health_tag], responses={200: HealthResponse})
    def health() -> Response:
        """Liveness probe: 200 while the service can answer."""
        body = HealthResponse(
            status="ok",
            version=api_version(),
            time=rfc3339_now(),
            timezone=settings.timezone,
            capabilities=sorted(current_app.config["KNOTEN_CAPABILITIES"]),
        )
        return jsonify(body.model_dump())
