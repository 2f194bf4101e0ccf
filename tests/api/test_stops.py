"""``GET /api/v1/stops`` on the demo city: stops near a place, by name, and bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient

from api import create_app, load_settings
from mobility.streets.graph import haversine_m
from scenarios.demo import DemoCity
from tests.api.graph_data import graph_data_dir as build_graph_data_dir

MARKT = (51.6801, 7.8098)
HBF = (51.674161, 7.810000)


@pytest.fixture(scope="module")
def graph_data_dir(demo_city: DemoCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_graph_data_dir(demo_city, tmp_path_factory.mktemp("api-data"))


@pytest.fixture(scope="module")
def client(graph_data_dir: Path) -> FlaskClient:
    return create_app(load_settings(environ={}, data_dir=graph_data_dir)).test_client()


def _stops(client: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/stops?" + urlencode(params))
    assert response.status_code == 200, response.get_json()
    stops: list[dict[str, Any]] = response.get_json()["stops"]
    return stops


def test_near_gives_the_stops_within_the_radius_nearest_first(client: FlaskClient) -> None:
    stops = _stops(client, near=f"{MARKT[0]},{MARKT[1]}", radius_m=300)
    assert stops and any(s["name"] == "Marktplatz" for s in stops)
    distances = [s["distance_m"] for s in stops]
    assert distances == sorted(distances) and distances[-1] <= 300
    for s in stops:
        assert abs(haversine_m(MARKT[0], MARKT[1], s["lat"], s["lon"]) - s["distance_m"]) < 0.1
    wider = _stops(client, near=f"{MARKT[0]},{MARKT[1]}", radius_m=1500, limit=200)
    assert len(wider) > len(stops)
    assert {s["stop_id"] for s in stops} == {s["stop_id"] for s in wider if s["distance_m"] <= 300}


def test_limit_keeps_the_nearest(client: FlaskClient) -> None:
    many = _stops(client, near=f"{MARKT[0]},{MARKT[1]}", radius_m=2000, limit=200)
    few = _stops(client, near=f"{MARKT[0]},{MARKT[1]}", radius_m=2000, limit=3)
    assert len(many) > 3 and few == many[:3]


def test_station_comes_with_its_platforms_and_their_parent(client: FlaskClient) -> None:
    stops = _stops(client, near=f"{HBF[0]},{HBF[1]}", radius_m=100)
    by_id = {s["stop_id"]: s for s in stops}
    assert by_id["hbf"]["location_type"] == 1 and by_id["hbf"]["parent_station"] is None
    platforms = [s for s in stops if s["parent_station"] == "hbf"]
    assert platforms and all(s["location_type"] == 0 for s in platforms)


def test_name_search_ignores_case_and_accents_and_puts_stations_first(client: FlaskClient) -> None:
    found = _stops(client, q="bahnhofstrasse")
    assert found and all(s["name"].startswith("Bahnhofstraße") for s in found)
    assert {s["name"] for s in _stops(client, q="munsterlander weg")} == {"Münsterländer Weg (Ortsrand)"}
    assert all(s["distance_m"] is None for s in found)
    hbf = _stops(client, q="KNOTENSTADT hbf")
    assert hbf[0]["stop_id"] == "hbf" and {s["parent_station"] for s in hbf[1:]} == {"hbf"}
    assert _stops(client, q="no such stop anywhere") == []
    ost = [s["name"] for s in _stops(client, q="ost", limit=200)]
    starting = [n.startswith("Ost") for n in ost]
    assert "Hochschule Ost" in ost and starting == sorted(starting, reverse=True)  # "Ost..." first


def test_name_and_place_together_filter_by_name_and_sort_by_distance(client: FlaskClient) -> None:
    stops = _stops(client, q="markt", near=f"{HBF[0]},{HBF[1]}", radius_m=5000)
    assert stops and all("markt" in s["name"].casefold() for s in stops)
    assert [s["distance_m"] for s in stops] == sorted(s["distance_m"] for s in stops)


def test_etag_gives_304(client: FlaskClient) -> None:
    url = "/api/v1/stops?" + urlencode({"q": "markt"})
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("params", "words", "status"),
    [
        ({}, ("near=lat,lon", "q=name"), 422),
        ({"near": "91,7.8"}, ("near", "latitude 91"), 422),
        ({"near": "abc"}, ("near", "'abc' is not lat,lon"), 400),
        ({"near": ""}, ("near", "'' is not lat,lon"), 400),
        ({"near": "51.68,7.81", "radius_m": "0"}, ("radius_m",), 422),
        ({"near": "51.68,7.81", "radius_m": "50000"}, ("radius_m",), 422),
        ({"q": "markt", "limit": "0"}, ("limit",), 422),
        ({"q": "   "}, ("q", "blank"), 422),
        ({"name": "markt"}, ("name",), 400),
    ],
)
def test_bad_parameters_are_400_or_422_naming_the_problem(
    client: FlaskClient, params: dict[str, Any], words: tuple[str, ...], status: int
) -> None:
    """Input the schema rejects is 400; input of the published form beyond a limit or rule is 422."""
    response = client.get("/api/v1/stops?" + urlencode(params))
    assert response.status_code == status and response.mimetype == "application/problem+json"
    detail = response.get_json()["detail"]
    for word in words:
        assert word in detail, detail
    if status == 422:
        assert response.get_json()["field"] == words[0].split("=")[0]


def test_openapi_lists_the_stops_parameters(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/api/v1/stops"]["get"]["parameters"]}
    assert {"near", "radius_m", "q", "limit"} <= params
