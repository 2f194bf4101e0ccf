"""GTFS import: read a feed's tables, check them and turn them into typed arrays with integer ids.

Everything a timetable needs is converted once here: stop, route, trip and service ids become
integer indices, GTFS times become seconds after "noon minus 12 h" of the service day, and
pickup/drop-off types become "allowed" flags (only type 1 forbids).  A feed that cannot be used
raises :class:`~mobility.errors.GtfsError` naming the file, line and field at fault.

Several feeds can be used together; each then gets a namespace (``"<namespace>:<id>"`` for every
stop, route, trip and service id) so that ids of different agencies never collide.

Reading is split so that files and downloads share it: :func:`read_feed_files` gives the raw bytes
of every table of a zip or folder, :func:`read_table` turns one table's bytes into a DataFrame with
gtfs-kit's column types, and one ``_parse_<table>`` function per table checks it and converts it.
:func:`parse_feed` joins them into a :class:`GtfsFeed`; :func:`load_feed` does all of it for a path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mobility.errors import GtfsError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CALENDAR_COLUMNS = ("service_id", *WEEKDAYS, "start_date", "end_date")
TABLES = (
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
REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_timezone",),
    "stops": ("stop_id",),
    "routes": ("route_id",),
    "trips": ("route_id", "service_id", "trip_id"),
    "stop_times": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar": CALENDAR_COLUMNS,
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs"),
    "transfers": ("from_stop_id", "to_stop_id"),
}
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
    xfer_from: np.ndarray  # transfers.txt rows: int32 stop index
    xfer_to: np.ndarray
    xfer_type: np.ndarray  # int8 (empty = 0)
    xfer_min_time_s: np.ndarray  # int32 (empty = 0)

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


def read_feed_files(path: Path) -> dict[str, bytes]:
    """The raw bytes of every table a timetable reads (``"stops.txt"`` → bytes) from a zip or folder.

    Raises
    ------
    GtfsError
        When the path does not exist or is not a readable zip file.
    """
    name = path.name
    if not path.exists():
        raise GtfsError(name, f"no such file or folder: {path}")
    wanted = {f"{t}.txt" for t in TABLES}
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file() and p.name in wanted}
    try:
        with zipfile.ZipFile(path) as zf:
            return {
                Path(i.filename).name: zf.read(i.filename)
                for i in zf.infolist()
                if not i.is_dir() and Path(i.filename).name in wanted
            }
    except (zipfile.BadZipFile, OSError) as exc:
        raise GtfsError(name, f"not a zip file ({exc})") from None


def _dtypes(table: str) -> dict[str, str]:
    """gtfs-kit's column types of ``table``, with 16-bit integers widened to 64 bits.

    gtfs-kit declares headway_secs, min_transfer_time and transfer_duration as Int16, which
    overflows on valid feeds (a headway of 50 400 s in the Helsinki feed).
    """
    from gtfs_kit import constants as gk_constants

    return {
        col: ("Int64" if str(kind) == "Int16" else str(kind))
        for col, kind in gk_constants.DTYPES.get(table, {}).items()
    }


def _locate_unreadable_value(data: bytes, name: str, table: str, exc: Exception) -> GtfsError:
    """Find the cell that made the typed read of ``table`` fail, by a plain CSV scan."""
    filename = f"{table}.txt"
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig", errors="replace")))
    header = [h.strip() for h in next(reader, [])]
    checks = [
        (header.index(col), col, kind.lower())
        for col, kind in _dtypes(table).items()
        if col in header and kind not in ("str", "string", "object")
    ]
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
    return GtfsError(name, f"cannot be read: {exc}", filename)


def read_table(data: bytes, table: str, name: str = "feed") -> pd.DataFrame | None:
    """One GTFS table from its CSV bytes, typed as gtfs-kit types it; None when it has no rows.

    Column names are stripped of white space, ``""``, ``" "``, ``nan`` and ``null`` are missing
    values. A value that cannot be read raises :class:`GtfsError` naming its line and column.
    """
    if not data.strip():
        return None
    try:
        df = pd.read_csv(
            io.BytesIO(data),
            dtype=_dtypes(table),  # type: ignore[arg-type]
            na_values=["", " ", "nan", "NaN", "null"],
            keep_default_na=True,
            dtype_backend="numpy_nullable",
            encoding="utf-8-sig",
        )
    except Exception as exc:
        raise _locate_unreadable_value(data, name, table, exc) from None
    df.columns = [str(c).strip() for c in df.columns]
    return None if df.empty else df


def _require_columns(name: str, table: str, df: pd.DataFrame) -> None:
    for col in REQUIRED_COLUMNS[table]:
        if col not in df.columns:
            raise GtfsError(name, f"required column {col!r} is missing", f"{table}.txt")


def _strings(series: pd.Series) -> np.ndarray:
    return series.astype("string").fillna("").to_numpy(dtype=object)


def _distinct(
    series: pd.Series, name: str, filename: str, field: str, empty_message: str
) -> tuple[np.ndarray, np.ndarray]:
    """The column's distinct values and each row's code (each value is parsed once); an empty cell
    raises ``empty_message`` naming its line."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise GtfsError(name, empty_message, filename, _line(row), field)
    return codes, uniques


