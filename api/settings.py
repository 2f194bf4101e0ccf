"""One frozen settings object, read from ``knoten.toml`` and ``KNOTEN_*`` environment variables.

Precedence (highest first): explicit overrides passed to :func:`load_settings`, environment
variables, the TOML file, built-in defaults. The object is passed explicitly to whatever needs it;
nothing reads the environment behind its back.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.limits import Limits

ENV_PREFIX = "KNOTEN_"
DEFAULT_CONFIG_FILE = "knoten.toml"


class SettingsError(ValueError):
    """The configuration cannot be used (bad file, bad value)."""


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
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}
    if section is not data and "limits" in data:  # [limits] beside [knoten]
        values["limits"] = data["limits"]
    return values


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
