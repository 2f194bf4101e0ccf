"""The demo city: every promised file, valid against the standards, coherent, runnable, deterministic."""

from __future__ import annotations

import csv
import itertools
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from charging.ocpi import EVSE_STATUSES
from scenarios.demo import GBFS_SYSTEMS, HUB_OCPI_LOCATION_ID, HUB_STOP_ID, DemoCity, build_demo_city
from scenarios.demo.sumo import find_sumo

OCPI_LOCATION_FIELDS = {
    "country_code",
    "party_id",
    "id",
    "publish",
    "publish_allowed_to",
    "name",
    "address",
    "city",
    "postal_code",
    "state",
    "country",
    "coordinates",
    "related_locations",
    "parking_type",
    "evses",
    "directions",
    "operator",
    "suboperator",
    "owner",
    "facilities",
    "time_zone",
    "opening_times",
    "charging_when_closed",
    "images",
    "energy_mix",
    "last_updated",
}
OCPI_LOCATION_REQUIRED = {
    "country_code",
    "party_id",
    "id",
    "publish",
    "address",
    "city",
    "country",
    "coordinates",
    "time_zone",
    "last_updated",
}
OCPI_EVSE_FIELDS = {
    "uid",
    "evse_id",
    "status",
    "status_schedule",
    "capabilities",
    "connectors",
    "floor_level",
    "coordinates",
    "physical_reference",
    "directions",
    "parking_restrictions",
    "images",
    "last_updated",
}
OCPI_EVSE_REQUIRED = {"uid", "status", "connectors", "last_updated"}
OCPI_CONNECTOR_FIELDS = {
    "id",
    "standard",
    "format",
    "power_type",
    "max_voltage",
    "max_amperage",
    "max_electric_power",
    "tariff_ids",
    "terms_and_conditions",
    "last_updated",
}
OCPI_CONNECTOR_REQUIRED = {
    "id",
    "standard",
    "format",
    "power_type",
    "max_voltage",
    "max_amperage",
    "last_updated",
}
EVSE_ID_PATTERN = re.compile(r"^[A-Z]{2}\*?[A-Z0-9]{3}\*?E[A-Z0-9*]{1,30}$")
SESSION_COLUMNS = ["session_id", "evse_id", "arrival", "departure", "energy_kwh", "max_kw"]


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no UTC offset"
    return parsed


