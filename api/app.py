"""Flask application factory: ``create_app(settings)``.

Each capability's routes live in ``api/routes/<capability>.py`` with one
``register(app, settings)``; ``create_app`` calls them from one list (:func:`_route_registrars`).

The HTTP layer only translates: requests are validated by pydantic models (which also make the
OpenAPI 3 document at ``/api/v1/openapi.json``), domain errors become RFC 7807 problem+json here
in one place, and the work is done by the pure packages below.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from flask import Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_openapi3 import Info, OpenAPI
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

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


# pydantic error types that mean "well-formed, but beyond a published limit or a rule" (422), with the
# JSON Schema keyword of the limit; every other validation error is a malformed request (400)
_LIMIT_ERRORS: dict[str, tuple[str, str]] = {
    "greater_than": ("gt", "exclusiveMinimum"),
    "greater_than_equal": ("ge", "minimum"),
    "less_than": ("lt", "exclusiveMaximum"),
    "less_than_equal": ("le", "maximum"),
    "too_long": ("max_length", "maxItems"),
    "too_short": ("min_length", "minItems"),
    "string_too_long": ("max_length", "maxLength"),
    "string_too_short": ("min_length", "minLength"),
    "finite_number": ("", "finite"),
    "multiple_of": ("multiple_of", "multipleOf"),
    "cross_field": ("", "rule"),
}


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _json_value(value: Any) -> Any:
    """The offending value as a problem can carry it: finite numbers and short strings as they are."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:80] + "..."
    if isinstance(value, list | dict):
        return f"<{type(value).__name__} of {len(value)}>"
    return str(value)[:80]


def _validation_error(exc: ValidationError) -> Response:
    """400 for a malformed request; 422 naming field, value and limit when only limits were broken."""
    raw = exc.errors(include_url=False)
    errors = [
        {"field": (err.get("ctx") or {}).get("field") or _field_path(err["loc"]), "message": err["msg"]}
        for err in raw
    ]
    if not raw:
        return problem(400, "Invalid request", "the request is invalid")
    first, err = errors[0], raw[0]
    if not all(e["type"] in _LIMIT_ERRORS for e in raw):
        return problem(400, "Invalid request", f"{first['field']}: {first['message']}", errors=errors)
    key, constraint = _LIMIT_ERRORS[err["type"]]
    ctx = err.get("ctx") or {}
    extra: dict[str, Any] = {"field": first["field"], "constraint": constraint}
    detail = f"{first['field']}: {first['message']}"
    if err["type"] != "cross_field":
        extra["value"] = _json_value(err["input"])
        detail = f"{first['field']} = {extra['value']}: {first['message']}"
        if key:
            extra["limit"] = _json_value(ctx.get(key))
    return problem(422, "Limit exceeded", detail, errors=errors, **extra)


class _JSONProvider(DefaultJSONProvider):
    """Flask's JSON, answering a request nested too deeply for the parser as malformed (400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


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
    app.json = _JSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config["KNOTEN_CAPABILITIES"] = []
    if live is None:
        from mobility.live.state import LiveState

        live = LiveState.open(settings.resolved_database_url, stale_factor=settings.stale_factor)
    app.extensions[EXTENSION] = Services(settings, live)

    @app.before_request
    def _bounded_streamed_body() -> None:
        """A body without Content-Length (chunked, from a server that sets ``wsgi.input_terminated``):
        read at most one byte past the limit, answer 413 beyond it, else hand it on as a sized body.
        (Werkzeug would silently cut such a body at the limit.)"""
        env = request.environ
        if request.content_length is not None or not env.get("wsgi.input_terminated"):
            return
        limit = settings.limits.max_body_bytes
        data = env["wsgi.input"].read(limit + 1)
        if len(data) > limit:
            raise RequestEntityTooLarge()
        env["wsgi.input"] = io.BytesIO(data)
        env["CONTENT_LENGTH"] = str(len(data))
        env.pop("HTTP_TRANSFER_ENCODING", None)

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
    from api.routes import charging, demo, health

    return [health.register, demo.register, charging.register]
