"""Base class of the routes' query and path models.

flask-openapi3 (4.x) asks a query model for its JSON schema on every request to see which fields are
lists; building that schema costs more than the rest of a light request. :class:`RequestModel`
builds it once per class and hands out copies.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from pydantic import BaseModel


class RequestModel(BaseModel):
    """A pydantic model whose JSON schema is built once per class and set of arguments."""

    _schemas: ClassVar[dict[tuple[Any, ...], dict[str, Any]]] = {}

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The model's JSON schema (cached; a copy, so callers may change it)."""
        key = (cls, args, tuple(sorted(kwargs.items())))
        found = RequestModel._schemas.get(key)
        if found is None:
            found = super().model_json_schema(*args, **kwargs)
            RequestModel._schemas[key] = found
        return copy.deepcopy(found)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
    "required": ["title", "status", "detail"],
}

_MEANINGS = {
    400: "The request does not fit the parameters' schema",
    401: "Missing or wrong token",
    404: "No such resource",
    422: "Well-formed parameters that cannot be served (e.g. a time outside the served days)",
    503: "Not ready: the graph folder or the live data is missing",
}


#: the ``responses`` flask-openapi3 takes
Responses = dict[str | int, type[BaseModel] | dict[Any, Any] | None]


def problems(*statuses: int) -> Responses:
    """OpenAPI responses of these statuses as ``application/problem+json`` (RFC 7807)."""
    out: Responses = {
        status: {
            "description": _MEANINGS.get(status, "Problem"),
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for status in statuses
    }
    return out
