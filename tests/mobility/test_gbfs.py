"""GBFS parsing: real fixtures, spec examples, station-based vehicles, precise problems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mobility.errors import FeedError
from mobility.sharing.gbfs import (
    decode_json,
    file_kind,
    guess_kind,
    load_gbfs,
    load_snapshot,
    parse_documents,
    parse_timestamp,
)

FIXTURE_FOLDERS = {
    # folder: (version, stations, vehicles, vehicle types, geofencing zones)
    "schema-testfixtures/v2.3": ("2.3", 2, 1, 2, 1),
    "schema-testfixtures/v3.0": ("3.0", 23, 7, 1, 272),
    "real-otp-fixtures/helsinki": ("1.0", 8, 0, 0, 0),
    "real-otp-fixtures/lillestrombysykkel": ("2.2", 6, 0, 1, 0),
    "real-otp-fixtures/tieroslo": ("2.3", 0, 0, 0, 2),
    "real-otp-fixtures/ridecheck/almere": ("3.0", 0, 6, 1, 14),
    "real-otp-fixtures/duplicate-stations-v3": ("3.0", 3, 0, 0, 0),
}


@pytest.mark.parametrize("folder", sorted(FIXTURE_FOLDERS))
def test_every_fixture_folder_parses_without_problems(shared_data: Path, folder: str) -> None:
    (feed,) = load_gbfs(shared_data / "gbfs" / folder)
    version, n_stations, n_vehicles, n_types, n_zones = FIXTURE_FOLDERS[folder]
    snap = feed.snapshot
    assert feed.problems == []
    assert feed.version == version
    assert (len(snap.stations), len(snap.vehicles), len(snap.vehicle_types), len(snap.geofencing_zones)) == (
        n_stations,
        n_vehicles,
        n_types,
        n_zones,
    )
    assert snap.as_of.tzinfo is not None


def test_duplicate_station_ids_are_kept_once_with_a_warning(shared_data: Path) -> None:
    (feed,) = load_gbfs(shared_data / "gbfs" / "real-otp-fixtures" / "duplicate-stations-v3")
    ids = [s.station_id for s in feed.snapshot.stations]
    assert len(ids) == len(set(ids))
    assert any("duplicate station_id" in w.message for w in feed.warnings)


def _spec_examples(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("gbfs/spec-examples/v*/*.json"))


def test_every_whole_file_spec_example_parses(shared_data: Path) -> None:
    checked = 0
    for path in _spec_examples(shared_data):
        doc = decode_json(path.read_bytes(), path.name)
        if not ("data" in doc and "last_updated" in doc):
            continue  # a fragment, not a whole file
        kind = file_kind(path.name) or guess_kind(doc)
        assert kind is not None, path
        version = path.parent.name[1:]
        feed = parse_documents({kind: (path.name, doc)}, version=version)
        assert feed.problems == [], (path, feed.problems)
        checked += 1
    assert checked >= 40


def test_station_based_cars_are_never_free_floating(shared_data: Path) -> None:
    for version, status in (("v3.0", "vehicle_status"), ("v2.3", "free_bike_status")):
        folder = shared_data / "gbfs" / "spec-examples" / version
        docs = {
            "vehicle_types": (
                "vehicle_types.json",
                json.loads((folder / "vehicle_types__1.json").read_text()),
            ),
            status: (f"{status}.json", json.loads((folder / f"{status}__2.json").read_text())),
        }
        snap = parse_documents(docs).snapshot
        at_station = [v for v in snap.vehicles if v.station_id or v.home_station_id]
        assert at_station, version
        free = {v.vehicle_id for v in snap.free_floating_vehicles()}
        assert not free & {v.vehicle_id for v in at_station}


def test_timestamps_posix_and_rfc3339_are_aware() -> None:
    assert parse_timestamp(1631517382).isoformat() == "2021-09-13T07:16:22+00:00"  # type: ignore[union-attr]
    t = parse_timestamp("2023-07-17T13:34:13+02:00")
    assert t is not None and t.utcoffset() is not None and t.hour == 13


def test_wrong_type_is_reported_with_file_and_path(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "gbfs" / "schema-testfixtures" / "v2.3"
    for f in src.glob("*.json"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    doc = json.loads((tmp_path / "station_status.json").read_text())
    doc["data"]["stations"][0]["num_bikes_available"] = "three"
    (tmp_path / "station_status.json").write_text(json.dumps(doc))
    (feed,) = load_gbfs(tmp_path)
    assert [(p.file, p.path) for p in feed.problems] == [
        ("station_status.json", "/data/stations/0/num_bikes_available")
    ]
    with pytest.raises(FeedError, match=r"station_status\.json"):
        load_snapshot(tmp_path)


def test_broken_json_names_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "station_status.json").write_text('{"last_updated": 1, "ttl": 0, "data": {"stations": [}')
    with pytest.raises(FeedError, match=r"station_status.json: invalid JSON: .* \(line 1, column"):
        load_gbfs(tmp_path)


def test_several_systems_merge_into_one_snapshot(shared_data: Path) -> None:
    snap = load_snapshot(
        [
            shared_data / "gbfs" / "real-otp-fixtures" / "helsinki",
            shared_data / "gbfs" / "real-otp-fixtures" / "ridecheck" / "almere",
        ]
    )
    assert {s.system_id for s in snap.systems} == {"HSL_FI_Helsinki", "check_almere"}
    assert len(snap.stations) == 8 and len(snap.vehicles) == 6
    assert {v.form_factor for v in snap.vehicles} == {"moped"}


def test_vehicle_types_keep_the_return_constraint(shared_data: Path) -> None:
    """GBFS 2.3 and 3.0 say per vehicle type where a rental may end (the planner's return rule)."""
    for version in ("v2.3", "v3.0"):
        doc = json.loads(
            (shared_data / "gbfs" / "spec-examples" / version / "vehicle_types__1.json").read_text()
        )
        snap = parse_documents({"vehicle_types": ("vehicle_types.json", doc)}).snapshot
        want = {str(t["vehicle_type_id"]): t.get("return_constraint") for t in doc["data"]["vehicle_types"]}
        got = {vt.vehicle_type_id: vt.return_constraint for vt in snap.vehicle_types}
        assert got == want and "roundtrip_station" in got.values(), version
