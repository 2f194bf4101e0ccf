"""The demo city's moving live data: sharing, chargers and buses change with the clock.

Everything is a pure function of the built (static) feeds, the seed and the time, so two servers
with the same build agree and a test can ask for any moment:

* GBFS ``station_status``: bikes are taken and returned (each station swings between empty and
  full on its own cycle), docks follow; ``vehicle_status``: free-floating vehicles move a little
  every minute and are now and then reserved; station-based cars stay at their station.
* OCPI Locations: EVSEs are occupied and freed (new state every five minutes), out-of-order ones
  stay out of order.
* GTFS-Realtime TripUpdates: a quarter of the trips around now run late (1-7 min from one stop
  on, new draw every hour), and one trip each hour is cancelled.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from google.transit import gtfs_realtime_pb2 as pb

STEP_S = 60
EVSE_STEP_S = 300
DELAY_STEP_S = 3600


def unit(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) for the seed and the parts."""
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _stamp(now: dt.datetime, step_s: int) -> dt.datetime:
    epoch = int(now.timestamp()) // step_s * step_s
    return dt.datetime.fromtimestamp(epoch, tz=now.tzinfo or dt.UTC)


def _rfc3339(t: dt.datetime) -> str:
    return t.replace(microsecond=0).isoformat()


def _gbfs_at(doc: dict[str, Any], now: dt.datetime) -> tuple[dict[str, Any], dt.datetime, int]:
    """A copy of the GBFS document ``doc`` updated at the step of ``now``, that step's time and number."""
    t = _stamp(now, STEP_S)
    out = copy.deepcopy(doc)
    out["last_updated"] = _rfc3339(t)
    return out, t, int(t.timestamp()) // STEP_S


def moving_station_status(doc: dict[str, Any], seed: int, now: dt.datetime) -> dict[str, Any]:
    """``station_status`` at ``now``: vehicles taken and returned, docks following."""
    out, t, minute = _gbfs_at(doc, now)
    for st in out["data"]["stations"]:
        sid = st["station_id"]
        types = st.get("vehicle_types_available") or []
        total = int(st.get("num_vehicles_available", 0))
        docks = st.get("num_docks_available")
        capacity = total + int(docks or 0) if docks is not None else max(total, 1) * 2
        period = 20 + int(unit(seed, sid, "period") * 40)  # minutes
        phase = unit(seed, sid, "phase")
        fill = 0.5 + 0.5 * math.sin(2 * math.pi * (minute / period + phase))
        n = max(0, min(capacity, round(capacity * fill)))
        st["num_vehicles_available"] = n
        if docks is not None:
            st["num_docks_available"] = capacity - n
        if types:
            weights = [max(int(x.get("count", 0)), 0) + 1 for x in types]
            left = n
            for i, x in enumerate(types):
                share = left if i == len(types) - 1 else min(left, round(n * weights[i] / sum(weights)))
                x["count"] = share
                left -= share
        st["last_reported"] = _rfc3339(t)
    return out


