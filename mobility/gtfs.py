"""GTFS import: read a feed with gtfs-kit, check it and turn it into typed arrays with integer ids.

Everything a timetable needs is converted once here: stop, route, trip and service ids become
integer indices, GTFS times become seconds after "noon minus 12 h" of the service day, and
pickup/drop-off types become "allowed" flags (only type 1 forbids).  A feed that cannot be used
raises :class:`~mobility.errors.GtfsError` naming the file, line and field at fault.

Several feeds can be used together; each then gets a namespace (``"<namespace>:<id>"`` for every
stop, route, trip and service id) so that ids of different agencies never collide.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mobility.errors import GtfsError

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_timezone",),
    "stops": ("stop_id",),
    "routes": ("route_id",),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar": (
        "service_id",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "start_date",
        "end_date",
    ),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers": ("from_stop_id", "to_stop_id"),
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = re.compile(r"^\s*(\d{1,3}):([0-5]\d):([0-5]\d)\s*$")
_DATE_RE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


@dataclass
class GtfsFeed:
    """One GTFS feed as arrays with integer ids (indices into the id arrays).

    Stop times are sorted by trip and stop_sequence; the rows of trip ``i`` are
    ``st_off[i]:st_off[i + 1]``.  Times are GTFS seconds (may exceed 86 400).
    """

    name: str
    namespace: str
    timezone: str
    stop_ids: np.ndarray
    stop_names: np.ndarray
    stop_lat: np.ndarray
    stop_lon: np.ndarray
    stop_location_type: np.ndarray  # int8, 0 for empty
    stop_parent: np.ndarray  # int32 index of parent_station, -1 when none
    route_ids: np.ndarray
    route_short_names: np.ndarray
    route_long_names: np.ndarray
    route_types: np.ndarray  # int32
    trip_ids: np.ndarray
    trip_route: np.ndarray  # int32
    trip_service: np.ndarray  # int32
    trip_headsigns: np.ndarray
    service_ids: np.ndarray
    cal_service: np.ndarray  # int32
    cal_weekdays: np.ndarray  # bool (n, 7), Monday first
    cal_start: np.ndarray  # int32 yyyymmdd
    cal_end: np.ndarray
    cd_service: np.ndarray
    cd_date: np.ndarray  # int32 yyyymmdd
    cd_exception: np.ndarray  # int8 (1 adds, 2 removes)
    st_off: np.ndarray  # int64 (n_trips + 1)
    st_stop: np.ndarray  # int32
    st_arr_s: np.ndarray  # int32
    st_dep_s: np.ndarray  # int32
    st_pickup: np.ndarray  # uint8, 1 = boarding allowed
    st_dropoff: np.ndarray  # uint8, 1 = alighting allowed
    freq_trip: np.ndarray  # int32
    freq_start_s: np.ndarray
    freq_end_s: np.ndarray
    freq_headway_s: np.ndarray
    tr_from: np.ndarray  # int32 stop index
    tr_to: np.ndarray
    tr_type: np.ndarray  # int8 (empty = 0)
    tr_min_time_s: np.ndarray  # int32 (empty = 0)

    def service_active(self, date: dt.date) -> np.ndarray:
        """Boolean mask over ``service_ids``: does the service run on ``date``?"""
        ymd = date.year * 10000 + date.month * 100 + date.day
        active = np.zeros(len(self.service_ids), dtype=bool)
        if len(self.cal_service):
            runs = self.cal_weekdays[:, date.weekday()] & (self.cal_start <= ymd) & (self.cal_end >= ymd)
            active[self.cal_service[runs]] = True
        if len(self.cd_service):
            today = self.cd_date == ymd
            active[self.cd_service[today & (self.cd_exception == 1)]] = True
            active[self.cd_service[today & (self.cd_exception == 2)]] = False
        return active

    def service_period(self) -> tuple[int, int] | None:
        """First and last yyyymmdd any service could run on, or None without a calendar."""
        dates = [d for d in (self.cal_start, self.cal_end, self.cd_date) if len(d)]
        if not dates:
            return None
        joined = np.concatenate(dates)
        return int(joined.min()), int(joined.max())


def default_namespace(path: Path) -> str:
    """The namespace used for a feed file when several feeds are merged: the file name's stem."""
    name = path.name
    for suffix in (".zip", ".gtfs"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _line(index: int) -> int:
    """Line number in the CSV file of the DataFrame row ``index`` (the header is line 1)."""
    return int(index) + 2


def _list_files(path: Path) -> dict[str, int]:
    if path.is_dir():
        return {p.name: p.stat().st_size for p in path.iterdir() if p.is_file()}
    with zipfile.ZipFile(path) as zf:
        return {Path(i.filename).name: i.file_size for i in zf.infolist() if not i.is_dir()}


def _open_text(path: Path, filename: str) -> io.TextIOBase:
    if path.is_dir():
        return open(path / filename, encoding="utf-8-sig", newline="")
    zf = zipfile.ZipFile(path)
    inner = next(i.filename for i in zf.infolist() if Path(i.filename).name == filename)
    return io.TextIOWrapper(zf.open(inner), encoding="utf-8-sig", newline="")


def _locate_unreadable_value(path: Path, name: str, exc: Exception) -> GtfsError:
    """Find the cell that made gtfs-kit's typed read fail, by a plain CSV scan with the same dtypes."""
    from gtfs_kit import constants as gk_constants

    for table, dtypes in gk_constants.DTYPES.items():
        filename = f"{table}.txt"
        try:
            handle = _open_text(path, filename)
        except (StopIteration, FileNotFoundError, KeyError):
            continue
        with handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            checks = []
            for col, kind in dtypes.items():
                if col in header and str(kind) not in ("str", "string", "object"):
                    checks.append((header.index(col), col, str(kind).lower()))
            for lineno, row in enumerate(reader, start=2):
                for pos, col, kind in checks:
                    value = row[pos].strip() if pos < len(row) else ""
                    if value in ("", "nan", "NaN", "null"):
                        continue
                    try:
                        number = float(value)
                        if "int" in kind and not number.is_integer():
                            raise ValueError(value)
                    except ValueError:
                        return GtfsError(name, f"not a number: {value!r}", filename, lineno, col)
    return GtfsError(name, f"cannot be read: {exc}")


def _read_with_wide_ints(gk: Any, path: Path) -> Any:
    """``gtfs_kit.read_feed`` with 64-bit integer columns.

    gtfs-kit declares headway_secs, min_transfer_time and transfer_duration as Int16, which
    overflows on valid feeds (a headway of 50 400 s in the Helsinki feed); widen them while reading.
    """
    from gtfs_kit import constants as gk_constants

    original = gk_constants.DTYPES
    widened = {
        table: {col: ("Int64" if str(kind) == "Int16" else kind) for col, kind in cols.items()}
        for table, cols in original.items()
    }
    gk_constants.DTYPES = widened
    try:
        return gk.read_feed(path, dist_units="km")
    finally:
        gk_constants.DTYPES = original


def _require_columns(name: str, table: str, df: pd.DataFrame) -> None:
    for col in REQUIRED_COLUMNS[table]:
        if col not in df.columns:
            raise GtfsError(name, f"required column {col!r} is missing", f"{table}.txt")


def _strings(series: pd.Series) -> np.ndarray:
    return series.astype("string").fillna("").to_numpy(dtype=object)


def parse_gtfs_times(series: pd.Series, name: str, filename: str, field: str) -> np.ndarray:
    """Parse a column of ``H:MM:SS`` GTFS times into int32 seconds; errors name the bad line."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise GtfsError(name, "empty time (times must be given for every stop)", filename, _line(row), field)
    seconds = np.empty(len(uniques), dtype=np.int32)
    for i, text in enumerate(uniques):
        m = _TIME_RE.match(str(text))
        if m is None:
            row = int(np.flatnonzero(codes == i)[0])
            raise GtfsError(name, f"bad time {text!r} (expected HH:MM:SS)", filename, _line(row), field)
        seconds[i] = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
    return seconds[codes]


def _parse_dates(series: pd.Series, name: str, filename: str, field: str) -> np.ndarray:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise GtfsError(name, "empty date", filename, _line(row), field)
    out = np.empty(len(uniques), dtype=np.int32)
    for i, text in enumerate(uniques):
        m = _DATE_RE.match(str(text))
        ok = m is not None
        if m is not None:
            try:
                dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                ok = False
        if not ok:
            row = int(np.flatnonzero(codes == i)[0])
            raise GtfsError(name, f"bad date {text!r} (expected YYYYMMDD)", filename, _line(row), field)
        out[i] = int(str(text).strip())
    return out[codes]


def _lookup(
    keys: pd.Series,
    index: pd.Index,
    name: str,
    filename: str,
    field: str,
    what: str,
    allow_empty: bool,
    strict: bool = True,
) -> np.ndarray:
    """Map id strings to integer positions in ``index`` (-1 for empty or, unless strict, unknown ids).

    With ``strict`` an unknown id raises GtfsError naming its line.
    """
    values = keys.astype("string")
    empty = values.isna().to_numpy() | (values.fillna("").str.strip() == "").to_numpy()
    pos = index.get_indexer(values.fillna("").to_numpy(dtype=object))
    bad = (pos < 0) & ~empty
    if strict and bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise GtfsError(name, f"unknown {what} {values.iloc[row]!r}", filename, _line(row), field)
    if empty.any() and not allow_empty:
        row = int(np.flatnonzero(empty)[0])
        raise GtfsError(name, f"empty {what}", filename, _line(row), field)
    return np.where(empty | bad, -1, pos).astype(np.int32)


def _int_column(df: pd.DataFrame, col: str, default: int) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default, dtype=np.int64)
    return pd.to_numeric(df[col], errors="coerce").fillna(default).to_numpy(dtype=np.int64)


def _unique_index(series: pd.Series, name: str, filename: str, field: str) -> pd.Index:
    values = _strings(series)
    if (values == "").any():
        row = int(np.flatnonzero(values == "")[0])
        raise GtfsError(name, "empty id", filename, _line(row), field)
    index = pd.Index(values)
    if not index.is_unique:
        dup = index.duplicated()
        row = int(np.flatnonzero(dup)[0])
        raise GtfsError(name, f"duplicate id {values[row]!r}", filename, _line(row), field)
    return index


def load_feed(path: str | Path, namespace: str = "") -> GtfsFeed:
    """Read and check one GTFS feed (zip file or folder).

    Parameters
    ----------
    path:
        The feed's zip file or folder.
    namespace:
        Prefix for every id (``"<namespace>:<id>"``) when several feeds are merged; ``""`` keeps the
        feed's own ids.

    Raises
    ------
    GtfsError
        When a required file or column is missing, or a value is unusable (file, line and field).
    """
    import gtfs_kit as gk

    path = Path(path)
    name = path.name
    if not path.exists():
        raise GtfsError(name, f"no such file or folder: {path}")
    try:
        files = _list_files(path)
    except zipfile.BadZipFile as exc:
        raise GtfsError(name, f"not a zip file ({exc})") from None
    for filename in REQUIRED_FILES:
        if files.get(filename, 0) == 0:
            raise GtfsError(name, "required file is missing or empty", filename)
    if files.get("calendar.txt", 0) == 0 and files.get("calendar_dates.txt", 0) == 0:
        raise GtfsError(name, "required file is missing: calendar.txt or calendar_dates.txt", "calendar.txt")
    try:
        feed = _read_with_wide_ints(gk, path)
    except Exception as exc:
        raise _locate_unreadable_value(path, name, exc) from None

    tables: dict[str, pd.DataFrame | None] = {
        t: getattr(feed, t, None)
        for t in (
            "agency",
            "stops",
            "routes",
            "trips",
            "stop_times",
            "calendar",
            "calendar_dates",
            "frequencies",
            "transfers",
        )
    }
    for table in ("agency", "stops", "routes", "trips", "stop_times"):
        if tables[table] is None:
            raise GtfsError(name, "required file has no rows", f"{table}.txt")
    for table, df in tables.items():
        if df is not None:
            _require_columns(name, table, df)
    prefix = f"{namespace}:" if namespace else ""

    agency = tables["agency"]
    assert agency is not None
    timezone = (
        str(agency["agency_timezone"].dropna().iloc[0]) if agency["agency_timezone"].notna().any() else ""
    )

    # stops
    stops = tables["stops"]
    assert stops is not None
    stop_index = _unique_index(stops["stop_id"], name, "stops.txt", "stop_id")
    loc_type = _int_column(stops, "location_type", 0).astype(np.int8)
    if "parent_station" in stops.columns:
        parent = _lookup(
            stops["parent_station"], stop_index, name, "stops.txt", "parent_station", "stop", True, False
        )
    else:
        parent = np.full(len(stops), -1, dtype=np.int32)
    lat = (
        pd.to_numeric(stops["stop_lat"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if "stop_lat" in stops.columns
        else np.full(len(stops), np.nan)
    )
    lon = (
        pd.to_numeric(stops["stop_lon"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if "stop_lon" in stops.columns
        else np.full(len(stops), np.nan)
    )
    stop_names = _strings(stops["stop_name"]) if "stop_name" in stops.columns else np.full(len(stops), "")

    # routes
    routes = tables["routes"]
    assert routes is not None
    route_index = _unique_index(routes["route_id"], name, "routes.txt", "route_id")
    short = _strings(routes["route_short_name"]) if "route_short_name" in routes else np.full(len(routes), "")
    long_ = _strings(routes["route_long_name"]) if "route_long_name" in routes else np.full(len(routes), "")
    rtype = _int_column(routes, "route_type", 3).astype(np.int32)

    # calendars
    service_values: list[np.ndarray] = []
    cal = tables["calendar"]
    cd = tables["calendar_dates"]
    trips = tables["trips"]
    assert trips is not None
    for df in (cal, cd, trips):
        if df is not None:
            service_values.append(_strings(df["service_id"]))
    service_index = pd.Index(pd.unique(np.concatenate(service_values)))
    if cal is not None:
        cal_service = service_index.get_indexer(_strings(cal["service_id"])).astype(np.int32)
        weekdays = np.zeros((len(cal), 7), dtype=bool)
        for i, day in enumerate(WEEKDAYS):
            weekdays[:, i] = _int_column(cal, day, 0) == 1
        cal_start = _parse_dates(cal["start_date"], name, "calendar.txt", "start_date")
        cal_end = _parse_dates(cal["end_date"], name, "calendar.txt", "end_date")
    else:
        cal_service = np.zeros(0, dtype=np.int32)
        weekdays = np.zeros((0, 7), dtype=bool)
        cal_start = cal_end = np.zeros(0, dtype=np.int32)
    if cd is not None:
        cd_service = service_index.get_indexer(_strings(cd["service_id"])).astype(np.int32)
        cd_date = _parse_dates(cd["date"], name, "calendar_dates.txt", "date")
        cd_exc = _int_column(cd, "exception_type", 0).astype(np.int8)
        bad = ~np.isin(cd_exc, (1, 2))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise GtfsError(
                name, "exception_type must be 1 or 2", "calendar_dates.txt", _line(row), "exception_type"
            )
    else:
        cd_service = cd_date = np.zeros(0, dtype=np.int32)
        cd_exc = np.zeros(0, dtype=np.int8)

    # trips
    trip_index = _unique_index(trips["trip_id"], name, "trips.txt", "trip_id")
    trip_route = _lookup(trips["route_id"], route_index, name, "trips.txt", "route_id", "route", True, False)
    trip_service = service_index.get_indexer(_strings(trips["service_id"])).astype(np.int32)
    headsigns = _strings(trips["trip_headsign"]) if "trip_headsign" in trips else np.full(len(trips), "")

    # stop_times
    st = tables["stop_times"]
    assert st is not None
    # rows of trips that trips.txt does not define are ignored; an unknown stop is an error
    st_trip = _lookup(st["trip_id"], trip_index, name, "stop_times.txt", "trip_id", "trip", False, False)
    st_stop = _lookup(st["stop_id"], stop_index, name, "stop_times.txt", "stop_id", "stop", False)
    seq_na = st["stop_sequence"].isna().to_numpy()
    if seq_na.any():
        row = int(np.flatnonzero(seq_na)[0])
        raise GtfsError(name, "empty stop_sequence", "stop_times.txt", _line(row), "stop_sequence")
    seq = st["stop_sequence"].to_numpy(dtype=np.int64)
    arr = parse_gtfs_times(st["arrival_time"], name, "stop_times.txt", "arrival_time")
    dep = parse_gtfs_times(st["departure_time"], name, "stop_times.txt", "departure_time")
    pickup = (_int_column(st, "pickup_type", 0) != 1).astype(np.uint8)
    dropoff = (_int_column(st, "drop_off_type", 0) != 1).astype(np.uint8)
    order = np.lexsort((seq, st_trip))
    order = order[st_trip[order] >= 0]
    st_trip_sorted = st_trip[order]
    same = (st_trip_sorted[1:] == st_trip_sorted[:-1]) & (seq[order][1:] == seq[order][:-1])
    if same.any():
        row = int(order[int(np.flatnonzero(same)[0]) + 1])
        raise GtfsError(
            name, "stop_sequence repeated within the trip", "stop_times.txt", _line(row), "stop_sequence"
        )
    st_off = np.zeros(len(trips) + 1, dtype=np.int64)
    np.cumsum(np.bincount(st_trip_sorted, minlength=len(trips)), out=st_off[1:])

    # frequencies
    fr = tables["frequencies"]
    if fr is not None:
        freq_trip = _lookup(
            fr["trip_id"], trip_index, name, "frequencies.txt", "trip_id", "trip", False, False
        )
        freq_start = parse_gtfs_times(fr["start_time"], name, "frequencies.txt", "start_time")
        freq_end = parse_gtfs_times(fr["end_time"], name, "frequencies.txt", "end_time")
        headway = _int_column(fr, "headway_secs", 0).astype(np.int32)
        bad = headway <= 0
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise GtfsError(
                name, "headway_secs must be a positive number", "frequencies.txt", _line(row), "headway_secs"
            )
        known = freq_trip >= 0
        freq_trip, freq_start, freq_end, headway = (
            freq_trip[known],
            freq_start[known],
            freq_end[known],
            headway[known],
        )
    else:
        freq_trip = np.zeros(0, dtype=np.int32)
        freq_start = freq_end = headway = np.zeros(0, dtype=np.int32)

    # transfers
    tr = tables["transfers"]
    if tr is not None:
        # rows naming no stop (trip-to-trip rules) or an unknown stop are ignored
        tr_from = _lookup(
            tr["from_stop_id"], stop_index, name, "transfers.txt", "from_stop_id", "stop", True, False
        )
        tr_to = _lookup(
            tr["to_stop_id"], stop_index, name, "transfers.txt", "to_stop_id", "stop", True, False
        )
        tr_type = _int_column(tr, "transfer_type", 0).astype(np.int8)
        tr_time = _int_column(tr, "min_transfer_time", 0).astype(np.int32)
        known = (tr_from >= 0) & (tr_to >= 0)
        tr_from, tr_to, tr_type, tr_time = tr_from[known], tr_to[known], tr_type[known], tr_time[known]
    else:
        tr_from = tr_to = tr_time = np.zeros(0, dtype=np.int32)
        tr_type = np.zeros(0, dtype=np.int8)

    def ns(values: np.ndarray) -> np.ndarray:
        if not prefix:
            return np.asarray(values, dtype=object)
        return np.array([prefix + v for v in values], dtype=object)

    return GtfsFeed(
        name=name,
        namespace=namespace,
        timezone=timezone,
        stop_ids=ns(stop_index.to_numpy(dtype=object)),
        stop_names=stop_names,
        stop_lat=lat,
        stop_lon=lon,
        stop_location_type=loc_type,
        stop_parent=parent,
        route_ids=ns(route_index.to_numpy(dtype=object)),
        route_short_names=short,
        route_long_names=long_,
        route_types=rtype,
        trip_ids=ns(trip_index.to_numpy(dtype=object)),
        trip_route=trip_route,
        trip_service=trip_service,
        trip_headsigns=headsigns,
        service_ids=ns(service_index.to_numpy(dtype=object)),
        cal_service=cal_service,
        cal_weekdays=weekdays,
        cal_start=cal_start,
        cal_end=cal_end,
        cd_service=cd_service,
        cd_date=cd_date,
        cd_exception=cd_exc,
        st_off=st_off,
        st_stop=st_stop[order],
        st_arr_s=arr[order],
        st_dep_s=dep[order],
        st_pickup=pickup[order],
        st_dropoff=dropoff[order],
        freq_trip=freq_trip,
        freq_start_s=freq_start,
        freq_end_s=freq_end,
        freq_headway_s=headway,
        tr_from=tr_from,
        tr_to=tr_to,
        tr_type=tr_type,
        tr_min_time_s=tr_time,
    )
