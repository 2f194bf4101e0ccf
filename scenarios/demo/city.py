"""The street layout of the fictional demo city Knotenstadt, as a small pure data model.

Everything is laid out in a local metric frame (x east, y north, metres) around the city centre and
converted to WGS84 only when written. The layout is fixed (a city's streets do not change with the
seed); the seed varies the contents placed on it (fleet positions, statuses, sessions, demand).
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field

CENTRE_LAT = 51.68
CENTRE_LON = 7.81
CITY_NAME = "Knotenstadt"
FICTIONAL_LABEL = "Knotenstadt (fictional)"
FICTIONAL_NOTE = (
    "Knotenstadt is a fictional city generated for demonstrations and tests; "
    "its streets, stops, timetables, vehicles and chargers do not exist."
)
_M_PER_DEG_LAT = 111_320.0


def to_lat_lon(x_m: float, y_m: float) -> tuple[float, float]:
    """Convert local metres (x east, y north) to WGS84 latitude/longitude."""
    lat = CENTRE_LAT + y_m / _M_PER_DEG_LAT
    lon = CENTRE_LON + x_m / (_M_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT)))
    return round(lat, 7), round(lon, 7)


@dataclass(frozen=True)
class Node:
    """A point of the street or rail network."""

    id: int
    x_m: float
    y_m: float
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Way:
    """A street, footway, cycleway or railway through a sequence of nodes."""

    id: int
    node_ids: tuple[int, ...]
    tags: tuple[tuple[str, str], ...]

    def tag(self, key: str) -> str | None:
        """The value of one tag, or None."""
        for k, v in self.tags:
            if k == key:
                return v
        return None


@dataclass
class City:
    """Nodes and ways of the demo city plus the landmarks other generators refer to."""

    nodes: dict[int, Node] = field(default_factory=dict)
    ways: list[Way] = field(default_factory=list)
    landmarks: dict[str, int] = field(default_factory=dict)
    junction_names: dict[int, str] = field(default_factory=dict)

    def xy(self, node_id: int) -> tuple[float, float]:
        """Local coordinates of a node."""
        n = self.nodes[node_id]
        return n.x_m, n.y_m

    def dist_m(self, a: int, b: int) -> float:
        """Straight-line distance between two nodes."""
        ax, ay = self.xy(a)
        bx, by = self.xy(b)
        return math.hypot(bx - ax, by - ay)

    def drive_graph(self) -> dict[int, list[tuple[int, int]]]:
        """Directed adjacency ``node -> [(next_node, way_id)]`` of the streets cars and buses may use."""
        adj: dict[int, list[tuple[int, int]]] = {}
        for way in self.ways:
            if way.tag("highway") not in DRIVABLE:
                continue
            ids = way.node_ids
            for a, b in itertools.pairwise(ids):
                adj.setdefault(a, []).append((b, way.id))
                if way.tag("oneway") != "yes":
                    adj.setdefault(b, []).append((a, way.id))
        return adj

    def way_by_id(self, way_id: int) -> Way:
        """The way with this id."""
        for way in self.ways:
            if way.id == way_id:
                return way
        raise KeyError(way_id)

    def shortest_path(self, src: int, dst: int) -> list[int]:
        """Shortest drivable node path from ``src`` to ``dst`` (Dijkstra on distance, ties by node id)."""
        adj = self.drive_graph()
        best: dict[int, float] = {src: 0.0}
        prev: dict[int, int] = {}
        heap: list[tuple[float, int]] = [(0.0, src)]
        while heap:
            d, u = heapq.heappop(heap)
            if u == dst:
                break
            if d > best.get(u, math.inf):
                continue
            for v, _ in sorted(adj.get(u, [])):
                nd = d + self.dist_m(u, v)
                if nd < best.get(v, math.inf) - 1e-9:
                    best[v] = nd
                    prev[v] = u
                    heapq.heappush(heap, (nd, v))
        if dst not in best:
            raise ValueError(f"no drivable path from node {src} to node {dst}")
        path = [dst]
        while path[-1] != src:
            path.append(prev[path[-1]])
        return path[::-1]

    def path_through(self, waypoints: list[int]) -> list[int]:
        """Concatenated shortest paths through the given waypoints."""
        path = [waypoints[0]]
        for a, b in itertools.pairwise(waypoints):
            path.extend(self.shortest_path(a, b)[1:])
        return path

    def segment_way(self, a: int, b: int) -> Way:
        """The drivable way containing the consecutive node pair (a, b) in either order."""
        for way in self.ways:
            if way.tag("highway") not in DRIVABLE:
                continue
            ids = way.node_ids
            for p, q in itertools.pairwise(ids):
                if (p, q) == (a, b) or (p, q) == (b, a):
                    return way
        raise KeyError((a, b))


DRIVABLE = frozenset({"primary", "secondary", "tertiary", "residential", "unclassified"})

GRID_STEP_M = 200.0
GRID_HALF = 2  # grid columns/rows at -2..2 * GRID_STEP_M
STATION_STREET_Y_M = -600.0
RAILWAY_Y_M = -700.0
RING_RADIUS_M = 1000.0
RING_NODES = 16
FRINGE_M = 1600.0
RAIL_HALF_LENGTH_M = 4000.0

COLUMN_NAMES = ("Weststraße", "Kirchstraße", "Bahnhofstraße", "Schulstraße", "Oststraße")
ROW_NAMES = ("Marienstraße", "Bismarckstraße", "Marktstraße", "Goethestraße", "Nordstraße")
RING_NAMES = ("Ostring", "Nordring", "Westring", "Südring")  # quadrants starting at east, counter-clockwise
ARTERIALS = (  # (angle in degrees, name inside ring, name outside ring)
    (0, "Werler Straße", "Werler Landstraße"),
    (90, "Münsterstraße", "Münsterländer Weg"),
    (180, "Dortmunder Straße", "Dortmunder Landstraße"),
    (270, "Südstraße", "Heessener Weg"),
)
DIAGONALS = ((45, "Lindenallee"), (135, "Ahornweg"), (225, "Birkenweg"), (315, "Eichendorffstraße"))
RING_PLACES = (
    "Ostfriedhof",
    "Sportpark",
    "Lindenplatz",
    "Kurpark",
    "Nordtor",
    "Hochschule",
    "Ahornplatz",
    "Lippeaue",
    "Westtor",
    "Klinikum",
    "Birkenhof",
    "Gewerbepark",
    "Südtor",
    "Stadtwerke",
    "Eichenplatz",
    "Tiergarten",
)
ONEWAY_ROWS = {-1: "east", 1: "west"}  # row index -> direction of the one-way residential rows
SIGNAL_GRID = ((0, 0), (0, 2), (2, 0), (-2, 0), (0, -2), (-1, 0), (1, 0))  # grid (col,row) with signals


class _Drawing:
    """Adds nodes and ways to a city with ids in drawing order (the order fixes every OSM id)."""

    def __init__(self, city: City) -> None:
        self.city = city
        self._next_node = 1
        self._next_way = 1

    def node(self, x: float, y: float, tags: tuple[tuple[str, str], ...] = ()) -> int:
        """A new node at local ``(x, y)``; its id."""
        nid = self._next_node
        self._next_node += 1
        self.city.nodes[nid] = Node(nid, round(x, 2), round(y, 2), tags)
        return nid

    def way(self, ids: list[int], **tags: str) -> None:
        """A new way through ``ids``."""
        wid = self._next_way
        self._next_way += 1
        self.city.ways.append(Way(wid, tuple(ids), tuple(sorted(tags.items()))))


_SIGNAL = (("highway", "traffic_signals"),)


def build_city() -> City:
    """Lay out Knotenstadt: centre grid, station street, ring, arterials, footways, cycleways, railway.

    The parts are drawn in a fixed order, which fixes every node and way id: the demo city is
    reproducible byte for byte.
    """
    city = City()
    d = _Drawing(city)
    grid, station_street = _draw_centre(d)
    ring = _draw_ring(d)
    _draw_arterials(d, grid, station_street, ring)
    rail_ids, hbf = _draw_railway(d)
    _draw_paths(d, grid, station_street, ring, hbf)
    # a place node naming the (fictional) city
    city.landmarks["place"] = d.node(
        0.0, 0.0 + 30.0, (("name", FICTIONAL_LABEL), ("note", FICTIONAL_NOTE), ("place", "city"))
    )
    _name_junctions(city, grid, station_street, ring, rail_ids)
    return city


def _draw_centre(d: _Drawing) -> tuple[dict[tuple[int, int], int], dict[int, int]]:
    """The centre grid (columns at x, rows at y) and the station street that closes it to the south."""
    grid: dict[tuple[int, int], int] = {}
    for i in range(-GRID_HALF, GRID_HALF + 1):
        for j in range(-GRID_HALF, GRID_HALF + 1):
            tags = _SIGNAL if (i, j) in SIGNAL_GRID else ()
            grid[i, j] = d.node(i * GRID_STEP_M, j * GRID_STEP_M, tags)
    station_street: dict[int, int] = {}
    for i in range(-GRID_HALF, GRID_HALF + 1):
        station_street[i] = d.node(i * GRID_STEP_M, STATION_STREET_Y_M, _SIGNAL if i == 0 else ())
    for i in range(-GRID_HALF, GRID_HALF + 1):
        ids = [station_street[i]] + [grid[i, j] for j in range(-GRID_HALF, GRID_HALF + 1)]
        main = i == 0
        d.way(
            ids,
            highway="tertiary" if main else "residential",
            name=COLUMN_NAMES[i + GRID_HALF],
            maxspeed="50" if main else "30",
            lanes="2",
        )
    for j in range(-GRID_HALF, GRID_HALF + 1):
        ids = [grid[i, j] for i in range(-GRID_HALF, GRID_HALF + 1)]
        direction = ONEWAY_ROWS.get(j)
        row_tags: dict[str, str] = {"name": ROW_NAMES[j + GRID_HALF], "maxspeed": "30" if j else "50"}
        if direction is not None:
            row_tags.update(highway="residential", oneway="yes", lanes="1")
            if direction == "west":
                ids = ids[::-1]
        else:
            row_tags.update(highway="tertiary" if j == 0 else "residential", lanes="2")
        d.way(ids, **row_tags)
    d.way(
        [station_street[i] for i in range(-GRID_HALF, GRID_HALF + 1)],
        highway="tertiary",
        name="Am Hauptbahnhof",
        maxspeed="50",
        lanes="2",
    )
    return grid, station_street


def _draw_ring(d: _Drawing) -> dict[int, int]:
    """The ring road: its nodes by position (counter-clockwise from the east) and its four quarters."""
    ring: dict[int, int] = {}
    for k in range(RING_NODES):
        angle = 360.0 * k / RING_NODES
        a = math.radians(angle)
        tags = _SIGNAL if angle in (0.0, 90.0, 180.0, 270.0) else ()
        ring[k] = d.node(RING_RADIUS_M * math.cos(a), RING_RADIUS_M * math.sin(a), tags)
    quarter = RING_NODES // 4
    for q in range(4):
        ids = [ring[(q * quarter + s) % RING_NODES] for s in range(quarter + 1)]
        d.way(ids, highway="primary", name=RING_NAMES[q], maxspeed="50", lanes="4")
    return ring


def _draw_arterials(
    d: _Drawing, grid: dict[tuple[int, int], int], station_street: dict[int, int], ring: dict[int, int]
) -> None:
    """Arterials from the grid's edges over the ring to the fringe, and the diagonal streets."""
    grid_edge = {
        0: grid[GRID_HALF, 0],
        90: grid[0, GRID_HALF],
        180: grid[-GRID_HALF, 0],
        270: station_street[0],
    }
    for angle, inner, outer in ARTERIALS:
        a = math.radians(angle)
        k = angle * RING_NODES // 360
        fringe = d.node(FRINGE_M * math.cos(a), FRINGE_M * math.sin(a))
        d.city.landmarks[f"fringe_{angle}"] = fringe
        ids = [grid_edge[angle], ring[k]]
        if angle == 270:  # the south arterial crosses the railway on a bridge (no shared node)
            bx, by = 0.0, RAILWAY_Y_M
            b1 = d.node(bx, by + 40.0)
            b2 = d.node(bx, by - 40.0)
            d.way([station_street[0], b1], highway="secondary", name=inner, maxspeed="50", lanes="2")
            d.way(
                [b1, b2], highway="secondary", name=inner, maxspeed="50", lanes="2", bridge="yes", layer="1"
            )
            d.way([b2, ring[k]], highway="secondary", name=inner, maxspeed="50", lanes="2")
        else:
            d.way(ids, highway="secondary", name=inner, maxspeed="50", lanes="2")
        d.way([ring[k], fringe], highway="secondary", name=outer, maxspeed="70", lanes="2")
    for angle, name in DIAGONALS:
        k = angle * RING_NODES // 360
        ci = GRID_HALF if math.cos(math.radians(angle)) > 0 else -GRID_HALF
        cj = GRID_HALF if math.sin(math.radians(angle)) > 0 else -GRID_HALF
        start = grid[ci, cj] if cj > 0 else station_street[ci]
        d.way([start, ring[k]], highway="residential", name=name, maxspeed="30", lanes="2")


