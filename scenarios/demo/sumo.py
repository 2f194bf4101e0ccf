"""The demo city's SUMO scenario: net from the OSM file, random car demand and the GTFS buses.

Runs the real SUMO tools (``netconvert``, ``randomTrips.py``, ``duarouter``) from the
``eclipse-sumo`` wheel. Output files are stripped of SUMO's "generated on" header so that a build
with the same seed produces the same bytes, and the ``.sumocfg`` refers to its files relatively.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from scenarios.demo.city import FICTIONAL_NOTE, City, to_lat_lon
from scenarios.demo.transit import TransitPlan

BEGIN_S = 7 * 3600
END_S = 8 * 3600
SIM_END_S = 9 * 3600  # one hour of demand, then up to one hour for the last vehicles to arrive
CAR_PERIOD_S = 2.4  # one car trip every 2.4 s over the hour: 1500 cars
BUS_DWELL_S = 20
BUS_STOP_LENGTH_M = 18.0
NET_FILE = "demo.net.xml"
STOPS_FILE = "bus_stops.add.xml"
CARS_FILE = "cars.rou.xml"
BUSES_FILE = "buses.rou.xml"
CONFIG_FILE = "demo.sumocfg"
NETCONVERT_OPTIONS = (
    "--geometry.remove",
    "--roundabouts.guess",
    "--ramps.guess",
    "--junctions.join",
    "--tls.join",
    "--tls.guess-signals",
    "--tls.default-type",
    "static",
    "--tls.cycle.time",
    "90",
    "--no-turnarounds.tls",
    "--keep-edges.by-vclass",
    "passenger,bus",
    "--remove-edges.isolated",
    "--osm.turn-lanes",
    "false",
    "--output.street-names",
    "--output.original-names",
    "--default.lanewidth",
    "3.2",
)


class SumoBuildError(RuntimeError):
    """A SUMO tool failed while building the demo scenario."""


@dataclass(frozen=True)
class SumoTools:
    """Where the SUMO binaries and tools live."""

    home: Path

    @property
    def bin(self) -> Path:
        """The folder of the SUMO executables."""
        return self.home / "bin"

    @property
    def tools(self) -> Path:
        """The folder of SUMO's Python tools."""
        return self.home / "tools"

    def env(self) -> dict[str, str]:
        """Environment for SUMO processes (SUMO_HOME and the PROJ database set)."""
        env = dict(os.environ)
        env["SUMO_HOME"] = str(self.home)
        proj = self.home / "data" / "proj"
        if proj.is_dir():
            env["PROJ_DATA"] = str(proj)
            env["PROJ_LIB"] = str(proj)
        return env


def find_sumo() -> SumoTools:
    """Locate SUMO from the ``eclipse-sumo`` wheel (falls back to ``$SUMO_HOME``)."""
    try:
        import sumo  # type: ignore[import-untyped]

        return SumoTools(Path(sumo.SUMO_HOME))
    except ImportError:
        home = os.environ.get("SUMO_HOME")
        if not home:
            raise SumoBuildError("SUMO not found: install eclipse-sumo or set SUMO_HOME") from None
        return SumoTools(Path(home))


def _run(cmd: list[str], tools: SumoTools, cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=tools.env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.startswith("Error")]
        detail = (
            lines[0] if lines else ((proc.stderr or proc.stdout).strip().splitlines() or ["no output"])[-1]
        )
        raise SumoBuildError(f"{Path(cmd[1] if cmd[0] == sys.executable else cmd[0]).name} failed: {detail}")


_HEADER = re.compile(r"<!-- generated on .*?-->\s*", re.DOTALL)


