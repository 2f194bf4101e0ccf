"""Query models build their JSON schema once and hand out copies."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.models import RequestModel


class _Plain(BaseModel):
    near: str | None = Field(default=None, description="lat,lon")
    limit: int = Field(default=20, ge=1)


class _Cached(RequestModel):
    near: str | None = Field(default=None, description="lat,lon")
    limit: int = Field(default=20, ge=1)


def test_cached_schema_equals_pydantics_and_is_built_once() -> None:
    plain = _Plain.model_json_schema()
    plain["title"] = "_Cached"
    assert _Cached.model_json_schema() == plain
    assert _Cached.model_json_schema(mode="serialization") == _Plain.model_json_schema(
        mode="serialization"
    ) | {"title": "_Cached"}
    built = {k: v for k, v in RequestModel._schemas.items() if k[0] is _Cached}
    _Cached.model_json_schema()
    again = {k: v for k, v in RequestModel._schemas.items() if k[0] is _Cached}
    assert len(built) == 2 and all(again[k] is v for k, v in built.items())  # not built anew


def test_changing_a_returned_schema_leaves_the_cache_alone() -> None:
    first = _Cached.model_json_schema()
    first["properties"]["limit"]["minimum"] = 99
    assert _Cached.model_json_schema()["properties"]["limit"]["minimum"] == 1