def _draw_railway(d: _Drawing) -> tuple[list[int], int]:
    """The railway through the main station; its nodes west to east and the station node."""
    rail_ids = []
    x = -RAIL_HALF_LENGTH_M
    while x <= RAIL_HALF_LENGTH_M + 1e-6:
        rail_ids.append(d.node(x, RAILWAY_Y_M))
        x += 500.0
    d.way(
        rail_ids,
        railway="rail",
        name="Bahnstrecke Westheim–Osterfeld",
        usage="main",
        electrified="contact_line",
    )
    hbf = d.node(
        0.0,
        (STATION_STREET_Y_M + RAILWAY_Y_M) / 2,
        (
            ("name", "Knotenstadt Hauptbahnhof"),
            ("public_transport", "station"),
            ("railway", "station"),
            ("note", "fictional"),
        ),
    )
    d.city.landmarks["hbf"] = hbf
    return rail_ids, hbf


def _draw_paths(
    d: _Drawing,
    grid: dict[tuple[int, int], int],
    station_street: dict[int, int],
    ring: dict[int, int],
    hbf: int,
) -> None:
    """Footways through the park and the station forecourt; cycleways along the railway and the ring."""
    # footways: through the park (north-east quadrant) and station forecourt; cycleway along the railway
    park = [d.node(520.0, 260.0), d.node(640.0, 420.0)]
    d.way([grid[GRID_HALF, 1], park[0], park[1], ring[2]], highway="footway", name="Stadtparkweg")
    d.way([park[0], grid[GRID_HALF - 1, GRID_HALF]], highway="footway", name="Am Stadtpark")
    d.way([station_street[-1], hbf, station_street[1]], highway="footway", name="Bahnhofsvorplatz")
    cyc_w = d.node(-RING_RADIUS_M, RAILWAY_Y_M + 25.0)
    cyc_e = d.node(RING_RADIUS_M, RAILWAY_Y_M + 25.0)
    d.way(
        [ring[RING_NODES // 2 + 1], cyc_w, station_street[-GRID_HALF]], highway="cycleway", name="Bahndammweg"
    )
    d.way([station_street[GRID_HALF], cyc_e, ring[RING_NODES - 1]], highway="cycleway", name="Bahndammweg")
    d.way([ring[k] for k in range(RING_NODES)] + [ring[0]], highway="cycleway", name="Ringradweg")


def _name_junctions(
    city: City,
    grid: dict[tuple[int, int], int],
    station_street: dict[int, int],
    ring: dict[int, int],
    rail_ids: list[int],
) -> None:
    """Junction names (street/street or a place) and the landmarks other generators refer to."""
    for key, nid in grid.items():
        city.junction_names[nid] = f"{COLUMN_NAMES[key[0] + GRID_HALF]}/{ROW_NAMES[key[1] + GRID_HALF]}"
    for i, nid in station_street.items():
        city.junction_names[nid] = (
            "Hauptbahnhof" if i == 0 else f"Am Hauptbahnhof/{COLUMN_NAMES[i + GRID_HALF]}"
        )
    for k, nid in ring.items():
        city.junction_names[nid] = RING_PLACES[k]
    for angle, _inner, outer in ARTERIALS:
        city.junction_names[city.landmarks[f"fringe_{angle}"]] = f"{outer} (Ortsrand)"
        k = angle * RING_NODES // 360
        city.junction_names[ring[k]] = f"{RING_NAMES[(k // (RING_NODES // 4)) % 4]}/{_inner}"
    city.landmarks.update({f"grid_{i}_{j}": nid for (i, j), nid in grid.items()})
    city.landmarks.update({f"station_{i}": nid for i, nid in station_street.items()})
    city.landmarks.update({f"ring_{k}": nid for k, nid in ring.items()})
    city.landmarks["rail_west"] = rail_ids[0]
    city.landmarks["rail_east"] = rail_ids[-1]
    city.junction_names[grid[0, 0]] = "Marktplatz"
    city.junction_names[grid[0, 1]] = "Rathaus"
    city.junction_names[grid[1, 1]] = "Stadtpark"
    city.junction_names[grid[-1, 1]] = "St.-Marien-Kirche"
    city.junction_names[grid[-1, -1]] = "Gymnasium"
    city.junction_names[grid[1, -1]] = "Stadtbad"
