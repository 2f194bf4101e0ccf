"""CSR searches against networkx, linking with a limit, polylines."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from mobility.streets.cache import load_network
from mobility.streets.polyline import decode, encode
from mobility.streets.snap import Snapper


@pytest.mark.parametrize("profile", ["walk", "bike", "car"])
def test_one_to_many_matches_networkx(shared_data: Path, profile: str) -> None:
    net = load_network(shared_data / "osm" / "herrenberg-minimal.osm.pbf")
    g = net.graph(profile)
    nxg = nx.DiGraph()
    ip, ix, w = g.forward.indptr, g.forward.indices, g.forward.weight
    for u in range(g.n_nodes):
        for e in range(ip[u], ip[u + 1]):
            nxg.add_edge(u, int(ix[e]), weight=float(w[e]))
    rng = np.random.default_rng(4)
    for src in rng.integers(0, g.n_nodes, 5).tolist():
        want = nx.single_source_dijkstra_path_length(nxg, src, weight="weight")
        dist, pred = g.search(src, np.inf)
        assert np.isfinite(dist).sum() == len(want) == g.n_nodes  # one strongly connected component
        for node, d in want.items():
            assert dist[node] == pytest.approx(d, rel=1e-9, abs=1e-6)
        back, _ = g.search(src, np.inf, reverse=True)
        other = int(rng.integers(0, g.n_nodes))
        assert back[other] == pytest.approx(nx.dijkstra_path_length(nxg, other, src, weight="weight"))
        limited, _ = g.search(src, 300.0)
        assert np.all(limited[np.isfinite(limited)] <= 300.0)
        path = g.path(pred, other)
        assert path[0] == src and path[-1] == other


def test_linking_reports_points_beyond_the_limit(shared_data: Path) -> None:
    g = load_network(shared_data / "osm" / "boeblingen-minimal.osm.pbf").graph("walk")
    snap = Snapper(g)
    lat = np.array([g.lat[10] + 1e-5, 10.0])
    lon = np.array([g.lon[10], 10.0])
    links = snap.link(lat, lon, 50.0)
    assert links.node[0] >= 0 and links.distance_m[0] < 5.0
    assert links.node[1] == -1 and list(links.unlinked) == [1]


def test_polyline_precision_6_round_trip() -> None:
    points = [(48.5941, 8.8705), (48.594123, 8.870611), (-23.55, -46.63)]
    assert np.allclose(decode(encode(points, 6), 6), points, atol=1e-6, rtol=0)
    assert encode([(38.5, -120.2), (40.7, -120.95), (43.252, -126.453)], 5) == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"
