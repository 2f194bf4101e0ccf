"""Mobility: timetables, streets, sharing, realtime, live state and the intermodal planner.

A pure core: plain arrays and dataclasses with integer ids; no flask, click or rich (an
import-linter contract), and nothing here imports ``api`` or ``scenarios``.

Public transport, stop to stop:

- ``gtfs.py``: per-table GTFS readers that take bytes (files and pollers share them);
- ``timetable.py``: the timetable of one service date as flat arrays; ``cache.py``: its disk cache;
- ``footpaths.py``: the walks between rides (transfers.txt, crow-fly, or measured on the streets);
- ``raptor.py``: the RAPTOR router over immutable bundles; ``journeys.py``: its journeys;
  ``batch.py``: many queries from a CSV file.

Subpackages:

- ``streets/``: the OSM street network (parsing, walk/bike/car profiles, graph, snapping, cache);
- ``sharing/``: shared mobility (the GBFS model, parser with schema validation, HTTP client);
- ``realtime/``: GTFS-Realtime parsing and its overlay on a timetable;
- ``live/``: the live state of every feed, persisted (SQLite or PostgreSQL), and the pollers;
- ``planner/``: the door-to-door planner (walk, transit, bike and car sharing, own car to a
  charger) and its itinerary, the API's journey shape.

Elsewhere: the HTTP routes over all this are in ``api/routes/``, the ``knoten`` command in
``api/cli/``, the station display in ``api/display/``, and the demo city in ``scenarios/demo``.
"""
