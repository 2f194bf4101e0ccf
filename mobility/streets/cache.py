"""Compiled street networks cached on disk as ``.npz``, keyed by the OSM file's content hash."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from mobility.streets.graph import Csr, ProfileGraph, StreetNetwork, build_network
from mobility.streets.osm import read_osm
from mobility.streets.profiles import PROFILES

log = logging.getLogger(__name__)

#: bump when profiles or the graph layout change, so old cache files are not read
FORMAT_VERSION = 5


def content_key(path: Path) -> str:
    """SHA-256 of the file's bytes and the format version (hex, 16 characters)."""
    digest = hashlib.sha256(f"streets-v{FORMAT_VERSION}".encode())
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def save_network(net: StreetNetwork, path: Path) -> None:
    """Write ``net`` to one ``.npz`` file."""
    arrays: dict[str, np.ndarray] = {"node_ids": net.node_ids}
    for name, g in net.graphs.items():
        arrays[f"{name}.node"] = g.node
        arrays[f"{name}.lat"] = g.lat
        arrays[f"{name}.lon"] = g.lon
        arrays[f"{name}.indptr"] = g.forward.indptr
        arrays[f"{name}.indices"] = g.forward.indices
        arrays[f"{name}.weight"] = g.forward.weight
        arrays[f"{name}.length_m"] = g.length_m
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    tmp.replace(path)


def read_network(path: Path) -> StreetNetwork:
    """Read a network written by :func:`save_network`."""
    with np.load(path) as data:
        graphs = {}
        for name in PROFILES:
            if f"{name}.node" not in data:
                continue
            graphs[name] = ProfileGraph(
                profile=name,
                node=data[f"{name}.node"],
                lat=data[f"{name}.lat"],
                lon=data[f"{name}.lon"],
                forward=Csr(data[f"{name}.indptr"], data[f"{name}.indices"], data[f"{name}.weight"]),
                length_m=data[f"{name}.length_m"],
            )
        return StreetNetwork(data["node_ids"], graphs)


def load_network(osm_path: str | Path, cache_dir: str | Path | None = None) -> StreetNetwork:
    """Build the network of ``osm_path``, or read it from ``cache_dir`` when built before."""
    osm_path = Path(osm_path)
    cache_dir = None if cache_dir is None else Path(cache_dir)
    cached = None
    if cache_dir is not None and osm_path.is_file():
        cached = cache_dir / f"streets-{content_key(osm_path)}.npz"
        if cached.is_file():
            try:
                return read_network(cached)
            except (OSError, KeyError, ValueError) as exc:
                log.warning("%s: unreadable street cache (%s), rebuilding", cached, exc)
    net = build_network(read_osm(osm_path))
    if cached is not None:
        save_network(net, cached)
    return net