def _strip_header(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    path.write_text(_HEADER.sub("", text), encoding="utf-8")


def build_net(osm_file: Path, out_dir: Path, tools: SumoTools) -> Path:
    """Convert the OSM file into ``demo.net.xml`` with signal programs from the OSM tags."""
    net = out_dir / NET_FILE
    _run(
        [
            str(tools.bin / "netconvert"),
            "--osm-files",
            str(osm_file.resolve()),
            "-o",
            str(net.resolve()),
            *NETCONVERT_OPTIONS,
            "--no-warnings",
        ],
        tools,
        out_dir,
    )
    _strip_header(net)
    return net


def _lane_direction(shape: list[tuple[float, float]], pos: float) -> tuple[float, float]:
    walked = 0.0
    for (x1, y1), (x2, y2) in itertools.pairwise(shape):
        seg = math.hypot(x2 - x1, y2 - y1)
        if walked + seg >= pos or (x2, y2) == shape[-1]:
            return ((x2 - x1) / seg, (y2 - y1) / seg) if seg > 0 else (0.0, 0.0)
        walked += seg
    return 0.0, 0.0


def map_bus_stops(city: City, plan: TransitPlan, net_file: Path) -> dict[str, tuple[str, float, float]]:
    """Map every GTFS bus stop onto the rightmost bus lane of the net edge running its way.

    Returns ``stop_id -> (lane_id, start_pos, end_pos)``.
    """
    import sumolib  # type: ignore[import-untyped]

    net = sumolib.net.readNet(str(net_file))
    out: dict[str, tuple[str, float, float]] = {}
    for sid in sorted(plan.stops):
        stop = plan.stops[sid]
        if stop.segment is None:
            continue
        a, b = stop.segment
        ax, ay = city.xy(a)
        bx, by = city.xy(b)
        px, py = ax + stop.fraction * (bx - ax), ay + stop.fraction * (by - ay)
        lat, lon = to_lat_lon(px, py)
        x, y = net.convertLonLat2XY(lon, lat)
        ux, uy = (bx - ax) / city.dist_m(a, b), (by - ay) / city.dist_m(a, b)
        best: tuple[float, str, float] | None = None
        for lane, dist in net.getNeighboringLanes(x, y, r=30.0):
            if not lane.allows("bus") or lane.getEdge().getFunction() == "internal":
                continue
            pos, _ = sumolib.geomhelper.polygonOffsetAndDistanceToPoint((x, y), lane.getShape())
            dx, dy = _lane_direction(lane.getShape(), pos)
            if dx * ux + dy * uy < 0.7:
                continue
            edge = lane.getEdge()
            right = next(ln for ln in edge.getLanes() if ln.allows("bus"))
            if best is None or dist < best[0]:
                best = (dist, right.getID(), pos)
        if best is None:
            raise SumoBuildError(
                f"bus stop {sid} ({stop.name}) has no bus lane in direction of travel nearby"
            )
        _dist, lane_id, pos = best
        length = net.getLane(lane_id).getLength()
        if length < BUS_STOP_LENGTH_M + 2:
            raise SumoBuildError(f"bus stop {sid}: lane {lane_id} is only {length:.1f} m long")
        start = min(max(1.0, pos - BUS_STOP_LENGTH_M / 2), length - BUS_STOP_LENGTH_M - 1.0)
        out[sid] = (lane_id, round(start, 2), round(start + BUS_STOP_LENGTH_M, 2))
    return out


def _write_xml(root: ET.Element, path: Path, comment: str | None = None) -> None:
    ET.indent(root, space="    ")
    body = ET.tostring(root, encoding="unicode")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if comment:
        head += f"<!-- {comment} -->\n"
    path.write_text(head + body + "\n", encoding="utf-8")


def write_bus_stops(plan: TransitPlan, mapping: dict[str, tuple[str, float, float]], path: Path) -> None:
    """Write the ``busStop`` additionals, named after the GTFS stops."""
    root = ET.Element("additional")
    for sid, (lane, start, end) in sorted(mapping.items()):
        ET.SubElement(
            root,
            "busStop",
            id=sid,
            lane=lane,
            startPos=f"{start:.2f}",
            endPos=f"{end:.2f}",
            name=plan.stops[sid].name,
            friendlyPos="true",
        )
    _write_xml(root, path, FICTIONAL_NOTE)


def morning_bus_departures(plan: TransitPlan, begin_s: int, end_s: int) -> list[tuple[int, str, str]]:
    """Weekday bus departures in ``[begin_s, end_s)``: ``(depart_s, vehicle_id, pattern_id)``."""
    out = []
    line_types = {ln.line_id: ln.route_type for ln in plan.lines}
    for trip in plan.trips:
        pattern = plan.patterns[trip.pattern_id]
        if trip.service_id != "WD" or line_types[pattern.line_id] != 3:
            continue
        if trip.frequencies:
            for f_start, f_end, headway in trip.frequencies:
                t = f_start
                while t < f_end:
                    if begin_s <= t < end_s:
                        out.append((t, f"bus_{trip.trip_id}_{t // 60:04d}", trip.pattern_id))
                    t += headway
        elif begin_s <= trip.first_departure_s < end_s:
            out.append((trip.first_departure_s, f"bus_{trip.trip_id}", trip.pattern_id))
    return sorted(out)


def write_bus_trips(plan: TransitPlan, mapping: dict[str, tuple[str, float, float]], path: Path) -> int:
    """Write the morning buses as SUMO trips that stop at their GTFS stops (routed later by duarouter)."""
    root = ET.Element("routes")
    ET.SubElement(
        root,
        "vType",
        id="bus",
        vClass="bus",
        length="12.00",
        maxSpeed="13.89",
        accel="1.2",
        decel="4.0",
        sigma="0.3",
        guiShape="bus",
        personCapacity="80",
    )
    deps = morning_bus_departures(plan, BEGIN_S, END_S)
    for depart, vid, pattern_id in deps:
        stops = [s for s in plan.patterns[pattern_id].stop_ids if s in mapping]
        first_edge = mapping[stops[0]][0].rsplit("_", 1)[0]
        last_edge = mapping[stops[-1]][0].rsplit("_", 1)[0]
        trip = ET.SubElement(
            root,
            "trip",
            id=vid,
            type="bus",
            depart=f"{depart:.2f}",
            departLane="best",
            departPos="base",
            arrivalPos="max",
        )
        trip.set("from", first_edge)
        trip.set("to", last_edge)
        for sid in stops:
            ET.SubElement(trip, "stop", busStop=sid, duration=f"{BUS_DWELL_S}")
    _write_xml(root, path)
    return len(deps)


def _tag_bus_lines(plan: TransitPlan, routes: Path) -> None:
    """Give every routed bus its GTFS line as SUMO's ``line`` attribute (duarouter rejects it on input)."""
    lines = {vid: plan.patterns[pid].line_id for _, vid, pid in morning_bus_departures(plan, BEGIN_S, END_S)}

    def add_line(match: re.Match[str]) -> str:
        vid = match.group(1)
        return f'<vehicle id="{vid}" line="{lines[vid]}"' if vid in lines else match.group(0)

    text = routes.read_text(encoding="utf-8")
    routes.write_text(re.sub(r'<vehicle id="([^"]+)"', add_line, text), encoding="utf-8")


def write_sumocfg(out_dir: Path, seed: int) -> Path:
    """Write ``demo.sumocfg`` with relative paths."""
    root = ET.Element("configuration")
    inp = ET.SubElement(root, "input")
    ET.SubElement(inp, "net-file", value=NET_FILE)
    ET.SubElement(inp, "route-files", value=f"{CARS_FILE},{BUSES_FILE}")
    ET.SubElement(inp, "additional-files", value=STOPS_FILE)
    tm = ET.SubElement(root, "time")
    ET.SubElement(tm, "begin", value=str(BEGIN_S))
    ET.SubElement(tm, "end", value=str(SIM_END_S))
    proc = ET.SubElement(root, "processing")
    ET.SubElement(proc, "time-to-teleport", value="300")
    ET.SubElement(proc, "ignore-route-errors", value="false")
    rnd = ET.SubElement(root, "random_number")
    ET.SubElement(rnd, "seed", value=str(seed))
    rep = ET.SubElement(root, "report")
    ET.SubElement(rep, "no-step-log", value="true")
    path = out_dir / CONFIG_FILE
    _write_xml(root, path, FICTIONAL_NOTE)
    return path


def build_scenario(city: City, plan: TransitPlan, osm_file: Path, out_dir: Path, seed: int) -> dict[str, int]:
    """Build net, bus stops, car and bus routes and the sumocfg under ``out_dir``."""
    tools = find_sumo()
    out_dir.mkdir(parents=True, exist_ok=True)
    net = build_net(osm_file, out_dir, tools)
    mapping = map_bus_stops(city, plan, net)
    write_bus_stops(plan, mapping, out_dir / STOPS_FILE)
    bus_trips = out_dir / "buses.trips.xml"
    n_buses = write_bus_trips(plan, mapping, bus_trips)
    _run(
        [
            str(tools.bin / "duarouter"),
            "-n",
            NET_FILE,
            "--route-files",
            bus_trips.name,
            "--additional-files",
            STOPS_FILE,
            "-o",
            BUSES_FILE,
            "--no-step-log",
            "--no-warnings",
            "--seed",
            str(seed),
            "--write-license",
            "false",
        ],
        tools,
        out_dir,
    )
    _tag_bus_lines(plan, out_dir / BUSES_FILE)
    car_trips = out_dir / "cars.trips.xml"
    _run(
        [
            sys.executable,
            str(tools.tools / "randomTrips.py"),
            "-n",
            NET_FILE,
            "-o",
            car_trips.name,
            "-r",
            CARS_FILE,
            "-b",
            str(BEGIN_S),
            "-e",
            str(END_S),
            "-p",
            str(CAR_PERIOD_S),
            "--seed",
            str(seed),
            "--fringe-factor",
            "10",
            "--min-distance",
            "600",
            "--vehicle-class",
            "passenger",
            "--prefix",
            "car",
            "--trip-attributes",
            'departLane="best" departSpeed="max"',
            "--validate",
        ],
        tools,
        out_dir,
    )
    for name in (BUSES_FILE, CARS_FILE, car_trips.name):
        _strip_header(out_dir / name)
    for extra in (out_dir / "buses.rou.alt.xml", out_dir / "cars.rou.alt.xml"):
        extra.unlink(missing_ok=True)
    write_sumocfg(out_dir, seed)
    n_cars = (out_dir / CARS_FILE).read_text(encoding="utf-8").count("<vehicle ")
    n_tls = net.read_text(encoding="utf-8").count("<tlLogic ")
    return {"bus_stops": len(mapping), "buses": n_buses, "cars": n_cars, "traffic_lights": n_tls}
