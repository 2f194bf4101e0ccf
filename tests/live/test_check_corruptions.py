"""Seeded random corruptions of real samples: the checks report problems, never crash."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from api.cli.feeds import run_check
from mobility.live.http import HttpPolicy

REPLACEMENTS: list[Any] = ["x", -1, 3.5, None, True, [], {}, [1, "a"], {"a": 1}, "2020-13-45", 10**20]


def _leaves(doc: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _leaves(v, (*path, k))] + ([path] if path else [])
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _leaves(v, (*path, i))] + ([path] if path else [])
    return [path]


def _mutate(doc: Any, rng: random.Random) -> Any:
    path = rng.choice(_leaves(doc))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = rng.choice(REPLACEMENTS)
    return doc


def _check(source: Path, kind: str | None = None) -> None:
    report = run_check(str(source), kind, HttpPolicy(retries=0))
    assert report.kind in ("gbfs", "gtfs-rt", "ocpi")
    for p in report.problems:
        assert p.file and p.path.startswith("/") and p.message


@pytest.mark.parametrize("seed", range(40))
def test_corrupted_gbfs_folders_never_crash(shared_data: Path, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    src = rng.choice(
        [
            shared_data / "gbfs/schema-testfixtures/v2.3",
            shared_data / "gbfs/schema-testfixtures/v3.0",
            shared_data / "gbfs/real-otp-fixtures/ridecheck/almere",
            shared_data / "gbfs/real-otp-fixtures/lillestrombysykkel",
        ]
    )
    folder = shutil.copytree(src, tmp_path / "feed")
    victim = rng.choice(sorted(folder.glob("*.json")))
    victim.write_text(json.dumps(_mutate(json.loads(victim.read_text()), rng)))
    _check(folder)


@pytest.mark.parametrize("seed", range(30))
def test_corrupted_ocpi_and_protobuf_never_crash(shared_data: Path, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    doc = json.loads((shared_data / "standards/ocpi-2.2.1/location_example.json").read_text())
    (tmp_path / "locations.json").write_text(json.dumps(_mutate(doc, rng)))
    _check(tmp_path / "locations.json", "ocpi")
    data = bytearray((shared_data / "gtfs-rt/septa-tripupdates.pb").read_bytes())
    for _ in range(rng.randint(1, 5)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    (tmp_path / "tu.pb").write_bytes(bytes(data))
    _check(tmp_path / "tu.pb", "gtfs-rt")
