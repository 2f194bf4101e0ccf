"""The I/O edge towards SUMO: command lines, additional files, network probing via libsumo.

Only this module, :mod:`signals.runner` and the thin simulation view used by controllers talk to
SUMO; the controller cores work on arrays.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from signals.errors import SimulationError
from signals.network import Intersection, ProgramPhase, build_intersection
from signals.scenario import Scenario

_OUTPUT_OPTION = re.compile(r"(-output|^log$|^message-log$|^error-log$|^output-prefix$)")


def sumo_binary() -> str:
    """Path of the ``sumo`` binary shipped with the ``eclipse-sumo`` wheel (or on PATH)."""
    try:
        import sumo

        candidate = Path(sumo.SUMO_HOME) / "bin" / "sumo"
        if candidate.exists():
            return str(candidate)
    except ImportError:  # pragma: no cover - eclipse-sumo is a dependency
        pass
    return "sumo"


def sumo_home() -> Path:
    """``SUMO_HOME`` of the installed ``eclipse-sumo`` wheel."""
    import sumo

    return Path(sumo.SUMO_HOME)


def redirect_additional_outputs(additional: Path, workdir: Path) -> Path:
    """Return ``additional`` or, if it writes output files (``file=``), a copy writing into ``workdir``.

    Keeps runs from writing next to read-only scenario inputs and keeps parallel runs apart.
    """
    text = additional.read_text(encoding="utf-8", errors="replace")
    if not re.search(r"\bfile\s*=", text):
        return additional
    tree = ET.parse(additional)
    changed = False
    for elem in tree.iter():
        if "file" in elem.attrib:
            elem.set("file", str(workdir / Path(elem.get("file", "out.xml")).name))
            changed = True
    if not changed:
        return additional
    out = workdir / f"redirected.{additional.name}"
    tree.write(out, encoding="utf-8", xml_declaration=True)
    return out


def base_options(
    scenario: Scenario, workdir: Path, additional_files: list[Path], end_s: float | None = None
) -> list[str]:
    """SUMO options common to every run of ``scenario`` (inputs, window, outputs in ``workdir``)."""
    args: list[str] = []
    if scenario.sumocfg is not None:
        args += ["-c", str(scenario.sumocfg)]
        for name in scenario.extra_options:
            if name in ("tripinfo-output", "log", "seed", "verbose", "duration-log.statistics"):
                continue
            if _OUTPUT_OPTION.search(name):
                args += [f"--{name}", str(workdir / f"cfg.{name}.xml")]
    else:
        args += ["-n", str(scenario.net_file)]
    if scenario.route_files:
        args += ["--route-files", ",".join(str(p) for p in scenario.route_files)]
    if additional_files:
        args += ["--additional-files", ",".join(str(p) for p in additional_files)]
    args += [
        "--begin",
        f"{scenario.begin_s:g}",
        "--end",
        f"{scenario.end_s if end_s is None else end_s:g}",
        "--no-step-log",
        "true",
        "--no-warnings",
        "true",
        "--verbose",
        "false",
        "--duration-log.statistics",
        "false",
        "--log",
        str(workdir / "sumo.log"),
    ]
    return args


def evaluation_options(tripinfo: Path, seed: int) -> list[str]:
    """The RESCO-style evaluation flags: no teleports, tripinfo for unfinished and undeparted vehicles."""
    return [
        "--seed",
        str(seed),
        "--time-to-teleport",
        "-1",
        "--tripinfo-output",
        str(tripinfo),
        "--tripinfo-output.write-unfinished",
        "true",
        "--tripinfo-output.write-undeparted",
        "true",
        "--device.emissions.probability",
        "1",
    ]


def probe_intersections(sumo: Any, args: list[str]) -> list[Intersection]:
    """Start SUMO (libsumo module ``sumo``) with ``args``, read every traffic light, close again."""
    try:
        sumo.start([sumo_binary(), *args])
    except Exception as exc:
        raise SimulationError(f"SUMO could not load the scenario: {exc}") from exc
    try:
        return read_intersections(sumo)
    finally:
        sumo.close()


def _predecessors(sumo: Any) -> dict[str, list[str]]:
    pred: dict[str, list[str]] = {}
    for lane in sumo.lane.getIDList():
        if lane.startswith(":"):
            continue
        for link in sumo.lane.getLinks(lane):
            pred.setdefault(link[0], []).append(lane)
    return pred


def approach_chain(
    lane: str, pred: dict[str, list[str]], length: dict[str, float], stop: set[str], range_m: float
) -> list[str]:
    """Lanes from up to ``range_m`` upstream to ``lane`` (stop line last), following the longest
    predecessor and stopping at lanes that end at another signal."""
    chain = [lane]
    total = length[lane]
    while total < range_m:
        options = [p for p in pred.get(chain[0], []) if p not in chain and p not in stop]
        if not options:
            break
        best = max(options, key=lambda x: length[x])
        chain.insert(0, best)
        total += length[best]
    return chain


def read_intersections(sumo: Any, range_m: float = 100.0) -> list[Intersection]:
    """The controllable intersections of the running simulation (active programs), each approach
    lane with its upstream chain of lanes up to ``range_m`` (for detectors)."""
    result: list[Intersection] = []
    for tls in sumo.trafficlight.getIDList():
        program = sumo.trafficlight.getProgram(tls)
        logics = sumo.trafficlight.getAllProgramLogics(tls)
        logic = next((lg for lg in logics if lg.programID == program), logics[0] if logics else None)
        if logic is None:
            continue
        phases = [
            ProgramPhase(float(p.duration), p.state, float(p.minDur), float(p.maxDur)) for p in logic.phases
        ]
        links = [
            [(c[0], c[1]) for c in conns] if conns else []
            for conns in sumo.trafficlight.getControlledLinks(tls)
        ]
        lanes = {c[0] for conns in links for c in conns if c[0]}
        lengths = {lane: float(sumo.lane.getLength(lane)) for lane in lanes}
        speeds = {lane: float(sumo.lane.getMaxSpeed(lane)) for lane in lanes}
        inter = build_intersection(tls, program, phases, links, lengths, speeds)
        if inter is not None:
            result.append(inter)
    if result:
        pred = _predecessors(sumo)
        controlled = {lane for inter in result for lane in inter.in_lanes}
        all_lengths: dict[str, float] = {}
        for inter in result:
            for lane in inter.in_lanes:
                todo = [lane]
                seen: set[str] = set()
                while todo:  # lengths of the lanes a chain may use
                    x = todo.pop()
                    if x in seen:
                        continue
                    seen.add(x)
                    all_lengths[x] = float(sumo.lane.getLength(x))
                    if len(seen) < 50:
                        todo.extend(pred.get(x, []))
            inter.approach_lanes = [
                approach_chain(lane, pred, all_lengths, controlled - {lane}, range_m)
                for lane in inter.in_lanes
            ]
            inter.approach_lengths_m = [[all_lengths[x] for x in chain] for chain in inter.approach_lanes]
    return result


def write_tllogic_file(
    path: Path,
    programs: dict[str, tuple[str, float, list[tuple[float, str, float, float]]]],
    kind: str = "static",
) -> Path:
    """Write SUMO ``tlLogic`` definitions: ``{tls_id: (program_id, offset_s, [(dur, state, min, max)])}``."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<additional>"]
    for tls, (program_id, offset_s, phases) in programs.items():
        lines.append(
            f'    <tlLogic id={quoteattr(tls)} type="{kind}" programID={quoteattr(program_id)} '
            f'offset="{offset_s:g}">'
        )
        for dur, state, min_dur, max_dur in phases:
            extra = f' minDur="{min_dur:g}" maxDur="{max_dur:g}"' if kind != "static" else ""
            lines.append(f'        <phase duration="{dur:g}" state="{state}"{extra}/>')
        lines.append("    </tlLogic>")
    lines.append("</additional>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_detector_file(path: Path, inters: list[Intersection], range_m: float = 100.0) -> dict[str, Any]:
    """Add a lane-area detector covering up to ``range_m`` before the stop line of every incoming lane
    (continued onto upstream lanes when the lane is short) and an induction loop at its upstream end.
    Returns ``{lane: (e2_id, e1_id, detector_length_m)}``."""
    done: dict[str, Any] = {}
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<additional>"]
    for inter in inters:
        chains = inter.approach_lanes or [[lane] for lane in inter.in_lanes]
        lengths = inter.approach_lengths_m or [[float(x)] for x in inter.lane_length_m]
        for lane, chain, chain_len in zip(inter.in_lanes, chains, lengths, strict=True):
            if lane in done:
                continue
            e2, e1 = f"knoten_e2_{len(done)}", f"knoten_e1_{len(done)}"
            stop_len = float(inter.lane_length_m[inter.in_lanes.index(lane)])
            if len(chain) == 1:
                det_len = float(max(1.0, min(range_m, stop_len - 0.5)))
                start = max(0.0, stop_len - det_len - 0.1)
                lines.append(
                    f'    <laneAreaDetector id="{e2}" lane={quoteattr(lane)} pos="{start:.2f}" '
                    f'endPos="{stop_len - 0.1:.2f}" freq="100000" file="{os.devnull}"/>'
                )
                first = lane
            else:
                first = chain[0]
                first_len = chain_len[0]
                rest = sum(chain_len[1:])
                start = max(0.0, first_len - max(1.0, range_m - rest))
                det_len = first_len - start + rest
                lines.append(
                    f'    <laneAreaDetector id="{e2}" lanes={quoteattr(" ".join(chain))} pos="{start:.2f}" '
                    f'endPos="{stop_len - 0.1:.2f}" freq="100000" file="{os.devnull}"/>'
                )
            lines.append(
                f'    <inductionLoop id="{e1}" lane={quoteattr(first)} pos="{start:.2f}" '
                f'freq="100000" file="{os.devnull}"/>'
            )
            done[lane] = (e2, e1, det_len)
    lines.append("</additional>")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return done


def junction_box_lanes(sumo: Any, tls_id: str) -> list[list[str]]:
    """Per controlled link of ``tls_id``, the junction-internal lanes its vehicles drive through
    (the link's via lane and the internal lanes after it, e.g. past an internal stop line)."""
    result: list[list[str]] = []
    for conns in sumo.trafficlight.getControlledLinks(tls_id):
        lanes: list[str] = []
        todo = [c[2] for c in conns if len(c) > 2 and c[2]]
        while todo and len(lanes) < 8:
            lane = todo.pop()
            if lane in lanes or not lane.startswith(":"):
                continue
            lanes.append(lane)
            todo.extend(link[0] for link in sumo.lane.getLinks(lane) if link[0].startswith(":"))
        result.append(lanes)
    return result
