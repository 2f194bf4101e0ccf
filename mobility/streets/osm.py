"""Read the highway ways and the barrier nodes of an OSM PBF or XML file with osmium."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium

from mobility.errors import StreetError

log = logging.getLogger(__name__)

#: node keys that may restrict passage (barriers and node-level access)
NODE_KEYS = ("barrier", "access", "foot", "vehicle", "bicycle", "motor_vehicle", "motorcar")
#: way keys the profiles read
WAY_KEYS = (
    "highway", "access", "foot", "vehicle", "bicycle", "motor_vehicle", "motorcar", "oneway",
    "oneway:bicycle", "oneway:foot", "cycleway", "junction", "maxspeed", "motorroad", "area",
    "sidewalk", "name",
)  # fmt: skip


@dataclass
class OsmWays:
    """Highway ways of an OSM file: node ids, their coordinates, and each way's node run and tags."""

    node_ids: np.ndarray  # int64, sorted unique OSM node ids of every highway way
    lat: np.ndarray  # float64 per node
    lon: np.ndarray  # float64 per node
    way_ids: np.ndarray  # int64 per way
    way_off: np.ndarray  # int64[n_ways + 1] into way_nodes
    way_nodes: np.ndarray  # int32 node indices
    way_tags: list[dict[str, str]] = field(default_factory=list)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)  # node index -> tags


def read_osm(path: str | Path) -> OsmWays:
    """Read every ``highway=*`` way of ``path`` (``.osm.pbf``, ``.osm``, ``.osm.xml.gz`` ...).

    Node coordinates come from the file itself (ways whose nodes are missing are skipped with a
    warning).  Raises :class:`~mobility.errors.StreetError` when the file cannot be read.
    """
    path = Path(path)
    if not path.is_file():
        raise StreetError(f"{path}: no such OSM file")
    raw_ways: list[tuple[int, list[int], list[float], list[float], dict[str, str]]] = []
    tagged_nodes: dict[int, dict[str, str]] = {}
    skipped = 0
    try:
        fp = osmium.FileProcessor(str(path)).with_locations()
        for obj in fp:
            if isinstance(obj, osmium.osm.Node):
                if len(obj.tags) and any(k in obj.tags for k in NODE_KEYS):
                    tagged_nodes[obj.id] = {k: obj.tags[k] for k in NODE_KEYS if k in obj.tags}
            elif isinstance(obj, osmium.osm.Way):
                if "highway" not in obj.tags:
                    continue
                tags = {k: obj.tags[k] for k in WAY_KEYS if k in obj.tags}
                refs: list[int] = []
                lats: list[float] = []
                lons: list[float] = []
                # a way cut by the extract's edge keeps its runs of nodes that have locations
                for n in [*obj.nodes, None]:
                    loc = None if n is None else n.location
                    if n is not None and loc is not None and loc.valid():
                        refs.append(n.ref)
                        lats.append(loc.lat)
                        lons.append(loc.lon)
                        continue
                    if n is not None:
                        skipped += 1
                    if len(refs) >= 2:
                        raw_ways.append((obj.id, refs, lats, lons, tags))
                    refs, lats, lons = [], [], []
    except (RuntimeError, OSError) as exc:
        raise StreetError(f"{path}: cannot read OSM data: {exc}") from exc
    if skipped:
        log.info("%s: %d way nodes without a location (outside the extract)", path, skipped)
    if not raw_ways:
        raise StreetError(f"{path}: no highway ways in the file")
    all_refs = np.concatenate([np.asarray(w[1], dtype=np.int64) for w in raw_ways])
    all_lat = np.concatenate([np.asarray(w[2], dtype=np.float64) for w in raw_ways])
    all_lon = np.concatenate([np.asarray(w[3], dtype=np.float64) for w in raw_ways])
    node_ids, first, inverse = np.unique(all_refs, return_index=True, return_inverse=True)
    lengths = np.asarray([len(w[1]) for w in raw_ways], dtype=np.int64)
    way_off = np.zeros(len(raw_ways) + 1, dtype=np.int64)
    np.cumsum(lengths, out=way_off[1:])
    index = {int(n): i for i, n in enumerate(node_ids)}
    node_tags = {index[n]: t for n, t in tagged_nodes.items() if n in index}
    return OsmWays(
        node_ids=node_ids,
        lat=all_lat[first],
        lon=all_lon[first],
        way_ids=np.asarray([w[0] for w in raw_ways], dtype=np.int64),
        way_off=way_off,
        way_nodes=inverse.astype(np.int32),
        way_tags=[w[4] for w in raw_ways],
        node_tags=node_tags,
    )
