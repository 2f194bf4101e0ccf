"""Base class of the query-parameter models of the routes.

flask-openapi3 asks the query model for its JSON schema on every request (to tell list
parameters from single ones); pydantic builds that schema anew each time, which cost about as
much as planning a journey on the demo city. :class:`QueryModel` builds it once per class and
set of arguments and hands out copies.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, ClassVar

from pydantic import BaseModel


class QueryModel(BaseModel):
    """A pydantic model whose JSON schema is built once per class (and per set of arguments)."""

    _schemas: ClassVar[dict[tuple[Any, ...], dict[str, Any]]] = {}
    _schemas_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The model's JSON schema (see pydantic), cached; callers get their own copy."""
        key = (cls, args, tuple(sorted(kwargs.items())))
        found = cls._schemas.get(key)
        if found is None:
            found = super().model_json_schema(*args, **kwargs)
            with cls._schemas_lock:
                cls._schemas[key] = found
        return copy.deepcopy(found)
