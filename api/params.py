"""Query parameters written as text with a form of their own: ``lat,lon``, a ``bbox``, a mode list.

Each type publishes its form as a ``pattern`` in the OpenAPI document and holds requests to it in
two steps, so that the answer follows the API's convention (:mod:`api.bounds`):

* text that does not have the form (not two or four numbers, an unknown mode) is malformed: the
  schema itself rejects it, and so does the API, with a 400;
* text of the right form whose values break a rule the schema cannot say (a latitude beyond 90, a
  box whose minimum exceeds its maximum, numbers too large to be finite) is answered 422, naming
  the field, the value and the limit (pydantic error types ``range``, ``rule``, ``not_finite``).

The check of the form uses the published pattern itself, so the two cannot disagree.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

#: a decimal number as the patterns accept it (no sign "+", no spaces, no inf or nan)
NUMBER = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
LAT_LON_PATTERN = rf"^{NUMBER},{NUMBER}$"
BBOX_PATTERN = rf"^{NUMBER},{NUMBER},{NUMBER},{NUMBER}$"
LAT_RANGE, LON_RANGE = "[-90, 90]", "[-180, 180]"

BBox = tuple[float, float, float, float]


def _numbers(text: str, pattern: str, error: str, message: str) -> list[float]:
    """The numbers of ``text`` when it has the form of ``pattern``; else a 400 error (type ``error``)."""
    if re.fullmatch(pattern, text) is None:
        raise PydanticCustomError(error, message, {"value": repr(text)})
    values = [float(part) for part in text.split(",")]
    if not all(math.isfinite(v) for v in values):
        raise PydanticCustomError("not_finite", "the numbers must be finite (not too large)")
    return values


def parse_lat_lon(text: str) -> tuple[float, float]:
    """``lat,lon`` as two floats; a pydantic error naming what is wrong (400 form, 422 range)."""
    lat, lon = _numbers(
        text, LAT_LON_PATTERN, "lat_lon", "{value} is not lat,lon (for example 51.6802,7.7870)"
    )
    if not -90.0 <= lat <= 90.0:
        raise PydanticCustomError(
            "range", "latitude {lat} is outside {limit}", {"lat": lat, "limit": LAT_RANGE}
        )
    if not -180.0 <= lon <= 180.0:
        raise PydanticCustomError(
            "range", "longitude {lon} is outside {limit}", {"lon": lon, "limit": LON_RANGE}
        )
    return lat, lon


def parse_bbox(text: str) -> BBox:
    """``min_lon,min_lat,max_lon,max_lat`` as four floats; a pydantic error naming what is wrong."""
    min_lon, min_lat, max_lon, max_lat = _numbers(
        text,
        BBOX_PATTERN,
        "bbox",
        "{value} is not min_lon,min_lat,max_lon,max_lat (four numbers, for example 7.80,51.67,7.84,51.69)",
    )
    if not all(-180 <= v <= 180 for v in (min_lon, max_lon)) or not all(
        -90 <= v <= 90 for v in (min_lat, max_lat)
    ):
        raise PydanticCustomError(
            "range",
            "longitudes must lie in {lon}, latitudes in {lat}",
            {"lon": LON_RANGE, "lat": LAT_RANGE, "limit": f"lon {LON_RANGE}, lat {LAT_RANGE}"},
        )
    if min_lon > max_lon or min_lat > max_lat:
        raise PydanticCustomError("rule", "min_lon must not exceed max_lon, nor min_lat max_lat")
    return min_lon, min_lat, max_lon, max_lat


def _check_lat_lon(text: str) -> str:
    parse_lat_lon(text)
    return text


def _check_bbox(text: str) -> str:
    parse_bbox(text)
    return text


#: ``lat,lon`` in WGS 84 (validated; parse with :func:`parse_lat_lon`)
LatLonText = Annotated[
    str,
    AfterValidator(_check_lat_lon),
    WithJsonSchema({"type": "string", "pattern": LAT_LON_PATTERN}),
]

#: ``min_lon,min_lat,max_lon,max_lat`` in WGS 84 (validated; parse with :func:`parse_bbox`)
BBoxText = Annotated[
    str,
    AfterValidator(_check_bbox),
    WithJsonSchema({"type": "string", "pattern": BBOX_PATTERN}),
]


def words_pattern(words: tuple[str, ...]) -> str:
    """The pattern of a comma-separated list of ``words`` (at least one, no spaces)."""
    one = "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"
    return rf"^{one}(?:,{one})*$"
