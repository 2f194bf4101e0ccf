"""Flask application factory: ``create_app(settings)``.

Each capability's routes live in ``api/routes/<capability>.py`` with one
``register(app, settings)``; ``create_app`` calls them from one list (:func:`_route_registrars`).

The HTTP layer only translates: requests are validated by pydantic models (which also make the
OpenAPI 3 document at ``/api/v1/openapi.json``), domain errors become RFC 7807 problem+json here
in one place, and the work is done by the pure packages below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request
from flask_openapi3 import Info, OpenAPI
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from api.bounds import BoundedJSONProvider, bound_streamed_body, validation_problem
from api.context import EXTENSION, Services
from api.errors import PROBLEM_JSON, ApiProblem
from api.openapi import KnotenOpenAPI
from api.settings import Settings

if TYPE_CHECKING:
    from mobility.live.state import LiveState

API_PREFIX = "/api/v1"


def api_version() -> str:
    """The installed version of Knoten (``0+unknown`` in an uninstalled source tree)."""
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
    """A request model rejected the request: 400 when malformed, 422 naming a broken limit."""
    answer = validation_problem(exc)
    return problem(answer.status, answer.title, answer.detail, **answer.extra)


def create_app(settings: Settings, *, live: LiveState | None = None) -> OpenAPI:
    """Build the Flask application for ``settings``.

    ``live`` is the live state the routes read (``knoten serve`` passes the one its pollers
    write); without it the state is opened from the settings' database, restored, not polled.
    """
    app = KnotenOpenAPI(
        __name__,
        limits=settings.limits,
        info=Info(
            title="Knoten API",
            version=api_version(),
            description="Intermodal routing, live mobility offers, signals and smart charging.",
        ),
        doc_prefix=API_PREFIX,
        doc_url="/openapi.json",
        validation_error_status=400,
        validation_error_callback=_validation_error,
    )
    app.config["KNOTEN_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.limits.max_body_bytes  # 413 beyond, chunked bodies too
    app.json = BoundedJSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["KNOTEN_CAPABILITIES"] = []
    if live is None:
        from mobility.live.state import LiveState

        live = LiveState.open(settings.resolved_database_url, stale_factor=settings.stale_factor)
    app.extensions[EXTENSION] = Services(settings, live)

    app.before_request(lambda: bound_streamed_body(settings.limits.max_body_bytes))

    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem) -> Response:
        return problem(exc.status, exc.title, exc.detail, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        if status == 413:
            limit = settings.limits.max_body_bytes
            return problem(
                413,
                "Request body too large",
                f"the request body is larger than the limit of {limit} bytes (limits.max_body_bytes)",
                instance=request.path,
                field="body",
                value=request.content_length,
                limit=limit,
                constraint="limits.max_body_bytes",
            )
        response = problem(status, exc.name, exc.description or exc.name, instance=request.path)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on a 405 (RFC 9110)
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s", request.path)
        return problem(500, "Internal Server Error", "the server could not complete the request")

    for register in _route_registrars():
        register(app, settings)
    return app


def _route_registrars() -> list[Callable[[OpenAPI, Settings], None]]:
    """The ``register(app, settings)`` of every capability's routes, in the order they attach."""
    from api.routes import (
        charging,
        charging_locations,
        demo,
        departures,
        display,
        health,
        hubs,
        ocpi_push,
        ops,
        plan,
        sharing,
        stops,
    )

    return [
        ops.register,
        health.register,
        demo.register,
        charging.register,
        plan.register,
        stops.register,
        departures.register,
        sharing.register,
        charging_locations.register,
        hubs.register,
        ocpi_push.register,
        display.register,
    ]
