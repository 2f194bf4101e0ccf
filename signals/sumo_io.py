"""The I/O edge towards SUMO: command lines, additional files, network probing via libsumo.

Only this module, :mod:`signals.runner` and the thin simulation view used by controllers talk to
SUMO; the controller cores work on arrays.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
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
    if scenario.demand_scale != 1.0:
        args += ["--scale", f"{scenario.demand_scale:g}"]
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


def approach_ranges(
    sumo: Any, inters: list[Intersection], range_m: float
) -> dict[str, list[tuple[str, float]]]:
    """Per incoming lane of ``inters``: the lanes within ``range_m`` before its stop line (upstream
    lanes up to the previous signal included), each with the position on that lane from which a
    vehicle counts (0: the whole lane)."""
    pred = _predecessors(sumo)
    controlled = {lane for inter in inters for lane in inter.in_lanes}
    lengths: dict[str, float] = {}

    def length(lane: str) -> float:
        if lane not in lengths:
            lengths[lane] = float(sumo.lane.getLength(lane))
        return lengths[lane]

    result: dict[str, list[tuple[str, float]]] = {}
    for lane in controlled:
        chain = [lane]
        total = length(lane)
        while total < range_m:
            options = [x for x in pred.get(chain[0], []) if x not in chain and x not in controlled]
            if not options:
                break
            best = max(options, key=length)
            chain.insert(0, best)
            total += length(best)
        spans: list[tuple[str, float]] = []
        behind = 0.0
        for x in reversed(chain):
            spans.append((x, max(0.0, length(x) - (range_m - behind))))
            behind += length(x)
        result[lane] = spans
    return result


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


@dataclass(frozen=True)
class ApproachDetectors:
    """The detectors of one signal approach lane: lane-area detectors in segments from the stop line
    upstream (``edges_m``: their bounds as distances from the stop line) and an induction loop at the
    upstream end of the covered range."""

    e2_ids: tuple[str, ...]
    e1_id: str
    edges_m: tuple[float, ...]

    @property
    def length_m(self) -> float:
        """Length of the covered range."""
        return self.edges_m[-1]


def _chain_span(
    chain: list[str], lengths: list[float], near_m: float, far_m: float
) -> tuple[list[str], float, float]:
    """The lanes and positions (on the first and the last of them) covering distances
    ``near_m``..``far_m`` before the stop line (end of the last lane of ``chain``)."""
    lanes: list[str] = []
    pos = end_pos = 0.0
    behind = 0.0  # distance from the stop line to the end of the current lane
    for lane, length in zip(reversed(chain), reversed(lengths), strict=True):
        lo, hi = behind, behind + length
        if hi > near_m and lo < far_m:
            if not lanes:
                end_pos = length - max(0.0, near_m - lo)
            lanes.insert(0, lane)
            pos = length - min(length, far_m - lo)
        behind = hi
    return lanes, max(0.0, pos), end_pos


def write_detector_file(
    path: Path, inters: list[Intersection], range_m: float = 100.0, segment_m: float = 30.0
) -> dict[str, ApproachDetectors]:
    """Lane-area detectors covering up to ``range_m`` before the stop line of every incoming lane
    (continued onto upstream lanes when the lane is short), cut into segments of about
    ``segment_m``, and an induction loop at the upstream end. Returns ``{lane: detectors}``."""
    done: dict[str, ApproachDetectors] = {}
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<additional>"]
    for inter in inters:
        chains = inter.approach_lanes or [[lane] for lane in inter.in_lanes]
        lengths = inter.approach_lengths_m or [[float(x)] for x in inter.lane_length_m]
        for lane, chain, chain_len in zip(inter.in_lanes, chains, lengths, strict=True):
            if lane in done:
                continue
            k = len(done)
            chain_len = [*chain_len[:-1], chain_len[-1] - 0.1]  # stop 10 cm before the stop line
            total = float(max(min(range_m, sum(chain_len) - 0.5), min(1.0, sum(chain_len))))
            n_seg = max(1, round(total / segment_m))
            edges = [total * j / n_seg for j in range(n_seg + 1)]
            ids: list[str] = []
            for j in range(n_seg):
                lanes, pos, end_pos = _chain_span(chain, chain_len, edges[j], edges[j + 1])
                e2 = f"knoten_e2_{k}_{j}"
                where = (
                    f"lanes={quoteattr(' '.join(lanes))}" if len(lanes) > 1 else f"lane={quoteattr(lanes[0])}"
                )
                lines.append(
                    f'    <laneAreaDetector id="{e2}" {where} pos="{pos:.2f}" endPos="{end_pos:.2f}" '
                    f'freq="100000" file="{os.devnull}"/>'
                )
                ids.append(e2)
            first_lanes, first_pos, _ = _chain_span(chain, chain_len, max(0.0, edges[-1] - 0.5), edges[-1])
            e1 = f"knoten_e1_{k}"
            lines.append(
                f'    <inductionLoop id="{e1}" lane={quoteattr(first_lanes[0])} pos="{first_pos:.2f}" '
                f'freq="100000" file="{os.devnull}"/>'
            )
            done[lane] = ApproachDetectors(tuple(ids), e1, tuple(edges))
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


def junction_box_foes(sumo: Any, tls_id: str, box_lanes: list[list[str]]) -> list[frozenset[int]]:
    """Per controlled link of ``tls_id``, the links from other incoming lanes whose paths through
    the junction cross or merge with its path (SUMO's internal foe lanes; ``box_lanes`` from
    :func:`junction_box_lanes`)."""
    origin = [conns[0][0] if conns else "" for conns in sumo.trafficlight.getControlledLinks(tls_id)]
    owner: dict[str, set[int]] = {}
    for j, lanes in enumerate(box_lanes):
        for lane in lanes:
            owner.setdefault(lane, set()).add(j)
    result: list[frozenset[int]] = []
    for i, lanes in enumerate(box_lanes):
        foes: set[int] = set()
        for lane in lanes:
            for foe in sumo.lane.getInternalFoes(lane):
                foes |= owner.get(foe, set())
        result.append(frozenset(j for j in foes if j != i and origin[j] != origin[i]))
    return result
