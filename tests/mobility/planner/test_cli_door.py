"""``knoten build --osm``, ``knoten route --graph`` and ``knoten route-batch --graph`` on São Paulo."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import main
from mobility.streets.polyline import decode

SE = "-23.5505,-46.6340"  # near Sé
TRIANON = "-23.5614,-46.6559"  # near Trianon-MASP


@pytest.fixture(scope="module")
def sp_graph(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sp") / "graph"
    result = CliRunner().invoke(
        main,
        ["build", "--gtfs", str(shared_data / "gtfs" / "sao_paulo_sptrans.gtfs.zip"),
         "--osm", str(shared_data / "osm" / "sao_paulo.osm.pbf"), "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "manifest.json").is_file() and (out / "streets.npz").is_file()
    return out


def _route(graph: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["route", "--graph", str(graph), *args])
    return result.exit_code, result.output


def test_route_json_has_the_api_shape(sp_graph: Path) -> None:
    code, out = _route(
        sp_graph, "--from", SE, "--to", TRIANON, "--depart", "2019-05-06T08:00:00-03:00", "--json"
    )
    assert code == 0, out
    its = json.loads(out)["itineraries"]
    assert any(leg["mode"] == "SUBWAY" for it in its for leg in it["legs"])
    for it in its:
        start = dt.datetime.fromisoformat(it["start"])
        assert start.utcoffset() == dt.timedelta(hours=-3)
        assert start >= dt.datetime(2019, 5, 6, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
        for leg in it["legs"]:
            assert {"mode", "from", "to", "start", "end", "distance_m", "geometry", "realtime"} <= set(leg)
            assert leg["geometry"]["precision"] == 6
            points = decode(leg["geometry"]["polyline"], 6)
            assert (
                abs(points[0][0] - leg["from"]["lat"]) < 1e-5 and abs(points[-1][1] - leg["to"]["lon"]) < 1e-5
            )
            if leg["mode"] == "SUBWAY":
                assert leg["trip_id"] and leg["route"]["short_name"] and "intermediate_stops" in leg
                assert leg["route"]["agency"] and leg["route"]["color"].startswith("#")
                assert leg["from"]["stop_id"] and leg["to"]["stop_id"]


def test_route_arrive_by_arrives_in_time(sp_graph: Path) -> None:
    code, out = _route(sp_graph, "--from", SE, "--to", TRIANON, "--arrive", "2019-05-06T09:00", "--json",
                       "--geometry", "geojson")  # fmt: skip
    assert code == 0, out
    its = json.loads(out)["itineraries"]
    deadline = dt.datetime.fromisoformat("2019-05-06T09:00:00-03:00")
    assert its and all(dt.datetime.fromisoformat(it["end"]) <= deadline for it in its)
    assert its[0]["legs"][0]["geometry"]["type"] == "LineString"
    transit = [it for it in its if it["transfers"] >= 0 and len(it["legs"]) > 1]
    assert transit and max(dt.datetime.fromisoformat(it["end"]) for it in transit) > deadline - dt.timedelta(
        minutes=15
    )


def test_route_outside_network_says_no_route(sp_graph: Path) -> None:
    code, out = _route(sp_graph, "--from", "10,10", "--to", TRIANON, "--depart", "2019-05-06T08:00")
    assert code == 1
    assert "no route: outside the network" in out and "Traceback" not in out


def test_route_no_service_on_that_date(sp_graph: Path) -> None:
    code, out = _route(
        sp_graph, "--from", SE, "--to", TRIANON, "--depart", "2031-05-06T08:00", "--modes", "transit"
    )
    assert code == 1
    assert "no transit service on 2031-05-06" in out


def test_route_bad_input_exits_2(sp_graph: Path) -> None:
    assert _route(sp_graph, "--from", "nonsense", "--to", TRIANON, "--depart", "2019-05-06T08:00")[0] == 2
    assert (
        _route(sp_graph, "--from", SE, "--to", TRIANON, "--depart", "2019-05-06T08:00", "--modes", "ufo")[0]
        == 2
    )
    assert _route(sp_graph, "--from", SE, "--to", TRIANON, "--depart", "tomorrow")[0] == 2


def test_route_batch_door_to_door(sp_graph: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.csv"
    with open(queries, "w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["query_id", "from_lat", "from_lon", "to_lat", "to_lon", "departure"])
        w.writerow(["a", *SE.split(","), *TRIANON.split(","), "08:00:00"])
        w.writerow(["far", "10", "10", *TRIANON.split(","), "08:00:00"])
        w.writerow(["late", *SE.split(","), *TRIANON.split(","), "23:50:00"])
    out = tmp_path / "a.csv"
    result = CliRunner().invoke(
        main, ["route-batch", "--graph", str(sp_graph), "--date", "2019-05-06", "--queries", str(queries),
               "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with open(out, newline="") as handle:
        rows = {r["query_id"]: r for r in csv.DictReader(handle)}
    _, text = _route(sp_graph, "--from", SE, "--to", TRIANON, "--depart", "2019-05-06T08:00:00", "--json")
    best = min(json.loads(text)["itineraries"], key=lambda it: it["end"])
    assert rows["a"]["arrival"] == best["end"][11:19]
    assert rows["a"]["rides"] == str(sum(1 for leg in best["legs"] if leg["mode"] == "SUBWAY"))
    assert rows["far"]["arrival"] == "" and rows["far"]["rides"] == ""
    assert rows["late"]["arrival"] > "24:00:00"


def test_build_with_a_missing_osm_file_is_one_line(tmp_path: Path, shared_data: Path) -> None:
    result = CliRunner().invoke(
        main, ["build", "--gtfs", str(shared_data / "gtfs" / "sao_paulo_sptrans.gtfs.zip"),
               "--osm", str(tmp_path / "nope.osm.pbf"), "--out", str(tmp_path / "g")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "nope.osm.pbf: no such file or folder" in result.output and "Traceback" not in result.output


def test_route_batch_with_a_bad_csv_names_the_column(sp_graph: Path, tmp_path: Path) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text("query_id,from_lat,from_lon,to_lat,departure\n1,1,2,3,08:00:00\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["route-batch", "--graph", str(sp_graph), "--date", "2019-05-06", "--queries", str(queries),
               "--out", str(tmp_path / "a.csv")],
    )  # fmt: skip
    assert result.exit_code == 2 and "missing column(s) to_lon" in result.output
