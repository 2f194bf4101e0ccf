"""The running API publishes the demo city's feeds, with discovery URLs for the serving host."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from api import create_app, load_settings
from scenarios.demo import GBFS_SYSTEMS, DemoCity


def _client(data_dir: Path):  # type: ignore[no-untyped-def]
    return create_app(load_settings(environ={}, data_dir=data_dir)).test_client()


def test_gbfs_discovery_points_at_the_serving_host(demo_city: DemoCity, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(demo_city.root, data_dir / "demo")
    client = _client(data_dir)
    for system in GBFS_SYSTEMS:
        response = client.get(f"/demo/gbfs/{system}/gbfs.json", base_url="http://127.0.0.1:8123")
        assert response.status_code == 200
        feeds = response.get_json()["data"]["feeds"]
        assert feeds, system
        for feed in feeds:
            assert feed["url"].startswith(f"http://127.0.0.1:8123/demo/gbfs/{system}/")
            path = feed["url"].removeprefix("http://127.0.0.1:8123")
            served = client.get(path)
            assert served.status_code == 200, feed["url"]
            if feed["name"] == "gbfs":
                continue
            on_disk = json.loads((data_dir / "demo" / "gbfs" / system / f"{feed['name']}.json").read_text())
            if feed["name"] in ("station_status", "vehicle_status"):  # these move with the clock
                key = "stations" if feed["name"] == "station_status" else "vehicles"
                ids = [x.get("station_id", x.get("vehicle_id")) for x in on_disk["data"][key]]
                assert [
                    x.get("station_id", x.get("vehicle_id")) for x in served.get_json()["data"][key]
                ] == ids
            else:
                assert served.get_json() == on_disk


def test_ocpi_and_gtfs_are_served_with_etags(demo_city: DemoCity, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(demo_city.root, data_dir / "demo")
    client = _client(data_dir)
    index = client.get("/demo/").get_json()
    assert index["ocpi_locations"].endswith("/demo/ocpi/locations.json")
    first = client.get("/demo/ocpi/locations.json")
    assert first.status_code == 200
    on_disk = json.loads(demo_city.ocpi_locations.read_text())
    served = first.get_json()  # EVSE statuses move with the clock; everything else is as built
    assert [[e["uid"] for e in loc["evses"]] for loc in served] == [
        [e["uid"] for e in loc["evses"]] for loc in on_disk
    ]
    assert [loc["coordinates"] for loc in served] == [loc["coordinates"] for loc in on_disk]
    again = client.get("/demo/ocpi/locations.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    gtfs_path = index["gtfs"][0].split("/demo", 1)[1]
    zipped = client.get(f"/demo{gtfs_path}")
    assert zipped.status_code == 200
    assert zipped.data[:2] == b"PK"


def test_missing_build_and_unknown_feeds_are_problems(tmp_path: Path) -> None:
    client = _client(tmp_path)
    response = client.get("/demo/ocpi/locations.json")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "knoten demo build" in response.get_json()["detail"]
    for path in ("/demo/gbfs/..%2F..%2Fetc/passwd.json", "/demo/gtfs/../../secret.zip"):
        assert client.get(path).status_code == 404


def test_dot_dot_as_a_feed_folder_never_leaves_the_gbfs_folder(demo_city: DemoCity, tmp_path: Path) -> None:
    """``..`` is a valid single path segment, so it reaches the route; the name check must refuse it."""
    data_dir = tmp_path / "data"
    shutil.copytree(demo_city.root, data_dir / "demo")
    (data_dir / "demo" / "secret.json").write_text('{"secret": "outside gbfs"}')
    (data_dir / "demo" / "gbfs.json").write_text('{"secret": "discovery outside gbfs"}')
    client = _client(data_dir)
    for path in (
        "/demo/gbfs/../secret.json",
        "/demo/gbfs/%2E%2E/secret.json",
        "/demo/gbfs/../manifest.json",
        "/demo/gbfs/../gbfs.json",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
        assert b"secret" not in response.data and b"seed" not in response.data


def test_a_relative_data_dir_serves_the_files_too(
    demo_city: DemoCity, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(demo_city.root, tmp_path / "data" / "demo")
    monkeypatch.chdir(tmp_path)
    client = _client(Path("data"))  # the default data_dir is relative: ./data
    for path in ("/demo/gbfs/knotenrad/system_information.json", "/demo/ocpi/locations.json"):
        assert client.get(path).status_code == 200, path
