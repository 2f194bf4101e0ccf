"""Write the demo city's timetable as a GTFS zip (deterministic bytes for a given plan and date)."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

from mobility.gtfs import CALENDAR_COLUMNS
from scenarios.demo.city import to_lat_lon
from scenarios.demo.holidays import holidays_between
from scenarios.demo.transit import HBF_STATION_ID, TransitPlan

AGENCY_ID = "KVB"
AGENCY_NAME = "Knotenstadt Verkehrsbetriebe (fictional)"
AGENCY_URL = "https://knotenstadt.example.com/"
FEED_PUBLISHER = "Knoten demo city (fictional data)"
FEED_CONTACT = "demo@knotenstadt.example.com"
TIMEZONE = "Europe/Berlin"
FEED_DAYS_BEFORE = 30
FEED_DAYS_AFTER = 335
HBF_TRANSFER_S = {("rail", "rail"): 120, ("rail", "bus"): 240, ("bus", "rail"): 240, ("bus", "bus"): 120}
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def feed_period(build_date: date) -> tuple[date, date]:
    """First and last service date of the feed built on ``build_date``."""
    return build_date - timedelta(days=FEED_DAYS_BEFORE), build_date + timedelta(days=FEED_DAYS_AFTER)


def gtfs_time(seconds: int) -> str:
    """Seconds after noon minus 12 h as ``HH:MM:SS`` (hours may exceed 23)."""
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}"


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8")


def gtfs_tables(plan: TransitPlan, build_date: date, seed: int) -> dict[str, bytes]:
    """All GTFS files of the demo feed as CSV bytes, keyed by file name (in the reference's order)."""
    start, end = feed_period(build_date)
    return {
        **_feed_tables(build_date, seed, start, end),
        **_stop_tables(plan),
        **_service_tables(start, end),
        **_trip_tables(plan),
        **_transfer_tables(plan),
    }


def _feed_tables(build_date: date, seed: int, start: date, end: date) -> dict[str, bytes]:
    """agency.txt and feed_info.txt."""
    files: dict[str, bytes] = {}
    files["agency.txt"] = _csv(
        ["agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang", "agency_email"],
        [[AGENCY_ID, AGENCY_NAME, AGENCY_URL, TIMEZONE, "de", FEED_CONTACT]],
    )
    files["feed_info.txt"] = _csv(
        [
            "feed_publisher_name",
            "feed_publisher_url",
            "feed_lang",
            "default_lang",
            "feed_start_date",
            "feed_end_date",
            "feed_version",
            "feed_contact_email",
        ],
        [
            [
                FEED_PUBLISHER,
                AGENCY_URL,
                "de",
                "de",
                start.strftime("%Y%m%d"),
                end.strftime("%Y%m%d"),
                f"{build_date:%Y%m%d}-seed{seed}",
                FEED_CONTACT,
            ]
        ],
    )
    return files


def _stop_tables(plan: TransitPlan) -> dict[str, bytes]:
    """stops.txt (the main station a parent of its platforms) and routes.txt."""
    files: dict[str, bytes] = {}
    stop_rows = []
    for sid in sorted(plan.stops):
        s = plan.stops[sid]
        lat, lon = to_lat_lon(s.x_m, s.y_m)
        location_type = 1 if sid == HBF_STATION_ID else 0
        name = s.name if sid != HBF_STATION_ID else f"{s.name} (fictional)"
        stop_rows.append(
            [sid, name, f"{lat:.6f}", f"{lon:.6f}", location_type, s.parent_station, s.platform_code, 1]
        )
    files["stops.txt"] = _csv(
        [
            "stop_id",
            "stop_name",
            "stop_lat",
            "stop_lon",
            "location_type",
            "parent_station",
            "platform_code",
            "wheelchair_boarding",
        ],
        stop_rows,
    )
    files["routes.txt"] = _csv(
        [
            "route_id",
            "agency_id",
            "route_short_name",
            "route_long_name",
            "route_type",
            "route_color",
            "route_text_color",
        ],
        [
            [ln.line_id, AGENCY_ID, ln.short_name, ln.long_name, ln.route_type, ln.color, ln.text_color]
            for ln in plan.lines
        ],
    )
    return files


def _service_tables(start: date, end: date) -> dict[str, bytes]:
    """calendar.txt and calendar_dates.txt: weekdays, Saturdays, Sundays; holidays run as Sundays."""
    files: dict[str, bytes] = {}
    files["calendar.txt"] = _csv(
        CALENDAR_COLUMNS,
        [
            [sid, *days, start.strftime("%Y%m%d"), end.strftime("%Y%m%d")]
            for sid, days in (
                ("WD", (1, 1, 1, 1, 1, 0, 0)),
                ("SA", (0, 0, 0, 0, 0, 1, 0)),
                ("SU", (0, 0, 0, 0, 0, 0, 1)),
            )
        ],
    )
    date_rows = []
    for day in holidays_between(start, end):
        weekday = day.weekday()
        if weekday == 6:
            continue
        regular = "SA" if weekday == 5 else "WD"
        date_rows.append(["SU", day.strftime("%Y%m%d"), 1])
        date_rows.append([regular, day.strftime("%Y%m%d"), 2])
    files["calendar_dates.txt"] = _csv(["service_id", "date", "exception_type"], sorted(date_rows))
    return files


def _trip_tables(plan: TransitPlan) -> dict[str, bytes]:
    """shapes.txt, trips.txt, stop_times.txt and frequencies.txt."""
    files: dict[str, bytes] = {}
    shape_rows = []
    for pid in sorted(plan.patterns):
        p = plan.patterns[pid]
        for seq, (x, y) in enumerate(p.shape_xy, start=1):
            lat, lon = to_lat_lon(x, y)
            shape_rows.append([pid, f"{lat:.6f}", f"{lon:.6f}", seq])
    files["shapes.txt"] = _csv(["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"], shape_rows)
    trip_rows, time_rows, freq_rows = [], [], []
    for trip in plan.trips:
        p = plan.patterns[trip.pattern_id]
        trip_rows.append(
            [p.line_id, trip.service_id, trip.trip_id, p.headsign, p.direction_id, p.pattern_id, 1]
        )
        for seq, (stop_id, (arr, dep)) in enumerate(zip(p.stop_ids, p.stop_offsets_s, strict=True), start=1):
            time_rows.append(
                [
                    trip.trip_id,
                    gtfs_time(trip.first_departure_s + arr),
                    gtfs_time(trip.first_departure_s + dep),
                    stop_id,
                    seq,
                    1,
                ]
            )
        for f_start, f_end, headway in trip.frequencies:
            freq_rows.append([trip.trip_id, gtfs_time(f_start), gtfs_time(f_end), headway, 1])
    files["trips.txt"] = _csv(
        [
            "route_id",
            "service_id",
            "trip_id",
            "trip_headsign",
            "direction_id",
            "shape_id",
            "wheelchair_accessible",
        ],
        trip_rows,
    )
    files["stop_times.txt"] = _csv(
        ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence", "timepoint"], time_rows
    )
    files["frequencies.txt"] = _csv(
        ["trip_id", "start_time", "end_time", "headway_secs", "exact_times"], freq_rows
    )
    return files


def _transfer_tables(plan: TransitPlan) -> dict[str, bytes]:
    """transfers.txt: minimum transfer times between the main station's platforms."""
    files: dict[str, bytes] = {}
    hub_platforms = sorted(s for s, st in plan.stops.items() if st.parent_station == HBF_STATION_ID)
    transfer_rows = []
    for a in hub_platforms:
        for b in hub_platforms:
            if a == b:
                continue
            kind_a = "rail" if a.startswith("hbf-rail") else "bus"
            kind_b = "rail" if b.startswith("hbf-rail") else "bus"
            transfer_rows.append([a, b, 2, HBF_TRANSFER_S[kind_a, kind_b]])
    files["transfers.txt"] = _csv(
        ["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"], transfer_rows
    )
    return files


def write_gtfs(plan: TransitPlan, build_date: date, seed: int, path: Path) -> dict[str, int]:
    """Write the GTFS zip with fixed member timestamps and order; return row counts per file."""
    files = gtfs_tables(plan, build_date, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name])
    return {name.removesuffix(".txt"): data.count(b"\n") - 1 for name, data in sorted(files.items())}
