"""``knoten feeds check``: real samples pass, corrupted copies fail with the precise problem."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def feeds_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "feeds", "check", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


SAMPLES = [
    ("gbfs/schema-testfixtures/v2.3", "gbfs 2.3", "stations 2"),
    ("gbfs/schema-testfixtures/v3.0", "gbfs 3.0", "stations 23"),
    ("gbfs/real-otp-fixtures/helsinki", "gbfs 1.0", "stations 8"),
    ("gbfs/real-otp-fixtures/lillestrombysykkel", "gbfs 2.2", "stations 6"),
    ("gbfs/real-otp-fixtures/ridecheck/almere", "gbfs 3.0", "vehicles 6"),
    ("gbfs/real-otp-fixtures/tieroslo", "gbfs 2.3", "geofencing zones 2"),
    ("gtfs-rt/septa-tripupdates.pb", "gtfs-rt 1.0", "trip updates 35"),
    ("standards/ocpi-2.2.1/location_example.json", "ocpi 2.2.1", "evses 2"),
]


@pytest.mark.parametrize(("sample", "kind", "count"), SAMPLES)
def test_real_samples_are_accepted(shared_data: Path, sample: str, kind: str, count: str) -> None:
    result = feeds_check(str(shared_data / sample))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"kind      {kind}" in result.stdout and count in result.stdout
    assert result.stdout.rstrip().endswith("valid")


def _corrupt(tmp: Path, shared: Path, case: str) -> tuple[Path, str]:
    if case == "gbfs_wrong_type":
        folder = shutil.copytree(shared / "gbfs/schema-testfixtures/v3.0", tmp / "gbfs")
        doc = json.loads((folder / "station_status.json").read_text())
        doc["data"]["stations"][0]["num_docks_available"] = "12"
        (folder / "station_status.json").write_text(json.dumps(doc))
        return (
            folder,
            "station_status.json: /data/stations/0/num_docks_available: '12' is not of type 'integer'",
        )
    if case == "gbfs_1_0_wrong_type":  # a version without a bundled schema: its numbers are checked
        folder = shutil.copytree(shared / "gbfs/real-otp-fixtures/helsinki", tmp / "gbfs")
        doc = json.loads((folder / "station_status.json").read_text())
        doc["data"]["stations"][3]["num_bikes_available"] = "many"
        (folder / "station_status.json").write_text(json.dumps(doc))
        return folder, "station_status.json: /data/stations/3/num_bikes_available: 'many' is not a number"
    if case == "gbfs_2_2_coordinate_out_of_range":
        folder = shutil.copytree(shared / "gbfs/real-otp-fixtures/lillestrombysykkel", tmp / "gbfs")
        doc = json.loads((folder / "station_information.json").read_text())
        doc["data"]["stations"][1]["lat"] = 159.9
        (folder / "station_information.json").write_text(json.dumps(doc))
        return folder, "station_information.json: /data/stations/1/lat: 159.9 is outside -90..90"
    if case == "gbfs_broken_json":
        folder = shutil.copytree(shared / "gbfs/real-otp-fixtures/lillestrombysykkel", tmp / "gbfs")
        text = (folder / "station_information.json").read_text()
        (folder / "station_information.json").write_text(text[: len(text) // 2])
        return folder, "station_information.json: /: invalid JSON"
    if case == "gtfs_rt_truncated":
        data = (shared / "gtfs-rt/septa-tripupdates.pb").read_bytes()
        (tmp / "septa.pb").write_bytes(data[:-7])
        return tmp / "septa.pb", "septa.pb: /: protobuf does not decode"
    if case == "ocpi_wrong_type":
        doc = json.loads((shared / "standards/ocpi-2.2.1/location_example.json").read_text())
        doc["evses"][1]["connectors"][0]["max_amperage"] = "16A"
        (tmp / "location.json").write_text(json.dumps(doc))
        return tmp / "location.json", "location.json: /evses/1/connectors/0/max_amperage: must be an integer"
    if case == "ocpi_negative_voltage":
        doc = json.loads((shared / "standards/ocpi-2.2.1/location_example.json").read_text())
        doc["evses"][0]["connectors"][0]["max_voltage"] = -230
        (tmp / "location.json").write_text(json.dumps(doc))
        return (
            tmp / "location.json",
            "location.json: /evses/0/connectors/0/max_voltage: -230 is outside 1..2000",
        )
    if case == "ocpi_latitude_out_of_range":
        doc = json.loads((shared / "standards/ocpi-2.2.1/location_example.json").read_text())
        doc["coordinates"]["latitude"] = "95.1"
        (tmp / "location.json").write_text(json.dumps(doc))
        return (
            tmp / "location.json",
            "location.json: /coordinates/latitude: '95.1' is not a latitude in degrees",
        )
    if case == "ocpi_broken_json":
        text = (shared / "standards/ocpi-2.2.1/location_example.json").read_text()
        (tmp / "location.json").write_text(text.replace('"status": "AVAILABLE",', '"status": AVAILABLE,'))
        return tmp / "location.json", "location.json: /: invalid JSON"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "gbfs_wrong_type",
        "gbfs_1_0_wrong_type",
        "gbfs_2_2_coordinate_out_of_range",
        "gbfs_broken_json",
        "gtfs_rt_truncated",
        "ocpi_wrong_type",
        "ocpi_negative_voltage",
        "ocpi_latitude_out_of_range",
        "ocpi_broken_json",
    ],
)
def test_corrupted_copies_are_rejected_precisely(shared_data: Path, tmp_path: Path, case: str) -> None:
    source, problem = _corrupt(tmp_path, shared_data, case)
    result = feeds_check(str(source))
    assert result.returncode == 1
    assert f"problem   {problem}" in result.stdout
    assert result.stderr.startswith("knoten: error: ") and "not valid" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_source_is_one_line_error(tmp_path: Path) -> None:
    result = feeds_check(str(tmp_path / "nope.json"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "no such file" in result.stderr


def test_json_report(shared_data: Path) -> None:
    result = feeds_check(str(shared_data / "gtfs-rt/septa-tripupdates.pb"), "--json")
    report = json.loads(result.stdout)
    assert report["valid"] and report["counts"]["trip_updates"] == 35
    assert report["as_of"] == "2023-03-29T20:09:32+00:00"
