"""Walk, bike and car access rules over OSM tags, with German defaults.

Each rule answers, for one way, whether a profile may use it forwards and backwards and at what
speed, and for one node whether it blocks the profile (barriers).  The defaults follow German law
and OSM practice in Germany (as OpenTripPlanner's ``GermanyMapper`` does): pedestrians keep off
motorways and motor roads and off cycleways unless signed, cyclists keep off footways unless
signed, cars keep off tracks, paths and footways; ``access``/``vehicle``/``bicycle``/
``motor_vehicle``/``motorcar``/``foot`` override the defaults in that order of specificity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

PROFILES = ("walk", "bike", "car")

#: default car speed in km/h per highway class (urban German defaults)
CAR_SPEED_KMH: dict[str, float] = {
    "motorway": 120.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 7.0,
    "service": 15.0,
    "road": 30.0,
}
BIKE_SPEED_MPS = 4.5
#: walking is measured in metres; the query's walk speed turns it into time
WALK_HIGHWAYS = frozenset(
    {
        "footway", "pedestrian", "path", "steps", "living_street", "residential", "service",
        "unclassified", "tertiary", "tertiary_link", "secondary", "secondary_link", "primary",
        "primary_link", "trunk", "trunk_link", "track", "corridor", "platform", "road", "elevator",
        "bridleway",
    }
)  # fmt: skip
BIKE_HIGHWAYS = frozenset(
    {
        "cycleway", "path", "track", "living_street", "residential", "service", "unclassified",
        "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
        "trunk", "trunk_link", "road",
    }
)  # fmt: skip
CAR_HIGHWAYS = frozenset(CAR_SPEED_KMH)

_ALLOW = frozenset({"yes", "designated", "permissive", "destination", "customers", "official"})
#: ``use_sidepath``: the mode must use a separately mapped path next to this way
_DENY = frozenset(
    {"no", "private", "agricultural", "forestry", "delivery", "discouraged", "dismount", "use_sidepath"}
)
_TRUE = frozenset({"yes", "true", "1"})

#: barrier values a car cannot pass (a plain ``gate`` or ``lift_gate`` is passable unless access says no)
CAR_BARRIERS = frozenset(
    {
        "bollard", "block", "chain", "cycle_barrier", "jersey_barrier", "kissing_gate", "stile",
        "turnstile", "full-height_turnstile", "log", "planter", "motorcycle_barrier", "bar",
        "swing_gate", "entrance", "barrier_board", "height_restrictor",
    }
)  # fmt: skip
BIKE_BARRIERS = frozenset({"stile", "full-height_turnstile", "turnstile"})

#: how specific each access key is, per profile (most specific last)
_ACCESS_KEYS = {
    "walk": ("access", "foot"),
    "bike": ("access", "vehicle", "bicycle"),
    "car": ("access", "vehicle", "motor_vehicle", "motorcar"),
}


@dataclass(frozen=True, slots=True)
class WayRule:
    """What one profile may do on one way."""

    forward: bool
    backward: bool
    speed_mps: float


NO_WAY = WayRule(False, False, 0.0)


def _access(tags: Mapping[str, str], profile: str, *, default: bool) -> bool:
    """Whether ``profile`` may pass by the access tags (the most specific one wins), else ``default``."""
    allowed = default
    for key in _ACCESS_KEYS[profile]:
        value = tags.get(key)
        if value is None:
            continue
        value = value.split(";")[0].strip()
        if value in _DENY:
            allowed = False
        elif value in _ALLOW:
            allowed = True
    return allowed


_SPEED_NAMES = {
    "de:urban": 50.0,
    "de:rural": 100.0,
    "de:motorway": 120.0,
    "de:living_street": 7.0,
    "de:zone30": 30.0,
    "de:zone:30": 30.0,
    "de:zone20": 20.0,
    "de:zone:20": 20.0,
    "de:bicycle_road": 30.0,
    "walk": 7.0,
    "none": 130.0,
}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh)?\s*$")


def parse_maxspeed_kmh(value: str | None) -> float | None:
    """Parse an OSM ``maxspeed`` value into km/h (``None`` when it cannot be read)."""
    if not value:
        return None
    value = value.split(";")[0].strip().lower()
    if value in _SPEED_NAMES:
        return _SPEED_NAMES[value]
    match = _NUMBER.match(value)
    if match is None:
        return None
    speed = float(match.group(1))
    if match.group(2) == "mph":
        speed *= 1.609344
    return speed if speed > 0 else None


def _oneway(tags: Mapping[str, str], key: str = "oneway", *, implied: bool = False) -> int:
    """1 forward only, -1 backward only, 0 both ways."""
    value = tags.get(key)
    if value is None:
        return 1 if implied else 0
    if value in _TRUE:
        return 1
    if value in ("-1", "reverse"):
        return -1
    return 0


def _car_oneway(tags: Mapping[str, str], highway: str) -> int:
    implied = (
        highway in ("motorway", "motorway_link")
        or tags.get("junction") in ("roundabout", "circular")
        or tags.get("area") == "yes"
    )
    return _oneway(tags, implied=implied)


def way_rule(tags: Mapping[str, str], profile: str) -> WayRule:
    """Whether ``profile`` (walk, bike or car) may use a way with ``tags``, each way, and how fast."""
    highway = tags.get("highway")
    if highway is None or (tags.get("area") == "yes" and highway not in ("pedestrian", "footway")):
        return NO_WAY
    if profile == "walk":
        default = highway in WALK_HIGHWAYS and tags.get("motorroad") != "yes"
        if highway == "bridleway" or (highway == "cycleway"):
            default = False
        if tags.get("sidewalk") in ("separate",) and highway in ("primary", "trunk", "secondary"):
            default = True
        if not _access(tags, "walk", default=default):
            return NO_WAY
        one = _oneway(tags, "oneway:foot")
        return WayRule(one >= 0, one <= 0, 1.0)
    if profile == "bike":
        default = highway in BIKE_HIGHWAYS and tags.get("motorroad") != "yes"
        if not _access(tags, "bike", default=default) or (highway == "steps" and tags.get("bicycle") is None):
            return NO_WAY
        one = _car_oneway(tags, highway)
        if tags.get("oneway:bicycle") is not None:
            one = _oneway(tags, "oneway:bicycle")
        elif str(tags.get("cycleway", "")).startswith("opposite"):
            one = 0
        return WayRule(one >= 0, one <= 0, BIKE_SPEED_MPS)
    if profile == "car":
        default = highway in CAR_HIGHWAYS
        if not _access(tags, "car", default=default):
            return NO_WAY
        kmh = parse_maxspeed_kmh(tags.get("maxspeed")) or CAR_SPEED_KMH.get(highway, 30.0)
        one = _car_oneway(tags, highway)
        return WayRule(one >= 0, one <= 0, kmh / 3.6)
    raise ValueError(f"unknown profile {profile!r} (expected one of {', '.join(PROFILES)})")


def node_blocks(tags: Mapping[str, str], profile: str) -> bool:
    """Whether a barrier node with ``tags`` blocks ``profile``.

    Only barrier nodes block: bollards and the like stop cars, stiles and turnstiles stop bikes,
    and any barrier whose access tags deny the mode (a private gate) stops it.  Access tags on
    other nodes (a private building entrance on a square's outline) do not cut the way.
    """
    barrier = tags.get("barrier")
    if barrier is None:
        return False
    if profile == "car":
        blocked = barrier in CAR_BARRIERS
    elif profile == "bike":
        blocked = barrier in BIKE_BARRIERS
    else:
        blocked = False
    return not _access(tags, profile, default=not blocked)  # access tags decide over the barrier kind