def _read_gtfs_table(zip_path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(zip_path) as zf, zf.open(name) as fh:
        return list(csv.DictReader(line.decode("utf-8") for line in fh))


def _validate_gtfs(zip_path: Path, out_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    exe = Path(sys.executable).parent / "gtfs-validator"
    cmd = (
        [str(exe)] if exe.exists() else [sys.executable, "-c", "from gtfs_validator.cli import main; main()"]
    )
    proc = subprocess.run(
        [*cmd, "-i", str(zip_path), "-o", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out_dir / "report.json").read_text(encoding="utf-8"))
    system_errors = json.loads((out_dir / "system_errors.json").read_text(encoding="utf-8"))
    return report["notices"], system_errors


# ---------------------------------------------------------------- files and manifest


def test_every_promised_file_exists_and_is_listed_in_the_manifest(demo_city: DemoCity) -> None:
    missing = [str(p) for p in demo_city.files() if not p.is_file() or p.stat().st_size == 0]
    assert not missing
    manifest = demo_city.manifest()
    assert manifest["fictional"] is True
    assert "fictional" in manifest["name"] and "fictional" in manifest["note"]
    assert manifest["seed"] == 42
    listed = set(manifest["files"])
    # independent of the generator's own list: what lies on disk (less duarouter's trip inputs) ...
    on_disk = {str(p.relative_to(demo_city.root)) for p in demo_city.root.rglob("*") if p.is_file()}
    assert listed == {f for f in on_disk if not f.endswith(".trips.xml")}
    # ... every feed each gbfs.json announces, and every file the sumocfg loads
    for system_dir in demo_city.gbfs_dir.iterdir():
        feeds = json.loads((system_dir / "gbfs.json").read_text())["data"]["feeds"]
        announced = {f"gbfs/{system_dir.name}/{f['url'].rsplit('/', 1)[1]}" for f in feeds}
        assert {f for f in listed if f.startswith(f"gbfs/{system_dir.name}/")} == announced | {
            f"gbfs/{system_dir.name}/gbfs.json"
        }
    loaded = {"sumo/" + demo_city.sumocfg.name}
    for element in ET.parse(demo_city.sumocfg).getroot().iter():
        if element.tag.endswith("-files") or element.tag.endswith("-file"):
            loaded |= {f"sumo/{part}" for part in element.get("value", "").split(",")}
    assert {f for f in listed if f.startswith("sumo/")} == loaded
    for promised in (
        "osm/demo-city.osm",
        "gtfs/demo-city.gtfs.zip",
        "ocpi/locations.json",
        "charging/sessions.csv",
    ):
        assert promised in listed  # the README's table
    assert manifest["counts"]["sumo"]["buses"] > 0
    assert DemoCity.load(demo_city.root) == demo_city
    with pytest.raises(FileNotFoundError, match=r"manifest\.json"):
        DemoCity.load(demo_city.root / "osm")
    readme = Path(__file__).resolve().parents[2] / "scenarios" / "demo" / "README.md"
    assert "fictional" in readme.read_text(encoding="utf-8")


# ---------------------------------------------------------------- OSM


def test_osm_has_grid_ring_oneways_footways_cycleways_and_signals(demo_city: DemoCity) -> None:
    root = ET.parse(demo_city.osm).getroot()
    ways = [{t.get("k"): t.get("v") for t in w.iter("tag")} for w in root.iter("way")]
    highways = {w.get("highway") for w in ways}
    assert {"primary", "secondary", "tertiary", "residential", "footway", "cycleway"} <= highways
    assert any(w.get("oneway") == "yes" for w in ways)
    assert any(w.get("railway") == "rail" for w in ways)
    assert all(w.get("name") for w in ways if w.get("highway"))
    signals = [n for n in root.iter("node") if any(t.get("v") == "traffic_signals" for t in n.iter("tag"))]
    assert len(signals) == 12  # README: 12 junction nodes tagged highway=traffic_signals
    lats = [float(n.get("lat", "nan")) for n in root.iter("node")]
    lons = [float(n.get("lon", "nan")) for n in root.iter("node")]
    assert 51.6 < min(lats) < max(lats) < 51.76 and 7.7 < min(lons) < max(lons) < 7.92
    place = [n for n in root.iter("node") if any(t.get("k") == "place" for t in n.iter("tag"))]
    assert any("fictional" in (t.get("v") or "") for n in place for t in n.iter("tag"))


# ---------------------------------------------------------------- GTFS


def test_gtfs_passes_the_canonical_validator_without_errors(demo_city: DemoCity, tmp_path: Path) -> None:
    notices, system_errors = _validate_gtfs(demo_city.gtfs, tmp_path / "report")
    errors = [n for n in notices if n["severity"] == "ERROR"]
    assert errors == [], [(n["code"], n["sampleNotices"][:2]) for n in errors]
    assert system_errors.get("notices", []) == []


def test_validator_reports_a_broken_copy_of_the_feed(demo_city: DemoCity, tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(demo_city.gtfs) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "stop_times.txt":  # point the first stop time at a stop that does not exist
                lines = data.decode().split("\n")
                cols = lines[1].split(",")
                cols[3] = "no-such-stop"
                lines[1] = ",".join(cols)
                data = "\n".join(lines).encode()
            dst.writestr(item, data)
    notices, _ = _validate_gtfs(broken, tmp_path / "report")
    assert "foreign_key_violation" in {n["code"] for n in notices if n["severity"] == "ERROR"}


def test_gtfs_feature_set_is_present(demo_city: DemoCity) -> None:
    import gtfs_kit

    feed = gtfs_kit.read_feed(demo_city.gtfs, dist_units="km")
    agency = feed.agency.iloc[0]
    assert agency["agency_timezone"] == "Europe/Berlin" and agency["agency_lang"] == "de"
    assert "fictional" in agency["agency_name"]
    assert "fictional" in feed.feed_info.iloc[0]["feed_publisher_name"]
    route_types = feed.routes["route_type"].astype(int).tolist()
    assert route_types.count(3) == 7 and route_types.count(2) == 1  # README: 7 bus lines and RB 42
    assert feed.routes["route_color"].notna().all() and feed.routes["route_text_color"].notna().all()
    assert feed.frequencies is not None and len(feed.frequencies) > 0
    transfers = feed.transfers
    assert transfers is not None and (transfers["transfer_type"].astype(int) == 2).all()
    assert transfers["min_transfer_time"].notna().all() and (transfers["min_transfer_time"] > 0).all()
    stops = feed.stops
    station = stops[stops["stop_id"] == HUB_STOP_ID].iloc[0]
    assert int(station["location_type"]) == 1
    platforms = stops[stops["parent_station"] == HUB_STOP_ID]
    assert sorted(platforms["platform_code"]) == ["1", "2", "A", "B", "C", "D"]  # README: A-D, tracks 1/2
    assert feed.shapes is not None and len(feed.shapes) > 0
    assert (feed.stop_times["departure_time"] > "24:00:00").any()
    assert feed.calendar_dates is not None and len(feed.calendar_dates) > 0
    # every line serves the main station
    hub_platforms = set(platforms["stop_id"])
    served = feed.stop_times.merge(feed.trips[["trip_id", "route_id"]])
    lines_at_hub = set(served[served["stop_id"].isin(hub_platforms)]["route_id"])
    assert lines_at_hub == set(feed.routes["route_id"])


def test_gtfs_feed_period_covers_the_build_date(
    demo_city: DemoCity,
) -> None:
    today = demo_city.build_date
    calendar = _read_gtfs_table(demo_city.gtfs, "calendar.txt")
    starts = {datetime.strptime(r["start_date"], "%Y%m%d").date() for r in calendar}
    ends = {datetime.strptime(r["end_date"], "%Y%m%d").date() for r in calendar}
    assert starts == {today - timedelta(days=30)} and ends == {today + timedelta(days=335)}
    # the holidays themselves (every NRW holiday of the period, Sundays too) are checked against an
    # independent calendar in test_demo_city_consistency.py


def test_gtfs_bus_stops_lie_on_their_shapes(demo_city: DemoCity) -> None:
    import gtfs_kit

    feed = gtfs_kit.read_feed(demo_city.gtfs, dist_units="m")
    geo_stops = gtfs_kit.stops.geometrize_stops(feed.stops, use_utm=True)
    geo_shapes = gtfs_kit.shapes.geometrize_shapes(feed.shapes, use_utm=True)
    pairs = feed.stop_times.merge(feed.trips[["trip_id", "shape_id"]])[
        ["stop_id", "shape_id"]
    ].drop_duplicates()
    stop_geom = dict(zip(geo_stops["stop_id"], geo_stops.geometry, strict=True))
    shape_geom = dict(zip(geo_shapes["shape_id"], geo_shapes.geometry, strict=True))
    worst = max(stop_geom[s].distance(shape_geom[sh]) for s, sh in pairs.itertuples(index=False))
    assert worst < 30.0


# ---------------------------------------------------------------- GBFS


def test_gbfs_files_validate_against_the_official_v3_schemas(demo_city: DemoCity, shared_data: Path) -> None:
    import jsonschema

    schema_dir = shared_data / "gbfs" / "json-schema" / "v3.0"
    checked = 0
    for path in sorted(demo_city.gbfs_dir.glob("*/*.json")):
        schema = json.loads((schema_dir / path.name).read_text(encoding="utf-8"))
        validator = jsonschema.Draft7Validator(
            schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        errors = [
            f"{e.message} at {list(e.absolute_path)}"
            for e in validator.iter_errors(json.loads(path.read_text()))
        ]
        assert errors == [], f"{path.relative_to(demo_city.root)}: {errors[:3]}"
        checked += 1
    assert checked == sum(1 for p in demo_city.files() if p.parent.parent == demo_city.gbfs_dir)


def test_gbfs_systems_cover_docked_bikes_free_floating_scooters_and_mixed_car_sharing(
    demo_city: DemoCity,
) -> None:
    assert {p.name for p in demo_city.gbfs_dir.iterdir()} == set(GBFS_SYSTEMS)
    for system in GBFS_SYSTEMS:
        index = json.loads(demo_city.gbfs(system).read_text())
        assert index["version"] == "3.0"
        _aware(index["last_updated"])
        for feed in index["data"]["feeds"]:  # every URL resolves to a file next to gbfs.json
            assert (demo_city.gbfs(system).parent / feed["url"].rsplit("/", 1)[1]).is_file()
        info = json.loads((demo_city.gbfs_dir / system / "system_information.json").read_text())
        assert "fictional" in info["data"]["name"][0]["text"]
        assert info["data"]["timezone"] == "Europe/Berlin"

    def load(system: str, feed: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((demo_city.gbfs_dir / system / f"{feed}.json").read_text())["data"]
        return data

    bikes = load("knotenrad", "station_status")["stations"]
    assert len(bikes) == 12  # README: 12 stations
    assert len(load("knotenscoot", "vehicle_status")["vehicles"]) == 40  # README: 40 e-scooters
    assert len(load("knotencar", "station_information")["stations"]) == 5  # README: 5 stations
    assert (
        all("num_docks_available" in s for s in bikes) and sum(s["num_vehicles_available"] for s in bikes) > 0
    )
    names = [s["name"][0]["text"] for s in load("knotenrad", "station_information")["stations"]]
    assert "Hauptbahnhof" in names
    scooters = load("knotenscoot", "vehicle_status")["vehicles"]
    assert scooters and all("lat" in v and "station_id" not in v for v in scooters)
    car_types = load("knotencar", "vehicle_types")["vehicle_types"]
    assert {t["form_factor"] for t in car_types} == {"car"}
    assert {"electric", "combustion"} <= {t["propulsion_type"] for t in car_types}
    cars = load("knotencar", "vehicle_status")["vehicles"]
    assert any("station_id" in v for v in cars) and any("lat" in v and "station_id" not in v for v in cars)


# ---------------------------------------------------------------- OCPI and sessions


def _locations(demo_city: DemoCity) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(demo_city.ocpi_locations.read_text(encoding="utf-8"))
    return data


def test_ocpi_locations_use_exactly_the_2_2_1_field_names(demo_city: DemoCity) -> None:
    locations = _locations(demo_city)
    assert locations
    for loc in locations:
        assert OCPI_LOCATION_REQUIRED <= set(loc) <= OCPI_LOCATION_FIELDS, set(loc) ^ OCPI_LOCATION_FIELDS
        assert len(loc["address"]) <= 45 and len(loc["city"]) <= 45 and len(loc["id"]) <= 36
        assert "fictional" in loc["operator"]["name"]
        _aware(loc["last_updated"])
        for evse in loc["evses"]:
            assert OCPI_EVSE_REQUIRED <= set(evse) <= OCPI_EVSE_FIELDS
            assert evse["status"] in EVSE_STATUSES and EVSE_ID_PATTERN.match(evse["evse_id"])
            for connector in evse["connectors"]:
                assert OCPI_CONNECTOR_REQUIRED <= set(connector) <= OCPI_CONNECTOR_FIELDS


def test_ocpi_field_lists_agree_with_the_published_example(shared_data: Path) -> None:
    example = json.loads((shared_data / "standards" / "ocpi-2.2.1" / "location_example.json").read_text())
    assert set(example) <= OCPI_LOCATION_FIELDS
    assert all(set(e) <= OCPI_EVSE_FIELDS for e in example["evses"])
    assert all(set(c) <= OCPI_CONNECTOR_FIELDS for e in example["evses"] for c in e["connectors"])


def test_ocpi_mix_of_powers_and_statuses_and_a_hub_at_the_main_station(demo_city: DemoCity) -> None:
    locations = _locations(demo_city)
    connectors = [c for loc in locations for e in loc["evses"] for c in e["connectors"]]
    ac_kw = {c["max_electric_power"] / 1000 for c in connectors if c["power_type"].startswith("AC")}
    dc_kw = {c["max_electric_power"] / 1000 for c in connectors if c["power_type"] == "DC"}
    assert ac_kw == {11, 22} and dc_kw == {50, 150}  # README: AC 11/22 kW Type 2, DC 50/150 kW CCS
    assert len(locations) == 7  # README: 7 sites
    assert {c["standard"] for c in connectors} == {"IEC_62196_T2", "IEC_62196_T2_COMBO"}
    statuses = {e["status"] for loc in locations for e in loc["evses"]}
    assert "AVAILABLE" in statuses and len(statuses) >= 3
    hub = next(loc for loc in locations if loc["id"] == HUB_OCPI_LOCATION_ID)
    assert "Hauptbahnhof" in hub["name"] and len(hub["evses"]) == 10  # README: 10 EVSEs


def test_charging_sessions_belong_to_the_hub_evses_and_are_physically_possible(demo_city: DemoCity) -> None:
    hub = next(loc for loc in _locations(demo_city) if loc["id"] == HUB_OCPI_LOCATION_ID)
    uids = {e["uid"] for e in hub["evses"]}
    with demo_city.charging_sessions.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == SESSION_COLUMNS
        rows = list(reader)
    assert len(rows) >= 20
    assert {r["evse_id"] for r in rows} <= uids
    by_evse: dict[str, list[tuple[datetime, datetime]]] = {}
    for r in rows:
        arrival, departure = _aware(r["arrival"]), _aware(r["departure"])
        assert arrival < departure and arrival.date() == demo_city.build_date
        hours = (departure - arrival).total_seconds() / 3600
        assert 0 < float(r["energy_kwh"]) <= float(r["max_kw"]) * hours + 1e-6
        by_evse.setdefault(r["evse_id"], []).append((arrival, departure))
    for spans in by_evse.values():
        spans.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


# ---------------------------------------------------------------- SUMO


def test_sumo_scenario_runs_to_the_end_with_zero_teleports(demo_city: DemoCity, tmp_path: Path) -> None:
    tools = find_sumo()
    run_dir = tmp_path / "sumo"
    shutil.copytree(demo_city.sumo_dir, run_dir)  # the sumocfg is self-contained (relative paths)
    stats = tmp_path / "stats.xml"
    proc = subprocess.run(
        [
            str(tools.bin / "sumo"),
            "-c",
            "demo.sumocfg",
            "--duration-log.statistics",
            "--statistic-output",
            str(stats),
            "--stop-output",
            str(tmp_path / "stops.xml"),
        ],
        cwd=run_dir,
        env=tools.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    root = ET.parse(stats).getroot()
    vehicles = root.find("vehicles")
    teleports = root.find("teleports")
    assert vehicles is not None and teleports is not None
    loaded = int(vehicles.get("loaded", "0"))
    assert loaded > 1000
    assert int(vehicles.get("inserted", "-1")) == loaded
    assert vehicles.get("running") == "0" and vehicles.get("waiting") == "0"
    assert teleports.get("total") == "0"
    safety = root.find("safety")
    assert safety is not None and safety.get("collisions") == "0"
    served_stops = ET.parse(tmp_path / "stops.xml").getroot().findall("stopinfo")
    buses = demo_city.manifest()["counts"]["sumo"]["buses"]
    assert buses >= 30 and len(served_stops) >= buses * 5
    bus_routes = ET.parse(demo_city.sumo_dir / "buses.rou.xml").getroot()
    bus_lines = {v.get("line") for v in bus_routes.iter("vehicle")}
    assert None not in bus_lines and len(bus_lines) >= 5


def test_sumo_net_has_a_signal_program_for_every_tagged_junction(demo_city: DemoCity) -> None:
    osm = ET.parse(demo_city.osm).getroot()
    tagged = sum(1 for n in osm.iter("node") if any(t.get("v") == "traffic_signals" for t in n.iter("tag")))
    net = ET.parse(demo_city.sumo_net).getroot()
    assert len(net.findall("tlLogic")) == tagged
    cfg = ET.parse(demo_city.sumocfg).getroot()
    for element in cfg.iter():
        value = element.get("value", "")
        if element.tag.endswith("-files") or element.tag.endswith("-file"):
            for part in value.split(","):
                assert not Path(part).is_absolute() and (demo_city.sumo_dir / part).is_file()


# ---------------------------------------------------------------- determinism


@pytest.mark.slow
def test_same_seed_and_date_give_identical_bytes(demo_city: DemoCity, tmp_path: Path) -> None:
    again = build_demo_city(tmp_path / "again", seed=demo_city.seed, build_date=demo_city.build_date)
    pairs = [
        (demo_city.gtfs, again.gtfs),
        (demo_city.osm, again.osm),
        (demo_city.sumo_net, again.sumo_net),
        (demo_city.sumocfg, again.sumocfg),
        (demo_city.charging_sessions, again.charging_sessions),
        (demo_city.sumo_dir / "cars.rou.xml", again.sumo_dir / "cars.rou.xml"),
        (demo_city.sumo_dir / "buses.rou.xml", again.sumo_dir / "buses.rou.xml"),
    ]
    for first, second in pairs:
        assert first.read_bytes() == second.read_bytes(), first.name
    stamp = re.compile(r'"(last_updated|last_reported)": "[^"]+"')
    for first in [*sorted(demo_city.gbfs_dir.glob("*/*.json")), demo_city.ocpi_locations]:
        second = again.root / first.relative_to(demo_city.root)
        assert stamp.sub("", first.read_text()) == stamp.sub("", second.read_text()), first.name


@pytest.mark.slow
def test_another_seed_changes_contents_but_not_the_streets(demo_city: DemoCity, tmp_path: Path) -> None:
    other = build_demo_city(tmp_path / "other", seed=7, build_date=date(2026, 3, 1))
    assert other.osm.read_bytes() == demo_city.osm.read_bytes()
    assert other.charging_sessions.read_bytes() != demo_city.charging_sessions.read_bytes()
    assert (other.sumo_dir / "cars.rou.xml").read_bytes() != (
        demo_city.sumo_dir / "cars.rou.xml"
    ).read_bytes()
    feed_info = _read_gtfs_table(other.gtfs, "feed_info.txt")[0]
    assert feed_info["feed_start_date"] == "20260130" and feed_info["feed_end_date"] == "20270130"