def parse_gtfs_times(series: pd.Series, name: str, filename: str, field: str) -> np.ndarray:
    """Parse a column of ``H:MM:SS`` GTFS times into int32 seconds; errors name the bad line."""
    codes, uniques = _distinct(
        series, name, filename, field, "empty time (times must be given for every stop)"
    )
    seconds = np.empty(len(uniques), dtype=np.int32)
    for i, text in enumerate(uniques):
        m = _TIME_RE.match(str(text))
        if m is None:
            row = int(np.flatnonzero(codes == i)[0])
            raise GtfsError(name, f"bad time {text!r} (expected HH:MM:SS)", filename, _line(row), field)
        seconds[i] = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3))
    return seconds[codes]


def _parse_dates(series: pd.Series, name: str, filename: str, field: str) -> np.ndarray:
    codes, uniques = _distinct(series, name, filename, field, "empty date")
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
    *,
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


Arrays = dict[str, np.ndarray]


def _float_column(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _text_column(df: pd.DataFrame, col: str) -> np.ndarray:
    return _strings(df[col]) if col in df.columns else np.full(len(df), "", dtype=object)


def _parse_stops(stops: pd.DataFrame, name: str) -> tuple[pd.Index, Arrays]:
    index = _unique_index(stops["stop_id"], name, "stops.txt", "stop_id")
    if "parent_station" in stops.columns:
        parent = _lookup(
            stops["parent_station"], index, name, "stops.txt", "parent_station", "stop",
            allow_empty=True, strict=False,
        )  # fmt: skip
    else:
        parent = np.full(len(stops), -1, dtype=np.int32)
    return index, {
        "stop_names": _text_column(stops, "stop_name"),
        "stop_lat": _float_column(stops, "stop_lat"),
        "stop_lon": _float_column(stops, "stop_lon"),
        "stop_location_type": _int_column(stops, "location_type", 0).astype(np.int8),
        "stop_parent": parent,
    }


def _parse_routes(routes: pd.DataFrame, name: str) -> tuple[pd.Index, Arrays]:
    index = _unique_index(routes["route_id"], name, "routes.txt", "route_id")
    return index, {
        "route_short_names": _text_column(routes, "route_short_name"),
        "route_long_names": _text_column(routes, "route_long_name"),
        "route_types": _int_column(routes, "route_type", 3).astype(np.int32),
    }


def _parse_calendars(
    cal: pd.DataFrame | None, cd: pd.DataFrame | None, trips: pd.DataFrame, name: str
) -> tuple[pd.Index, Arrays]:
    """calendar.txt and calendar_dates.txt; service ids are those of both files and of trips.txt."""
    values = [_strings(df["service_id"]) for df in (cal, cd, trips) if df is not None]
    index = pd.Index(pd.unique(np.concatenate(values)))
    out: Arrays = {
        "cal_service": np.zeros(0, dtype=np.int32),
        "cal_weekdays": np.zeros((0, 7), dtype=bool),
        "cal_start": np.zeros(0, dtype=np.int32),
        "cal_end": np.zeros(0, dtype=np.int32),
        "cd_service": np.zeros(0, dtype=np.int32),
        "cd_date": np.zeros(0, dtype=np.int32),
        "cd_exception": np.zeros(0, dtype=np.int8),
    }
    if cal is not None:
        weekdays = np.zeros((len(cal), 7), dtype=bool)
        for i, day in enumerate(WEEKDAYS):
            weekdays[:, i] = _int_column(cal, day, 0) == 1
        out["cal_service"] = index.get_indexer(_strings(cal["service_id"])).astype(np.int32)
        out["cal_weekdays"] = weekdays
        out["cal_start"] = _parse_dates(cal["start_date"], name, "calendar.txt", "start_date")
        out["cal_end"] = _parse_dates(cal["end_date"], name, "calendar.txt", "end_date")
    if cd is not None:
        exception = _int_column(cd, "exception_type", 0).astype(np.int8)
        bad = ~np.isin(exception, (1, 2))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise GtfsError(
                name, "exception_type must be 1 or 2", "calendar_dates.txt", _line(row), "exception_type"
            )
        out["cd_service"] = index.get_indexer(_strings(cd["service_id"])).astype(np.int32)
        out["cd_date"] = _parse_dates(cd["date"], name, "calendar_dates.txt", "date")
        out["cd_exception"] = exception
    return index, out


def _parse_trips(
    trips: pd.DataFrame, name: str, routes: pd.Index, services: pd.Index
) -> tuple[pd.Index, Arrays]:
    index = _unique_index(trips["trip_id"], name, "trips.txt", "trip_id")
    route = _lookup(
        trips["route_id"], routes, name, "trips.txt", "route_id", "route", allow_empty=True, strict=False
    )
    return index, {
        "trip_route": route,
        "trip_service": services.get_indexer(_strings(trips["service_id"])).astype(np.int32),
        "trip_headsigns": _text_column(trips, "trip_headsign"),
    }


def _parse_stop_times(st: pd.DataFrame, name: str, trips: pd.Index, stops: pd.Index) -> Arrays:
    """Stop times sorted by trip and stop_sequence; rows of trips that trips.txt lacks are ignored."""
    f = "stop_times.txt"
    st_trip = _lookup(st["trip_id"], trips, name, f, "trip_id", "trip", allow_empty=False, strict=False)
    st_stop = _lookup(st["stop_id"], stops, name, f, "stop_id", "stop", allow_empty=False)
    seq_na = st["stop_sequence"].isna().to_numpy()
    if seq_na.any():
        raise GtfsError(
            name, "empty stop_sequence", f, _line(int(np.flatnonzero(seq_na)[0])), "stop_sequence"
        )
    seq = st["stop_sequence"].to_numpy(dtype=np.int64)
    arr = parse_gtfs_times(st["arrival_time"], name, f, "arrival_time")
    dep = parse_gtfs_times(st["departure_time"], name, f, "departure_time")
    order = np.lexsort((seq, st_trip))
    order = order[st_trip[order] >= 0]
    trip_sorted = st_trip[order]
    same = (trip_sorted[1:] == trip_sorted[:-1]) & (seq[order][1:] == seq[order][:-1])
    if same.any():
        row = int(order[int(np.flatnonzero(same)[0]) + 1])
        raise GtfsError(name, "stop_sequence repeated within the trip", f, _line(row), "stop_sequence")
    st_off = np.zeros(len(trips) + 1, dtype=np.int64)
    np.cumsum(np.bincount(trip_sorted, minlength=len(trips)), out=st_off[1:])
    return {
        "st_off": st_off,
        "st_stop": st_stop[order],
        "st_arr_s": arr[order],
        "st_dep_s": dep[order],
        "st_pickup": (_int_column(st, "pickup_type", 0) != 1).astype(np.uint8)[order],
        "st_dropoff": (_int_column(st, "drop_off_type", 0) != 1).astype(np.uint8)[order],
    }


def _parse_frequencies(fr: pd.DataFrame | None, name: str, trips: pd.Index) -> Arrays:
    """frequencies.txt; rows of unknown trips are ignored."""
    if fr is None:
        empty = np.zeros(0, dtype=np.int32)
        return {"freq_trip": empty, "freq_start_s": empty, "freq_end_s": empty, "freq_headway_s": empty}
    f = "frequencies.txt"
    trip = _lookup(fr["trip_id"], trips, name, f, "trip_id", "trip", allow_empty=False, strict=False)
    start = parse_gtfs_times(fr["start_time"], name, f, "start_time")
    end = parse_gtfs_times(fr["end_time"], name, f, "end_time")
    headway = _int_column(fr, "headway_secs", 0).astype(np.int32)
    bad = headway <= 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise GtfsError(name, "headway_secs must be a positive number", f, _line(row), "headway_secs")
    known = trip >= 0
    return {
        "freq_trip": trip[known],
        "freq_start_s": start[known],
        "freq_end_s": end[known],
        "freq_headway_s": headway[known],
    }


def _parse_transfers(tr: pd.DataFrame | None, name: str, stops: pd.Index) -> Arrays:
    """transfers.txt rows between two known stops (trip-to-trip rules and unknown stops are ignored)."""
    if tr is None:
        empty = np.zeros(0, dtype=np.int32)
        return {
            "xfer_from": empty,
            "xfer_to": empty,
            "xfer_type": empty.astype(np.int8),
            "xfer_min_time_s": empty,
        }
    f = "transfers.txt"
    frm = _lookup(tr["from_stop_id"], stops, name, f, "from_stop_id", "stop", allow_empty=True, strict=False)
    to = _lookup(tr["to_stop_id"], stops, name, f, "to_stop_id", "stop", allow_empty=True, strict=False)
    known = (frm >= 0) & (to >= 0)
    return {
        "xfer_from": frm[known],
        "xfer_to": to[known],
        "xfer_type": _int_column(tr, "transfer_type", 0).astype(np.int8)[known],
        "xfer_min_time_s": _int_column(tr, "min_transfer_time", 0).astype(np.int32)[known],
    }


def _check_files(files: Mapping[str, bytes], name: str) -> None:
    for filename in REQUIRED_FILES:
        if not files.get(filename, b"").strip():
            raise GtfsError(name, "required file is missing or empty", filename)
    if not files.get("calendar.txt", b"").strip() and not files.get("calendar_dates.txt", b"").strip():
        raise GtfsError(name, "required file is missing: calendar.txt or calendar_dates.txt", "calendar.txt")


def _read_tables(files: Mapping[str, bytes], name: str) -> dict[str, pd.DataFrame | None]:
    tables = {t: read_table(files.get(f"{t}.txt", b""), t, name) for t in TABLES}
    for table in REQUIRED_FILES:
        if tables[table.removesuffix(".txt")] is None:
            raise GtfsError(name, "required file has no rows", table)
    for table, df in tables.items():
        if df is not None:
            _require_columns(name, table, df)
    return tables


def parse_feed(files: Mapping[str, bytes], name: str, namespace: str = "") -> GtfsFeed:
    """Check and convert a feed given as ``{"stops.txt": bytes, ...}`` (see :func:`load_feed`)."""
    _check_files(files, name)
    tables = _read_tables(files, name)
    agency, stops, routes, trips, stop_times = (
        t for t in (tables[k] for k in ("agency", "stops", "routes", "trips", "stop_times")) if t is not None
    )
    zones = agency["agency_timezone"].dropna()
    stop_index, stop_arrays = _parse_stops(stops, name)
    route_index, route_arrays = _parse_routes(routes, name)
    service_index, calendar_arrays = _parse_calendars(
        tables["calendar"], tables["calendar_dates"], trips, name
    )
    trip_index, trip_arrays = _parse_trips(trips, name, route_index, service_index)
    prefix = f"{namespace}:" if namespace else ""

    def ns(index: pd.Index) -> np.ndarray:
        values = index.to_numpy(dtype=object)
        return np.array([prefix + v for v in values], dtype=object) if prefix else values

    return GtfsFeed(
        name=name,
        namespace=namespace,
        timezone=str(zones.iloc[0]) if len(zones) else "",
        stop_ids=ns(stop_index),
        route_ids=ns(route_index),
        trip_ids=ns(trip_index),
        service_ids=ns(service_index),
        **stop_arrays,
        **route_arrays,
        **trip_arrays,
        **calendar_arrays,
        **_parse_stop_times(stop_times, name, trip_index, stop_index),
        **_parse_frequencies(tables["frequencies"], name, trip_index),
        **_parse_transfers(tables["transfers"], name, stop_index),
    )


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
    path = Path(path)
    return parse_feed(read_feed_files(path), path.name, namespace)
