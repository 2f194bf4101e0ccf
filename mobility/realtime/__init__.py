"""GTFS-Realtime: TripUpdates and ServiceAlerts parsed into dataclasses, and their overlay.

- ``gtfs_rt.py``: decoding and per-entity checks (a bad entity is reported, never fatal);
- ``overlay.py``: the updates applied to an immutable timetable, for the router to use.
"""
