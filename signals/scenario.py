"""Scenario definitions: a plain ``.sumocfg`` or a folder with a ``scenario.yaml``.

A scenario names the SUMO inputs (net, routes, additionals), the evaluation window, the seeds,
the controllers to compare and the KPIs to report. Loading validates everything a run needs up
front (files exist, the net has traffic lights, ``begin < end``) so that runs fail fast with a
precise one-line message instead of a SUMO traceback minutes later.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from signals.errors import ScenarioError

DEFAULT_SEEDS: tuple[int, ...] = (1, 2, 3, 4, 5)
DEFAULT_CONTROLLERS: tuple[str, ...] = ("static", "actuated", "webster", "max-pressure", "knoten")
DEFAULT_KPIS: tuple[str, ...] = ("delay_s", "travel_time_s", "waiting_time_s", "arrived", "queue_veh")

_FILE_LIST_OPTIONS = ("route-files", "additional-files")
_TLS_JUNCTION = re.compile(rb'<junction\b[^>]*\btype="traffic_light')


@dataclass(frozen=True)
class Scenario:
    """Everything needed to run one SUMO scenario (absolute paths, validated)."""

    name: str
    net_file: Path
    route_files: tuple[Path, ...]
    additional_files: tuple[Path, ...]
    begin_s: float
    end_s: float
    sumocfg: Path | None = None
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    controllers: tuple[str, ...] = DEFAULT_CONTROLLERS
    kpis: tuple[str, ...] = DEFAULT_KPIS
    extra_options: dict[str, str] = field(default_factory=dict)
    demand_scale: float = 1.0  # SUMO --scale: every vehicle of the demand inserted this many times

    def with_window(self, begin_s: float | None, end_s: float | None) -> Scenario:
        """A copy with another evaluation window (validated)."""
        begin = self.begin_s if begin_s is None else float(begin_s)
        end = self.end_s if end_s is None else float(end_s)
        _check_window(begin, end, self.name)
        return replace(self, begin_s=begin, end_s=end)

    def scaled(self, factor: float) -> Scenario:
        """A copy with the demand scaled by ``factor`` (SUMO ``--scale``), named ``<name>x<factor>``."""
        if not factor > 0:
            raise ScenarioError(f"{self.name}: demand scale must be positive, got {factor:g}")
        name = self.name if factor == 1.0 else f"{self.name}x{factor:g}"
        return replace(self, name=name, demand_scale=float(factor))


def _check_window(begin_s: float, end_s: float, where: str) -> None:
    if begin_s >= end_s:
        raise ScenarioError(f"{where}: begin ({begin_s:g} s) must be before end ({end_s:g} s)")


def _split_files(value: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", value.strip()) if part]


def _require_file(path: Path, where: str, what: str) -> Path:
    if not path.is_file():
        raise ScenarioError(f"{where}: {what} not found: {path}")
    return path.resolve()


def _open_maybe_gz(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        return gzip.decompress(data)
    return data


def net_has_traffic_lights(net_file: Path) -> bool:
    """Whether the SUMO net has at least one junction controlled by a traffic light."""
    return _TLS_JUNCTION.search(_open_maybe_gz(net_file)) is not None


def _parse_time(value: Any, where: str, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: field '{name}' is not a number of seconds: {value!r}") from exc


def load_sumocfg(path: Path | str, begin_s: float | None = None, end_s: float | None = None) -> Scenario:
    """Read a ``.sumocfg`` file into a validated :class:`Scenario`.

    ``begin_s``/``end_s`` override the configuration's window (``end_s`` is required when the
    configuration has no ``<end>``).

    Raises :class:`ScenarioError` if the file or any input it names is missing, if the net has no
    traffic lights, or if the window is empty.
    """
    cfg = Path(path)
    where = str(cfg)
    if not cfg.is_file():
        raise ScenarioError(f"sumocfg not found: {cfg}")
    try:
        root = ET.parse(cfg).getroot()
    except ET.ParseError as exc:
        raise ScenarioError(f"{where}: not valid XML ({exc})") from exc
    options: dict[str, str] = {}
    for section in root:
        for option in section:
            value = option.get("value")
            if value is not None:
                options[option.tag] = value
        if section.get("value") is not None:  # flat configuration files
            options[section.tag] = section.get("value", "")
    base = cfg.parent
    net = options.pop("net-file", None) or options.pop("n", None)
    if not net:
        raise ScenarioError(f"{where}: no <net-file> in the configuration")
    net_file = _require_file(base / net, where, "net-file")
    routes = tuple(
        _require_file(base / f, where, "route file") for f in _split_files(options.pop("route-files", ""))
    )
    adds = tuple(
        _require_file(base / f, where, "additional file")
        for f in _split_files(options.pop("additional-files", ""))
    )
    begin = _parse_time(options.pop("begin", "0"), where, "begin") if begin_s is None else float(begin_s)
    cfg_end = options.pop("end", None)
    if end_s is None and cfg_end is None:
        raise ScenarioError(f"{where}: no <end> time; give one with --end")
    end = float(end_s) if end_s is not None else _parse_time(cfg_end, where, "end")
    if not net_has_traffic_lights(net_file):
        raise ScenarioError(f"{where}: the net {net_file.name} has no traffic lights")
    _check_window(begin, end, where)
    return Scenario(
        name=cfg.name.removesuffix(".sumocfg"),
        net_file=net_file,
        route_files=routes,
        additional_files=adds,
        begin_s=begin,
        end_s=end,
        sumocfg=cfg.resolve(),
        extra_options=options,
    )


def _as_tuple(value: Any, where: str, name: str, kind: type) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str) and kind is int:
        value = [v for v in value.split(",") if v.strip()]
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: field '{name}' must be a list")
    try:
        return tuple(kind(v) for v in value)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{where}: field '{name}' has a bad entry ({exc})") from exc


def load_scenario(path: Path | str) -> Scenario:
    """Load a scenario from a folder with ``scenario.yaml``, a ``scenario.yaml`` file or a ``.sumocfg``.

    ``scenario.yaml`` fields: ``name``, ``sumocfg`` *or* ``net`` + ``routes`` + ``additionals``,
    ``begin``, ``end``, ``seeds``, ``controllers``, ``kpis``. Paths are relative to the file.
    A folder without ``scenario.yaml`` but with exactly one ``.sumocfg`` is accepted too.
    """
    p = Path(path)
    if p.suffix == ".sumocfg":
        return load_sumocfg(p)
    if p.is_dir():
        yaml_file = p / "scenario.yaml"
        if not yaml_file.is_file():
            cfgs = sorted(p.glob("*.sumocfg"))
            if len(cfgs) == 1:
                return load_sumocfg(cfgs[0])
            raise ScenarioError(f"{p}: no scenario.yaml (and not exactly one .sumocfg)")
    else:
        yaml_file = p
    if not yaml_file.is_file():
        raise ScenarioError(f"scenario not found: {yaml_file}")
    where = str(yaml_file)
    try:
        doc = yaml.safe_load(yaml_file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{where}: not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(doc, dict):
        raise ScenarioError(f"{where}: expected a mapping at the top level")
    base = yaml_file.parent
    if doc.get("sumocfg"):
        scenario = load_sumocfg(base / str(doc["sumocfg"]))
        begin = _parse_time(doc["begin"], where, "begin") if "begin" in doc else scenario.begin_s
        end = _parse_time(doc["end"], where, "end") if "end" in doc else scenario.end_s
        _check_window(begin, end, where)
        scenario = replace(scenario, begin_s=begin, end_s=end)
    else:
        if not doc.get("net"):
            raise ScenarioError(f"{where}: needs 'sumocfg' or 'net' (+ 'routes')")
        net_file = _require_file(base / str(doc["net"]), where, "net")
        routes = tuple(
            _require_file(base / str(f), where, "route file")
            for f in _as_tuple(doc.get("routes"), where, "routes", str)
        )
        adds = tuple(
            _require_file(base / str(f), where, "additional file")
            for f in _as_tuple(doc.get("additionals"), where, "additionals", str)
        )
        if "end" not in doc:
            raise ScenarioError(f"{where}: field 'end' is required")
        begin = _parse_time(doc.get("begin", 0), where, "begin")
        end = _parse_time(doc["end"], where, "end")
        if not net_has_traffic_lights(net_file):
            raise ScenarioError(f"{where}: the net {net_file.name} has no traffic lights")
        _check_window(begin, end, where)
        scenario = Scenario(
            name=str(doc.get("name") or base.name),
            net_file=net_file,
            route_files=routes,
            additional_files=adds,
            begin_s=begin,
            end_s=end,
        )
    seeds = _as_tuple(doc.get("seeds"), where, "seeds", int) or scenario.seeds
    controllers = _as_tuple(doc.get("controllers"), where, "controllers", str) or scenario.controllers
    kpis = _as_tuple(doc.get("kpis"), where, "kpis", str) or scenario.kpis
    return replace(
        scenario, name=str(doc.get("name") or scenario.name), seeds=seeds, controllers=controllers, kpis=kpis
    )
