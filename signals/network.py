"""Compact, simulator-independent description of the signalised intersections of a SUMO net.

Built once per run from the live simulation (so programs loaded from additional files count),
then handed to the pure controller cores as plain arrays with integer ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GREEN = "Gg"


@dataclass(frozen=True)
class ProgramPhase:
    """One phase of a SUMO signal program."""

    duration_s: float
    state: str
    min_dur_s: float
    max_dur_s: float


@dataclass
class Intersection:
    """One traffic-light system: its green phases, lanes and transition times.

    ``served[p, l]`` is the share of incoming lane ``l``'s movements that green phase ``p`` releases
    (a permissive ``g`` counts half): 1.0 when all of them have a protected green.
    """

    tls_id: str
    program_id: str
    n_links: int
    phases: list[ProgramPhase]
    green_states: list[str]
    green_durations_s: list[float]
    yellow_s: float
    all_red_s: float
    in_lanes: list[str]
    out_lanes: list[str]
    lane_length_m: np.ndarray
    lane_speed_mps: np.ndarray
    served: np.ndarray
    link_in: np.ndarray  # link index -> in-lane index (-1 if none)
    link_out_lanes: list[list[str]] = field(default_factory=list)  # per in-lane: reachable out lanes
    approach_lanes: list[list[str]] = field(
        default_factory=list
    )  # per in-lane: upstream chain, stop line last
    approach_lengths_m: list[list[float]] = field(default_factory=list)  # lengths of those lanes
    yellow_after_s: list[float] = field(default_factory=list)  # per green phase: its own yellow
    all_red_after_s: list[float] = field(default_factory=list)  # per green phase: its own all-red
    link_out: list[str] = field(default_factory=list)  # per link: its first exit lane ("" if none)

    def clearance_s(self, phase: int) -> tuple[float, float]:
        """Yellow and all-red shown when green ``phase`` ends (the program's own for that phase)."""
        if self.yellow_after_s:
            return self.yellow_after_s[phase], self.all_red_after_s[phase]
        return self.yellow_s, self.all_red_s

    @property
    def n_phases(self) -> int:
        """Number of distinct green phases."""
        return len(self.green_states)

    @property
    def static_cycle_s(self) -> float:
        """Cycle length of the static program."""
        return float(sum(p.duration_s for p in self.phases))


def is_green_phase(state: str) -> bool:
    """A phase state that gives green to some link and shows no yellow."""
    return any(c in GREEN for c in state) and not any(c in "yY" for c in state)


def _green_links(state: str) -> set[int]:
    return {i for i, c in enumerate(state) if c in GREEN}


def program_clearances(
    phases: list[ProgramPhase], greens: list[str], default_yellow_s: float
) -> tuple[list[float], list[float]]:
    """Per green state, the yellow and all-red the program shows when it ends.

    After each occurrence of a green state in the program, following green phases that keep all of
    its greens (overlaps that only add streams) are passed over; then the yellow phases that follow
    make up its yellow and the all-red phases (shorter than 10 s) after them its all-red. A green
    state the program leaves without a yellow gets ``default_yellow_s`` (the intersection's longest
    yellow). Several occurrences: the longest clearance counts.
    """
    n = len(phases)
    yellow = [0.0] * len(greens)
    red = [0.0] * len(greens)
    for i, ph in enumerate(phases):
        if ph.state not in greens:
            continue
        g = greens.index(ph.state)
        keep = _green_links(ph.state)
        j = (i + 1) % n
        steps = 0
        while steps < n and is_green_phase(phases[j].state) and keep <= _green_links(phases[j].state):
            j, steps = (j + 1) % n, steps + 1
        y = 0.0
        while steps < n and any(c in "yY" for c in phases[j].state):
            y += phases[j].duration_s
            j, steps = (j + 1) % n, steps + 1
        r = 0.0
        while steps < n and not any(c in "GgyY" for c in phases[j].state) and phases[j].duration_s < 10:
            r += phases[j].duration_s
            j, steps = (j + 1) % n, steps + 1
        yellow[g] = max(yellow[g], y if y > 0 else default_yellow_s)
        red[g] = max(red[g], r)
    return yellow, red


def transition_state(from_state: str, to_state: str, kind: str) -> str:
    """The yellow (``kind='y'``) or all-red (``kind='r'``) state between two green states.

    Links green in both keep their green; links losing green show yellow, then red.
    """
    out = []
    for a, b in zip(from_state, to_state, strict=True):
        if a in GREEN and b in GREEN:
            out.append("g" if "g" in (a, b) else "G")
        elif a in GREEN:
            out.append("y" if kind == "y" else "r")
        else:
            out.append("r")
    return "".join(out)


def build_intersection(
    tls_id: str,
    program_id: str,
    phases: list[ProgramPhase],
    links: list[list[tuple[str, str]]],
    lane_length_m: dict[str, float],
    lane_speed_mps: dict[str, float],
) -> Intersection | None:
    """Derive the controller view of one traffic light from its program and controlled links.

    Returns ``None`` when the program has fewer than two distinct green phases (nothing to control).
    """
    greens, durations = _green_phases(phases)
    if len(greens) < 2:
        return None
    yellows = [p.duration_s for p in phases if any(c in "yY" for c in p.state)]
    reds = [p.duration_s for p in phases if not any(c in "GgyY" for c in p.state) and p.duration_s < 10]
    in_lanes, out_lanes, link_in, lane_out = _link_lanes(links)
    served = _served(greens, len(links), link_in, len(in_lanes))
    longest_yellow_s = max(3.0, max(yellows, default=3.0))
    yellow_after, red_after = program_clearances(phases, greens, longest_yellow_s)
    return Intersection(
        tls_id=tls_id,
        program_id=program_id,
        n_links=len(links),
        phases=phases,
        green_states=greens,
        green_durations_s=durations,
        yellow_s=longest_yellow_s,
        all_red_s=max(reds, default=0.0),
        in_lanes=in_lanes,
        out_lanes=out_lanes,
        lane_length_m=np.array([lane_length_m[x] for x in in_lanes]),
        lane_speed_mps=np.array([lane_speed_mps[x] for x in in_lanes]),
        served=served,
        link_in=link_in,
        link_out_lanes=[lane_out.get(x, []) for x in in_lanes],
        yellow_after_s=yellow_after,
        all_red_after_s=red_after,
        link_out=[next((o for _, o in conns if o), "") for conns in links],
    )


def _green_phases(phases: list[ProgramPhase]) -> tuple[list[str], list[float]]:
    """The distinct green states in program order, each with its total duration in the cycle."""
    greens: list[str] = []
    durations: list[float] = []
    for ph in phases:
        if is_green_phase(ph.state) and ph.state not in greens:
            greens.append(ph.state)
            durations.append(ph.duration_s)
        elif is_green_phase(ph.state):
            durations[greens.index(ph.state)] += ph.duration_s
    return greens, durations


def _link_lanes(
    links: list[list[tuple[str, str]]],
) -> tuple[list[str], list[str], np.ndarray, dict[str, list[str]]]:
    """Incoming and outgoing lanes in link order, each link's incoming lane index, each lane's exits."""
    in_lanes: list[str] = []
    out_lanes: list[str] = []
    link_in = np.full(len(links), -1, dtype=np.int64)
    lane_out: dict[str, list[str]] = {}
    for i, conns in enumerate(links):
        for in_lane, out_lane in conns:
            if not in_lane:
                continue
            if in_lane not in in_lanes:
                in_lanes.append(in_lane)
            link_in[i] = in_lanes.index(in_lane)
            if out_lane and out_lane not in out_lanes:
                out_lanes.append(out_lane)
            if out_lane:
                lane_out.setdefault(in_lane, []).append(out_lane)
    return in_lanes, out_lanes, link_in, lane_out


def _served(greens: list[str], n_links: int, link_in: np.ndarray, n_in_lanes: int) -> np.ndarray:
    """``served[p, l]``: the share of lane l's movements that green phase p lets go.

    A permissive movement counts half; a shared lane whose only green movement is a turn is blocked
    by the vehicles behind the turners.
    """
    n_links_of_lane = np.zeros(n_in_lanes)
    for lane in link_in:
        if lane >= 0:
            n_links_of_lane[lane] += 1
    served = np.zeros((len(greens), n_in_lanes))
    for p, state in enumerate(greens):
        for i, c in enumerate(state[:n_links]):
            lane = link_in[i]
            if lane < 0:
                continue
            if c == "G":
                served[p, lane] += 1.0
            elif c == "g":
                served[p, lane] += 0.5
    served /= np.maximum(1.0, n_links_of_lane)[None, :]
    return served
