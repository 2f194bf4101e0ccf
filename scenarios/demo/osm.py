"""Write the demo city's street network as OpenStreetMap XML (deterministic, no timestamps)."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

from scenarios.demo.city import FICTIONAL_NOTE, City, to_lat_lon


def write_osm(city: City, path: Path) -> dict[str, int]:
    """Write ``city`` to ``path`` as OSM XML 0.6 and return element counts."""
    lats, lons = [], []
    for n in city.nodes.values():
        lat, lon = to_lat_lon(n.x_m, n.y_m)
        lats.append(lat)
        lons.append(lon)
    lines = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<!-- {FICTIONAL_NOTE} -->",
        '<osm version="0.6" generator="knoten demo build">',
        f'  <bounds minlat="{min(lats):.7f}" minlon="{min(lons):.7f}" '
        f'maxlat="{max(lats):.7f}" maxlon="{max(lons):.7f}"/>',
    ]
    for nid in sorted(city.nodes):
        n = city.nodes[nid]
        lat, lon = to_lat_lon(n.x_m, n.y_m)
        head = f'  <node id="{nid}" version="1" visible="true" lat="{lat:.7f}" lon="{lon:.7f}"'
        if not n.tags:
            lines.append(head + "/>")
            continue
        lines.append(head + ">")
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in n.tags)
        lines.append("  </node>")
    for way in city.ways:
        lines.append(f'  <way id="{way.id}" version="1" visible="true">')
        lines.extend(f'    <nd ref="{ref}"/>' for ref in way.node_ids)
        lines.extend(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in way.tags)
        lines.append("  </way>")
    lines.append("</osm>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"nodes": len(city.nodes), "ways": len(city.ways)}
