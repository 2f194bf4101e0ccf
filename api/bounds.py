"""How the app holds requests to their bounds before a route sees them.

* :func:`validation_problem`: a request model's :class:`pydantic.ValidationError` as a problem:
  400 when the request is malformed (not JSON, a wrong type, a missing or unknown field), 422 when
  it is well-formed but beyond a published limit or a rule (``field``, ``value``, ``limit`` and the
  kind of ``constraint`` named);
* :func:`bound_streamed_body`: a body without ``Content-Length`` (chunked, from a server that sets
  ``wsgi.input_terminated``, e.g. gunicorn) is read to at most one byte past the limit and
  answered 413 beyond it; Werkzeug alone would silently cut it at the limit;
* :class:`BoundedJSONProvider`: JSON nested too deeply for the parser is malformed (400), not a
  ``RecursionError`` (500).

The limits themselves are :class:`api.limits.Limits`.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

from flask import request
from flask.json.provider import DefaultJSONProvider
from pydantic import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import ApiProblem

# pydantic error types that mean "well-formed, but beyond a published limit or a rule" (422), with the
# context key of the limit and its JSON Schema keyword; any other validation error is a malformed
# request (400)
LIMIT_ERRORS: dict[str, tuple[str, str]] = {
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
    "cross_field": ("", "rule"),  # a model validator's PydanticCustomError("cross_field", ...)
    # a field validator's PydanticCustomError for a value of the published form that breaks a range
    # (the limit in its context under "limit") or a rule the schema cannot express
    "range": ("limit", "range"),
    "rule": ("", "rule"),
    "not_finite": ("", "finite"),  # text of numbers one of which is too large to be finite
}

MAX_ERRORS_LISTED = 20
_DECIMAL = re.compile(r"\s*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*")


def field_path(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a path: ``("sessions", 3, "max_kw")`` -> ``sessions[3].max_kw``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def json_value(value: Any) -> Any:
    """A value as a problem can carry it: numbers beyond JSON (inf, nan) and long things shortened."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:80] + "..."
    if isinstance(value, list | dict):
        return f"<{type(value).__name__} of {len(value)}>"
    return str(value)[:80]


def _beyond_a_limit(err: Any) -> bool:
    """Whether a validation error is a limit or rule broken (422) rather than malformed input (400).

    ``nan`` or ``inf`` written in a query parameter is not a number at all (malformed), while a
    number too large to be finite (``1e999``) is one beyond a limit.
    """
    if err["type"] not in LIMIT_ERRORS:
        return False
    value = err.get("input")
    return not (err["type"] == "finite_number" and isinstance(value, str) and not _DECIMAL.fullmatch(value))


def validation_problem(exc: ValidationError) -> ApiProblem:
    """400 for a malformed request; 422 naming field, value and limit when only limits were broken."""
    raw = exc.errors(include_url=False)
    if not raw:
        return ApiProblem(400, "Invalid request", "the request is invalid")
    errors = [
        {"field": (err.get("ctx") or {}).get("field") or field_path(err["loc"]), "message": err["msg"]}
        for err in raw
    ]
    first, err = errors[0], raw[0]
    if len(errors) > MAX_ERRORS_LISTED:  # a body of thousands of bad items gets a short answer
        errors = [*errors[:MAX_ERRORS_LISTED], {"field": "...", "message": f"{len(raw)} errors in all"}]
    if not all(_beyond_a_limit(e) for e in raw):
        return ApiProblem(400, "Invalid request", f"{first['field']}: {first['message']}", errors=errors)
    key, constraint = LIMIT_ERRORS[err["type"]]
    extra: dict[str, Any] = {"field": first["field"], "constraint": constraint}
    detail = f"{first['field']}: {first['message']}"
    if err["type"] != "cross_field":
        extra["value"] = json_value(err["input"])
        detail = f"{first['field']} = {extra['value']}: {first['message']}"
        if key:
            extra["limit"] = json_value((err.get("ctx") or {}).get(key))
    return ApiProblem(422, "Limit exceeded", detail, errors=errors, **extra)


def bound_streamed_body(max_body_bytes: int) -> None:
    """Before a request: 413 for a streamed body past ``max_body_bytes``, else make it a sized body."""
    env = request.environ
    if request.content_length is not None or not env.get("wsgi.input_terminated"):
        return
    data = env["wsgi.input"].read(max_body_bytes + 1)
    if len(data) > max_body_bytes:
        raise RequestEntityTooLarge()
    env["wsgi.input"] = io.BytesIO(data)
    env["CONTENT_LENGTH"] = str(len(data))
    env.pop("HTTP_TRANSFER_ENCODING", None)


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, answering a request nested too deeply for the parser as malformed (400)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse ``s``; a ``ValueError`` (a 400 for a request body) when it is nested too deeply."""
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc
