"""Walk, bike and car profiles on real OSM extracts, pinned to concrete ways of the files."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import osmium
import pytest

from mobility.streets.cache import load_network
from mobility.streets.graph import StreetNetwork


def _way_refs(path: Path, way_id: int) -> list[int]:
    for obj in osmium.FileProcessor(str(path), osmium.osm.WAY):
        if obj.id == way_id:
            return [n.ref for n in obj.nodes]
    raise AssertionError(f"way {way_id} not in {path.name}")


def _edges(net: StreetNetwork, profile: str, refs: list[int]) -> tuple[int, int]:
    """(forward segments present, backward segments present) of a node run in a profile graph."""
    g = net.graph(profile)
    glob = {int(n): i for i, n in enumerate(net.node_ids)}
    local = {int(gi): li for li, gi in enumerate(g.node)}
    fwd = bwd = 0
    for a, b in itertools.pairwise(refs):
        la, lb = local.get(glob.get(a, -1), -1), local.get(glob.get(b, -1), -1)
        if la < 0 or lb < 0:
            continue
        ip, ix = g.forward.indptr, g.forward.indices
        fwd += bool(np.any(ix[ip[la] : ip[la + 1]] == lb))
        bwd += bool(np.any(ix[ip[lb] : ip[lb + 1]] == la))
    return fwd, bwd


@pytest.fixture(scope="module")
def herrenberg(shared_data: Path) -> tuple[Path, StreetNetwork]:
    path = shared_data / "osm" / "herrenberg-minimal.osm.pbf"
    return path, load_network(path)


def test_car_respects_oneway_street(herrenberg: tuple[Path, StreetNetwork]) -> None:
    path, net = herrenberg
    refs = _way_refs(path, 4849604)  # residential, oneway=yes
    n = len(refs) - 1
    assert _edges(net, "car", refs) == (n, 0)
    assert _edges(net, "walk", refs) == (n, n)


def test_roundabout_is_one_way_for_cars(herrenberg: tuple[Path, StreetNetwork]) -> None:
    path, net = herrenberg
    refs = _way_refs(path, 184185551)  # junction=roundabout without an oneway tag
    fwd, bwd = _edges(net, "car", refs)
    assert fwd > 0 and bwd == 0


def test_footway_is_for_walking_only(herrenberg: tuple[Path, StreetNetwork]) -> None:
    path, net = herrenberg
    refs = _way_refs(path, 10880041)  # highway=footway, no other access tags
    n = len(refs) - 1
    assert _edges(net, "walk", refs) == (n, n)
    assert _edges(net, "bike", refs) == (0, 0)
    assert _edges(net, "car", refs) == (0, 0)


def test_oneway_bicycle_no_lets_bikes_ride_both_ways(herrenberg: tuple[Path, StreetNetwork]) -> None:
    path, net = herrenberg
    refs = _way_refs(path, 22678021)  # living_street, oneway=yes, oneway:bicycle=no
    n = len(refs) - 1
    assert _edges(net, "bike", refs) == (n, n)
    assert _edges(net, "car", refs) == (n, 0)


def test_private_access_is_excluded_for_cars(herrenberg: tuple[Path, StreetNetwork]) -> None:
    path, net = herrenberg
    refs = _way_refs(path, 10902748)  # residential, access=private
    assert _edges(net, "car", refs) == (0, 0)
    assert _edges(net, "walk", refs) == (0, 0)


def test_bollard_blocks_cars_not_pedestrians(herrenberg: tuple[Path, StreetNetwork]) -> None:
    _, net = herrenberg
    bollard = int(np.searchsorted(net.node_ids, 282742607))
    assert net.node_ids[bollard] == 282742607
    assert bollard in set(net.graph("walk").node.tolist())
    car = net.graph("car")
    if bollard in set(car.node.tolist()):  # still a node of a car street, but no edge touches it
        local = int(np.nonzero(car.node == bollard)[0][0])
        assert car.forward.indptr[local + 1] == car.forward.indptr[local]


def test_oneway_minus_one_and_private_in_a_small_file(tmp_path: Path) -> None:
    """Synthetic file (no real extract has ``oneway=-1``): a -1 way drives backwards only."""
    osm = tmp_path / "tiny.osm"
    nodes = "".join(f'<node id="{i}" version="1" lat="48.{i:04d}" lon="9.{i * 3:04d}"/>' for i in range(1, 6))
    osm.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version=\"0.6\">"
        + nodes
        + '<way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
        '<tag k="highway" v="residential"/><tag k="oneway" v="-1"/></way>'
        '<way id="11" version="1"><nd ref="3"/><nd ref="4"/><nd ref="1"/>'
        '<tag k="highway" v="residential"/><tag k="oneway" v="-1"/></way>'
        '<way id="12" version="1"><nd ref="4"/><nd ref="5"/><tag k="highway" v="service"/>'
        '<tag k="access" v="private"/></way></osm>',
        encoding="utf-8",
    )
    net = load_network(osm)
    assert _edges(net, "car", [1, 2, 3]) == (0, 2)
    assert 5 not in set(net.node_ids[net.graph("car").node].tolist())


def test_network_cache_round_trip(tmp_path: Path, shared_data: Path) -> None:
    path = shared_data / "osm" / "boeblingen-minimal.osm.pbf"
    first = load_network(path, tmp_path)
    assert len(list(tmp_path.glob("streets-*.npz"))) == 1
    again = load_network(path, tmp_path)
    for name, g in first.graphs.items():
        h = again.graphs[name]
        assert np.array_equal(g.forward.indices, h.forward.indices)
        assert np.allclose(g.forward.weight, h.forward.weight)