def moving_vehicle_status(doc: dict[str, Any], seed: int, now: dt.datetime) -> dict[str, Any]:
    """``vehicle_status`` at ``now``: free-floating vehicles move, some are reserved a while."""
    out, t, minute = _gbfs_at(doc, now)
    for v in out["data"]["vehicles"]:
        vid = v["vehicle_id"]
        v["is_reserved"] = unit(seed, vid, minute // 5, "reserved") < 0.1
        if "lat" in v and "lon" in v and v.get("station_id") is None:
            # a slow random walk: at most ~150 m from where the build put it
            angle = 2 * math.pi * unit(seed, vid, minute // 3, "angle")
            dist_m = 150 * unit(seed, vid, minute // 3, "dist")
            v["lat"] = round(v["lat"] + dist_m * math.cos(angle) / 111_320, 7)
            v["lon"] = round(
                v["lon"] + dist_m * math.sin(angle) / (111_320 * math.cos(math.radians(v["lat"]))), 7
            )
        v["last_reported"] = _rfc3339(t)
    return out


def moving_locations(locations: list[dict[str, Any]], seed: int, now: dt.datetime) -> list[dict[str, Any]]:
    """OCPI Locations at ``now``: EVSEs occupied and freed every five minutes."""
    t = _stamp(now, EVSE_STEP_S)
    step = int(t.timestamp()) // EVSE_STEP_S
    out = copy.deepcopy(locations)
    stamp = t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for loc in out:
        for evse in loc.get("evses", []):
            if evse.get("status") in ("OUTOFORDER", "INOPERATIVE", "REMOVED", "PLANNED"):
                continue
            busy = unit(seed, evse.get("uid"), step, "busy") < 0.45
            evse["status"] = "CHARGING" if busy else "AVAILABLE"
            evse["last_updated"] = stamp
        loc["last_updated"] = stamp
    return out


class DemoRealtime:
    """TripUpdates of the demo city's buses and trains, from its GTFS feed."""

    def __init__(self, gtfs_zip: Path, seed: int, timezone: str = "Europe/Berlin") -> None:
        from mobility.gtfs import load_feed

        self.feed = load_feed(gtfs_zip, "")
        self.seed = seed
        self.tz = ZoneInfo(timezone)

    def _epoch(self, day: dt.date) -> int:
        noon = dt.datetime.combine(day, dt.time(12), tzinfo=self.tz)
        return int(noon.timestamp()) - 12 * 3600

    def trip_updates(self, now: dt.datetime, *, window_s: int = 2 * 3600) -> bytes:
        """A TripUpdates FeedMessage for the trips running within ``window_s`` of ``now``."""
        f = self.feed
        local = now.astimezone(self.tz)
        day = local.date()
        epoch = self._epoch(day)
        now_s = int(now.timestamp()) - epoch
        hour = int(now.timestamp()) // DELAY_STEP_S
        active = f.service_active(day)
        msg = pb.FeedMessage()
        msg.header.gtfs_realtime_version = "2.0"
        msg.header.incrementality = pb.FeedHeader.FULL_DATASET
        msg.header.timestamp = int(now.timestamp()) // STEP_S * STEP_S
        running: list[tuple[int, int, int]] = []
        for trip in range(len(f.trip_ids)):
            svc = int(f.trip_service[trip])
            a, b = int(f.st_off[trip]), int(f.st_off[trip + 1])
            if svc < 0 or not active[svc] or b - a < 2:
                continue
            first, last = int(f.st_dep_s[a]), int(f.st_arr_s[b - 1])
            if last >= now_s - 1800 and first <= now_s + window_s:
                running.append((first, trip, a))
        running.sort()
        cancelled = -1
        if running:
            cands = [r for r in running if r[0] > now_s + 600] or running
            cancelled = cands[int(unit(self.seed, hour, "cancel") * len(cands))][1]
        for _, trip, a in running:
            tid = str(f.trip_ids[trip])
            entity = msg.entity.add(id=f"tu-{tid}")
            tu = entity.trip_update
            tu.trip.trip_id = tid
            tu.trip.start_date = day.strftime("%Y%m%d")
            if trip == cancelled:
                tu.trip.schedule_relationship = pb.TripDescriptor.CANCELED
                continue
            n = int(f.st_off[trip + 1]) - a
            late = unit(self.seed, tid, hour, "late") < 0.25
            delay = 60 * (1 + int(unit(self.seed, tid, hour, "minutes") * 7)) if late else 0
            at = int(unit(self.seed, tid, hour, "from") * (n - 1)) if late else 0
            stu = tu.stop_time_update.add(stop_id=str(f.stop_ids[f.st_stop[a + at]]))
            stu.arrival.delay = delay
            stu.departure.delay = delay
            tu.timestamp = msg.header.timestamp
        return msg.SerializeToString()


def load_json(path: Path) -> Any:
    """A JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))
