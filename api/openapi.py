"""The OpenAPI 3.1 document as Knoten publishes it: valid, with every error answer documented.

:class:`KnotenOpenAPI` is flask-openapi3's app with one step added after the document is built
(:func:`finish_document`):

* ``components.securitySchemes`` is left out when there are none (flask-openapi3 writes ``null``,
  which makes the document invalid and schema-driven clients refuse it);
* every operation documents 400, 404, 413, 422 and 503 as ``application/problem+json`` with the
  shared ``Problem`` schema (RFC 9457), in place of flask-openapi3's JSON validation list;
* the configured :class:`~api.limits.Limits` are published as ``x-knoten-limits`` (their meaning
  and defaults as the ``Limits`` schema).

Routes keep declaring only their success answers; errors are raised as
:class:`~api.errors.ApiProblem` and documented here in one place.
"""

from __future__ import annotations

from typing import Any

from flask_openapi3 import OpenAPI

from api.errors import PROBLEM_JSON
from api.limits import Limits

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error (RFC 9457 problem details). Limit violations name field, value and limit.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI reference; about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, for a human"},
        "instance": {"type": "string"},
        "field": {"type": "string", "description": "The input (or setting) that broke a limit or rule"},
        "value": {"description": "The value given (numbers beyond JSON, e.g. inf, as strings)"},
        "limit": {"description": "The limit it broke"},
        "constraint": {
            "type": "string",
            "description": "Kind of limit: maximum, minimum, exclusiveMinimum, maxItems, maxLength, "
            "finite, range, rule, ...",
        },
        "errors": {
            "type": "array",
            "description": "Every validation error of the request",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}

#: The error answers every operation may give, with what they mean.
ERROR_RESPONSES: dict[str, str] = {
    "400": "Malformed request: not JSON, a wrong type, a missing or unknown field or parameter",
    "404": "No such resource",
    "413": "Request body larger than limits.max_body_bytes",
    "422": "Well-formed, but a value is beyond a published limit (field, value and limit named) or "
    "breaks a rule the schema cannot express (e.g. departure after arrival)",
    "503": "Temporarily unable: a time budget exceeded, the worker busy, or data not built yet",
}

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def finish_document(doc: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Make ``doc`` (as flask-openapi3 built it) a valid, fully documented OpenAPI 3.1 document."""
    components = doc.setdefault("components", {})
    if not components.get("securitySchemes"):
        components.pop("securitySchemes", None)
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for path_item in doc.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                declared = responses.get(status) or {}
                responses[status] = {  # a route's own problem schema gives way to the shared one
                    "description": declared.get("description") or description,
                    "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
                }
    if not _references(doc, "#/components/schemas/ValidationErrorModel"):
        schemas.pop("ValidationErrorModel", None)
    schemas["Limits"] = Limits.model_json_schema()  # what each limit means (descriptions, defaults)
    doc["x-knoten-limits"] = limits.model_dump(mode="json")
    return doc


def _references(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_references(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_references(v, ref) for v in node)
    return False


class KnotenOpenAPI(OpenAPI):
    """flask-openapi3's app whose document passes :func:`finish_document`."""

    def __init__(self, import_name: str, *, limits: Limits, **kwargs: Any) -> None:
        super().__init__(import_name, **kwargs)
        self.knoten_limits = limits

    def generate_spec_json(self) -> None:
        """Build the document, then finish it."""
        super().generate_spec_json()
        finish_document(self.spec_json, self.knoten_limits)
