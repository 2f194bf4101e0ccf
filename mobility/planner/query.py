"""A door-to-door query: two places, a time (depart at or arrive by), modes and walking limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mobility.errors import QueryError

MODES = ("walk", "transit", "bike_share", "car_share", "car")
#: ``--ev-connector`` names and the OCPI connector standards they accept
EV_CONNECTORS: dict[str, tuple[str, ...]] = {
    "CCS": ("IEC_62196_T2_COMBO", "IEC_62196_T1_COMBO"),
    "TYPE2": ("IEC_62196_T2",),
    "CHADEMO": ("CHADEMO",),
}


@dataclass(frozen=True)
class PlanQuery:
    """What the traveller asks.  ``when`` is the departure, or the arrival with ``arrive_by``."""

    from_lat: float
    from_lon: float
    to_lat: float
    to_lon: float
    when: datetime
    arrive_by: bool = False
    modes: frozenset[str] = frozenset({"walk", "transit"})
    walk_speed_mps: float = 1.2
    max_walk_m: float = 1500.0
    max_transfer_m: float = 400.0
    max_direct_walk_s: int = 4 * 3600
    ev_connector: str | None = None
    min_power_kw: float = 0.0
    max_itineraries: int = 6

    def __post_init__(self) -> None:
        for name, lat, lon in (("from", self.from_lat, self.from_lon), ("to", self.to_lat, self.to_lon)):
            if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                raise QueryError(f"{name} {lat},{lon} is not a latitude,longitude pair")
        if self.when.tzinfo is None:
            raise QueryError("the query time needs a time zone (for example 2026-12-03T08:00+01:00)")
        unknown = set(self.modes) - set(MODES)
        if unknown or not self.modes:
            raise QueryError(f"unknown modes {sorted(unknown)} (choose from {', '.join(MODES)})")
        if not 0.3 <= self.walk_speed_mps <= 3.0:
            raise QueryError(f"walk speed {self.walk_speed_mps} m/s is outside 0.3..3.0")
        if not 0.0 <= self.max_walk_m <= 20000.0:
            raise QueryError(f"maximum walk {self.max_walk_m} m is outside 0..20000")
        if not 0.0 <= self.max_transfer_m <= 5000.0:
            raise QueryError(f"maximum transfer walk {self.max_transfer_m} m is outside 0..5000")
        if self.ev_connector is not None and self.ev_connector.upper() not in EV_CONNECTORS:
            raise QueryError(
                f"unknown EV connector {self.ev_connector!r} (choose from {', '.join(EV_CONNECTORS)})"
            )

    @staticmethod
    def parse_modes(text: str) -> frozenset[str]:
        """``walk,transit,...`` into a set of modes (raises QueryError on unknown ones)."""
        modes = frozenset(m.strip().lower() for m in text.split(",") if m.strip())
        unknown = modes - set(MODES)
        if unknown or not modes:
            raise QueryError(f"unknown modes {sorted(unknown)} (choose from {', '.join(MODES)})")
        return modes
