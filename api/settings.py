"""One frozen settings object, read from ``knoten.toml`` and ``KNOTEN_*`` environment variables.

Precedence (highest first): explicit overrides passed to :func:`load_settings`, environment
variables, the TOML file, built-in defaults. The object is passed explicitly to whatever needs it;
nothing reads the environment behind its back.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from api.limits import Limits

ENV_PREFIX = "KNOTEN_"
DEFAULT_CONFIG_FILE = "knoten.toml"


class SettingsError(ValueError):
    """The configuration cannot be used (bad file, bad value)."""


#: Languages the station display speaks; a hub may list only these.
HUB_LANGUAGES = ("de", "en")
_HUB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class HubConfig(BaseModel):
    """A mobility hub (one ``[hubs.ID]`` table): its stops, the radius for bikes, cars and chargers,
    and the languages of its display. ``lat``/``lon`` default to the mean of the stops."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="Name shown on the display")
    stops: tuple[str, ...] = Field(
        default=(), description="GTFS stop ids (parent stations include their platforms)"
    )
    radius_m: float = Field(
        default=400.0, ge=0, le=5000, description="Bikes, cars, chargers within this distance"
    )
    chargers: tuple[str, ...] = Field(
        default=(), description="OCPI location ids shown (else every location within the radius)"
    )
    stations: tuple[str, ...] = Field(
        default=(),
        description="GBFS stations always shown, as SYSTEM_ID:STATION_ID (besides those within the radius)",
    )
    languages: tuple[str, ...] = Field(default=HUB_LANGUAGES, min_length=1)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for lang in value:
            if lang not in HUB_LANGUAGES:
                raise ValueError(f"unknown language {lang!r} (supported: {', '.join(HUB_LANGUAGES)})")
        return value

    @field_validator("stations")
    @classmethod
    def _station_refs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ref in value:
            system, _, station = ref.partition(":")
            if not system or not station:
                raise ValueError(f"station {ref!r} is not SYSTEM_ID:STATION_ID")
        return value

    @model_validator(mode="after")
    def _placed(self) -> HubConfig:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if not self.stops and self.lat is None:
            raise ValueError("a hub needs stops or lat/lon")
        return self


class Settings(BaseModel):
    """Runtime configuration of a Knoten deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Field(default=Path("data"), description="Where built data, caches and the database live")
    timezone: str = Field(default="Europe/Berlin", description="IANA time zone of the city")
    gtfs: tuple[str, ...] = Field(default=(), description="GTFS zip paths or URLs")
    gtfs_rt: tuple[str, ...] = Field(default=(), description="GTFS-Realtime TripUpdates paths or URLs")
    gbfs: tuple[str, ...] = Field(default=(), description="GBFS auto-discovery (gbfs.json) paths or URLs")
    ocpi_locations: tuple[str, ...] = Field(default=(), description="OCPI 2.2.1 Locations paths or URLs")
    osm: str | None = Field(default=None, description="OpenStreetMap extract (.osm, .osm.pbf)")
    database_url: str | None = Field(default=None, description="Defaults to a SQLite file in data_dir")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    hub_id: str = Field(default="hbf", description="Mobility hub shown by default on the station display")
    feeds: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Live feeds, one [feeds.NAME] table each: kind (gbfs, gtfs-rt, ocpi), url, and optional "
        "interval_s, timeout_s, max_bytes, retries, min_interval_s, max_interval_s, token",
    )
    stale_factor: float = Field(
        default=3.0, gt=0, description="A feed is stale when older than this many ttls"
    )
    ocpi_push_tokens: tuple[str, ...] = Field(
        default=(), description="Tokens accepted on pushed OCPI PATCHes"
    )
    limits: Limits = Field(
        default_factory=Limits,
        description="Bounds on requests ([limits] in knoten.toml, KNOTEN_LIMITS_<FIELD>)",
    )
    hubs: dict[str, HubConfig] = Field(
        default_factory=dict,
        description="Mobility hubs, one [hubs.ID] table each: name, stops, radius_m, chargers, stations, "
        "languages, optional lat/lon",
    )

    @field_validator("hubs")
    @classmethod
    def _hub_ids(cls, value: dict[str, HubConfig]) -> dict[str, HubConfig]:
        for hub_id in value:
            if not _HUB_ID.fullmatch(hub_id):
                raise ValueError(f"hub id {hub_id!r} may only hold letters, digits, '-' and '_'")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<data_dir>/knoten.sqlite``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'knoten.sqlite').resolve()}"


_LIST_FIELDS = {"gtfs", "gtfs_rt", "gbfs", "ocpi_locations", "ocpi_push_tokens"}


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    limits = {
        name: raw
        for name in Limits.model_fields
        if (raw := environ.get(f"{ENV_PREFIX}LIMITS_{name.upper()}")) is not None
    }
    if limits:
        values["limits"] = limits
    for name in Settings.model_fields:
        if name == "limits":
            continue
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is None:
            continue
        if name in _LIST_FIELDS:
            values[name] = tuple(part.strip() for part in raw.split(",") if part.strip())
        else:
            values[name] = raw
    return values


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: invalid TOML: {exc}") from exc
    section = data.get("knoten", data)
    if not isinstance(section, dict):
        raise SettingsError(f"{path}: [knoten] must be a table")
    if section is not data:  # [hubs.ID], [feeds.NAME] and [limits] tables may stand beside [knoten]
        section = {**{k: data[k] for k in ("hubs", "feeds", "limits") if k in data}, **section}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}


def demo_hub(demo_dir: Path) -> dict[str, HubConfig]:
    """The demo city's main-station hub (``hub`` of its manifest.json), or nothing when not built."""
    try:
        manifest = json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))
        hub = manifest["hub"]
        stations = tuple(f"{system}:{station}" for system, station in hub.get("gbfs_station_ids", {}).items())
        config = HubConfig(
            name="Knotenstadt Hauptbahnhof",
            stops=(str(hub["gtfs_stop_id"]),),
            radius_m=400.0,
            chargers=(str(hub["ocpi_location_id"]),),
            stations=stations,
            languages=HUB_LANGUAGES,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {"hbf": config}


def resolved_hubs(settings: Settings) -> dict[str, HubConfig]:
    """The configured hubs; without any, the demo city's hub when the demo city is built."""
    return dict(settings.hubs) if settings.hubs else demo_hub(settings.data_dir / "demo")


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings from a TOML file, the environment and explicit overrides.

    ``config_file`` defaults to ``knoten.toml`` in the working directory when it exists; a file
    named explicitly must exist.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if config_file is None:
        env_file = env.get(ENV_PREFIX + "CONFIG")
        config_file = Path(env_file) if env_file else None
        if config_file is None and Path(DEFAULT_CONFIG_FILE).is_file():
            config_file = Path(DEFAULT_CONFIG_FILE)
    if config_file is not None:
        if not config_file.is_file():
            raise SettingsError(f"config file not found: {config_file}")
        values.update(_from_toml(config_file))
    from_env = _from_env(env)
    if isinstance(values.get("limits"), dict) and "limits" in from_env:  # variables override single limits
        from_env["limits"] = {**values["limits"], **from_env["limits"]}
    values.update(from_env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise SettingsError(f"invalid setting {where}: {first['msg']}") from exc
