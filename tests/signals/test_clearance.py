"""One clearance rule for every controller: the yellow and all-red the program shows after a green.

The tiny grid's signals get a program whose three green phases end with different yellows (3, 4
and 5 s) and all-reds (none, 2 and 1 s); every controller is run in SUMO and the clearances it
actually showed are read back from SUMO's own record of the signal states.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from signals.evaluate import evaluate
from signals.network import ProgramPhase, build_intersection, is_green_phase
from signals.scenario import load_scenario

GREENS = {  # green state -> (yellow s, all-red s) the program shows after it
    "GGGrrrrrGGGrrrrr": (3.0, 0.0),
    "rrrGrrrrrrrGrrrr": (4.0, 2.0),
    "rrrrGGggrrrrGGgg": (5.0, 1.0),
}
PROGRAM = [
    (15.0, "GGGrrrrrGGGrrrrr"),
    (3.0, "yyyrrrrryyyrrrrr"),
    (8.0, "rrrGrrrrrrrGrrrr"),
    (4.0, "rrryrrrrrrryrrrr"),
    (2.0, "rrrrrrrrrrrrrrrr"),
    (15.0, "rrrrGGggrrrrGGgg"),
    (5.0, "rrrryyyyrrrryyyy"),
    (1.0, "rrrrrrrrrrrrrrrr"),
]


def test_program_clearances_per_green() -> None:
    phases = [ProgramPhase(d, s, d, d) for d, s in PROGRAM]
    links = [[(f"in{i // 4}_0", f"out{i}_0")] for i in range(16)]
    lanes = {f"in{k}_0": 100.0 for k in range(4)}
    inter = build_intersection("t", "p", phases, links, lanes, dict.fromkeys(lanes, 13.9))
    assert inter is not None
    assert [inter.clearance_s(p) for p in range(3)] == list(GREENS.values())
    # an overlap green that only adds streams passes its yellow on; a green left without one gets the longest
    ov = [
        ProgramPhase(20, "GGrr", 20, 20),
        ProgramPhase(4, "GGGr", 4, 4),
        ProgramPhase(3, "yyyr", 3, 3),
        ProgramPhase(20, "rrrG", 20, 20),
        ProgramPhase(6, "rrry", 6, 6),
    ]
    two = build_intersection("t", "p", ov, links[:4], lanes, dict.fromkeys(lanes, 13.9))
    assert two is not None and [two.clearance_s(p) for p in range(3)] == [(3.0, 0.0), (3.0, 0.0), (6.0, 0.0)]
    ov[2] = ProgramPhase(20, "rrrG", 20, 20)  # no yellow after "GGGr": the longest (6 s)
    ov[3] = ProgramPhase(6, "rrry", 6, 6)
    three = build_intersection("t", "p", ov[:4], links[:4], lanes, dict.fromkeys(lanes, 13.9))
    assert three is not None and three.clearance_s(1) == (6.0, 0.0)


def _program_file(net: Path, path: Path) -> Path:
    ids = [e.get("id") for e in ET.parse(net).getroot().iter("tlLogic")]
    lines = ["<additional>"]
    for tls in ids:
        lines.append(f'  <tlLogic id="{tls}" type="static" programID="clear" offset="0">')
        lines += [f'    <phase duration="{d:g}" state="{s}"/>' for d, s in PROGRAM]
        lines.append("  </tlLogic>")
    path.write_text("\n".join([*lines, "</additional>"]) + "\n", encoding="utf-8")
    return path


def _runs(series: list[tuple[float, str]], end_s: float) -> list[tuple[str, str, float]]:
    """(kind G/Y/R, state, duration) of consecutive signal states of one kind; the last run is cut."""
    runs: list[list] = []
    for (t, state), (t_next, _) in zip(series, [*series[1:], (end_s, "")], strict=True):
        kind = "Y" if any(c in "yY" for c in state) else "G" if is_green_phase(state) else "R"
        if runs and runs[-1][0] == kind and (kind != "G" or runs[-1][1] == state):
            runs[-1][2] += t_next - t
        else:
            runs.append([kind, state, t_next - t])
    return [(k, s, d) for k, s, d in runs[:-1]]


@pytest.mark.parametrize("controller", ["static", "actuated", "webster", "max-pressure", "knoten", "plan"])
def test_every_controller_shows_the_programs_clearance_per_transition(
    controller: str, tiny_grid: Path, tmp_path: Path
) -> None:
    folder = tiny_grid.parent
    program = _program_file(folder / "net.net.xml", tmp_path / "clear.add.xml")
    states = tmp_path / "tls.xml"
    save = tmp_path / "save.add.xml"
    save.write_text(f'<additional><timedEvent type="SaveTLSStates" dest="{states}"/></additional>')
    adds = [program, save]
    params = None
    if controller == "plan":
        import libsumo

        from signals.coordinate import write_plan_file
        from signals.sumo_io import base_options, probe_intersections
        from signals.timing import FixedPlan

        scenario = _scenario(tiny_grid, tmp_path / "probe", [program])
        inters = probe_intersections(libsumo, base_options(scenario, tmp_path, [program], end_s=1))
        plans = [FixedPlan(i.tls_id, 60, [12, 8, 12], 7 * k) for k, i in enumerate(inters)]
        params = {"plan_file": str(write_plan_file(tmp_path / "plan.add.xml", inters, plans))}
    summary = evaluate(
        _scenario(tiny_grid, tmp_path / "sc", adds), controller, [1], tmp_path / "out", params=params
    )
    assert summary["aggregate"]["arrived"]["mean"] > 20
    per_tls: dict[str, list[tuple[float, str]]] = {}
    for elem in ET.parse(states).getroot().iter("tlsState"):
        per_tls.setdefault(elem.get("id", ""), []).append((float(elem.get("time", 0)), elem.get("state", "")))
    seen: set[tuple[float, float]] = set()
    for series in per_tls.values():
        runs = _runs(series, 300.0)
        for i in range(1, len(runs) - 1):  # the run after a yellow must be complete
            kind, _, dur = runs[i]
            if kind != "Y":
                continue
            before = runs[i - 1]
            assert before[0] == "G", f"yellow after {before}"
            yellow, all_red = GREENS[before[1]]
            assert dur == pytest.approx(yellow), f"{controller}: {dur} s of yellow after {before[1]}"
            nxt = runs[i + 1]
            shown_red = nxt[2] if nxt[0] == "R" else 0.0
            if controller == "knoten":  # may hold the all-red longer while the junction box clears
                assert shown_red >= all_red - 1e-6
            else:
                assert shown_red == pytest.approx(all_red), f"{controller}: all-red {shown_red} s"
            seen.add((yellow, all_red))
    assert len(seen) >= 2, f"{controller} switched through too few different transitions: {seen}"


def _scenario(tiny_grid: Path, folder: Path, adds: list[Path]):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.yaml").write_text(
        f"net: {tiny_grid.parent / 'net.net.xml'}\nroutes: [{tiny_grid.parent / 'routes.rou.xml'}]\n"
        f"additionals: [{', '.join(str(a) for a in adds)}]\nbegin: 0\nend: 300\n"
    )
    return load_scenario(folder)
