"""Flask application factory: ``create_app(settings)``.

The HTTP layer only translates: requests are validated by pydantic models (which also make the
OpenAPI 3 document at ``/api/v1/openapi.json``), domain errors become RFC 7807 problem+json here
in one place, and the work is done by the pure packages below.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flask import Response, jsonify, request
from flask_openapi3 import Info, OpenAPI, Tag
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from api.errors import PROBLEM_JSON, ApiProblem
from api.settings import Settings

API_PREFIX = "/api/v1"


def _version() -> str:
    try:
        return version("knoten")
    except PackageNotFoundError:
        return "0+unknown"


def rfc3339_now() -> str:
    """The current time in UTC as RFC 3339 with offset."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """A problem+json response (RFC 7807)."""
    response = jsonify(ApiProblem(status, title, detail, **extra).to_dict())
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    return response


def _validation_error(exc: ValidationError) -> Response:
    errors = [{"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()]
    first = errors[0] if errors else {"field": "request", "message": "invalid"}
    return problem(400, "Invalid request", f"{first['field']}: {first['message']}", errors=errors)


class HealthResponse(BaseModel):
    """Liveness and basic facts about the running service."""

    status: str
    version: str
    time: str
    timezone: str
    capabilities: list[str]


health_tag = Tag(name="health", description="Service liveness")


def create_app(settings: Settings) -> OpenAPI:
    """Build the Flask application for ``settings``."""
    app = OpenAPI(
        __name__,
        info=Info(
            title="Knoten API",
            version=_version(),
            description="Intermodal routing, live mobility offers, signals and smart charging.",
        ),
        doc_prefix=API_PREFIX,
        doc_url="/openapi.json",
        validation_error_status=400,
        validation_error_callback=_validation_error,
    )
    app.config["KNOTEN_SETTINGS"] = settings
    app.json.sort_keys = False  # type: ignore[attr-defined]
    capabilities: list[str] = []
    app.config["KNOTEN_CAPABILITIES"] = capabilities

    @app.get("/health", tags=[health_tag], responses={200: HealthResponse})
    def health() -> Response:
        """Liveness probe: 200 while the service can answer."""
        body = HealthResponse(
            status="ok",
            version=_version(),
            time=rfc3339_now(),
            timezone=settings.timezone,
            capabilities=sorted(capabilities),
        )
        return jsonify(body.model_dump())

    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        return problem(status, exc.name, exc.description or exc.name, instance=request.path)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s", request.path)
        return problem(500, "Internal Server Error", "the server could not complete the request")

    _register_capabilities(app, settings, capabilities)
    return app


def _register_capabilities(app: OpenAPI, settings: Settings, capabilities: list[str]) -> None:
    """Attach the API parts of every capability that exists."""
    from api import routes_charging
    from api.routes_demo import create_demo_blueprint

    app.register_blueprint(create_demo_blueprint(settings.data_dir / "demo"))
    capabilities.append("demo-feeds")
    routes_charging.register(app, capabilities)
