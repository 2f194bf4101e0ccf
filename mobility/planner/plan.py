"""The intermodal planner: walk, transit, shared bikes and cars, own car with a free charger.

One query runs a walking search from the origin (access and the direct walk), one towards the
destination (egress), RAPTOR from every stop within the walking limit (each reached at the time its
walk takes) to every stop within the limit of the destination (each counting its egress walk),
and, when asked, rental and car searches on the bike and car graphs.  The answers are merged
into a Pareto set on arrival (departure for arrive-by), transfers and walking, plus the best
option of every extra mode asked for.

Realtime: given a :class:`~mobility.realtime.overlay.RealtimeOverlay` of the planner's timetable
(``plan(q, overlay=...)``, or the ``realtime`` callable the planner asks on every query), RAPTOR
runs on the overlay's transit arrays (patched times, cancelled trips removed, added trips in), and
every ride of a trip the feed speaks of carries its scheduled and estimated times and delay and
``realtime: true``.  Walking and rental legs are timed on the expected connection.  An overlay of
another timetable (another service day) is ignored.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from mobility.errors import NoRouteError
from mobility.footpaths import Footpaths
from mobility.journeys import Journey, Ride
from mobility.planner.availability import Availability
from mobility.planner.itinerary import Itinerary, Leg, LegTime, Place
from mobility.planner.query import PlanQuery
from mobility.planner.streets import LINK_MAX_M, Anchor, StreetSide, Tree, walk_seconds
from mobility.planner.transit import (
    StopAccess,
    StopLinks,
    direct_walk_m,
    link_stops,
    stop_access,
    stop_distances,
    street_footpaths,
)
from mobility.raptor import Router, TransitArrays
from mobility.realtime.overlay import RealtimeOverlay
from mobility.streets.graph import StreetNetwork, haversine_m
from mobility.timetable import Timetable

log = logging.getLogger(__name__)
#: access and egress limit of the extra search that looks for itineraries with less walking
LESS_WALK_M = 500.0

ROUTE_TYPE_MODES = {0: "TRAM", 1: "SUBWAY", 2: "RAIL", 3: "BUS", 4: "FERRY", 5: "CABLE_CAR", 6: "GONDOLA",
                    7: "FUNICULAR", 11: "TROLLEYBUS", 12: "MONORAIL"}  # fmt: skip
#: extended (Google) route types by hundreds
EXTENDED_MODES = {1: "RAIL", 2: "BUS", 4: "SUBWAY", 7: "BUS", 8: "TROLLEYBUS", 9: "TRAM", 10: "FERRY",
                  11: "FERRY", 12: "FERRY", 13: "GONDOLA", 14: "FUNICULAR"}  # fmt: skip


def route_mode(route_type: int) -> str:
    """The leg mode of a GTFS route type (basic or extended)."""
    if route_type in ROUTE_TYPE_MODES:
        return ROUTE_TYPE_MODES[route_type]
    return EXTENDED_MODES.get(route_type // 100, "BUS")


@dataclass
class Context:
    """Everything one query shares between its parts."""

    query: PlanQuery
    t_s: int  # query time in GTFS seconds of the planner's service day
    origin: Anchor
    destination: Anchor
    tree_o: Tree  # walk from the origin
    tree_d: Tree  # walk to the destination (reverse)
    from_place: Place
    to_place: Place
    trees: dict[tuple[str, int], Tree] = field(default_factory=dict)  # rides from pickups, per query
    overlay: RealtimeOverlay | None = None  # realtime view of the timetable this query routes on


class Planner:
    """Door-to-door planner over one street network, one service day's timetable and availability."""

    def __init__(
        self,
        streets: StreetNetwork | StreetSide,
        tt: Timetable | None = None,
        availability: Availability | None = None,
        *,
        gtfs_transfers: bool = True,
        transit: TransitArrays | None = None,
        timezone: str = "Europe/Berlin",
        route_styles: dict[str, dict[str, str | None]] | None = None,
        realtime: Callable[[], RealtimeOverlay | None] | None = None,
    ) -> None:
        """``realtime``: asked on every query without an explicit overlay for the current one
        (e.g. ``LiveState.overlay``)."""
        self.streets = streets if isinstance(streets, StreetSide) else StreetSide(streets)
        self.tt = tt
        self.availability = availability
        self.gtfs_transfers = gtfs_transfers
        self.transit = transit
        self.route_styles = route_styles or {}
        self.tz = ZoneInfo(tt.timezone if tt is not None and tt.timezone else timezone)
        self.links: StopLinks | None = link_stops(tt, self.streets) if tt is not None else None
        self._pairs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._routers: dict[tuple[float, float], Router] = {}
        self.realtime = realtime
        #: routers on the latest overlay seen (one overlay at a time: live state swaps it whole)
        self._rt_routers: tuple[RealtimeOverlay | None, dict[tuple[float, float], Router]] = (None, {})
        self._rt_bases: dict[int, tuple[Any, bool]] = {}  # id(overlay base) -> (base, usable here)
        #: stops near each sharing station: (lat, lon, max_m, speed) -> (stops, walk seconds)
        self.station_stops: dict[tuple[float, float, float, float], tuple[np.ndarray, np.ndarray]] = {}
        self.stop_parking: Any = None  # rental.StopParking, built on first use
        #: rental start candidates of the last sharing snapshot seen, linked to the graphs, per mode
        self.sharing_cache: tuple[Any, dict[str, Any]] = (None, {})

    # -- set-up ------------------------------------------------------------------------------

    @property
    def transit_arrays(self) -> TransitArrays:
        """The planned transit arrays the planner routes on without realtime."""
        assert self.tt is not None
        return self.transit if self.transit is not None else self.tt.transit

    def day_start(self, date: dt.date) -> dt.datetime:
        """Noon minus 12 h of ``date`` in the feed's time zone (GTFS time zero)."""
        noon = dt.datetime.combine(date, dt.time(12), tzinfo=self.tz)
        return noon - dt.timedelta(hours=12)

    @property
    def service_date(self) -> dt.date | None:
        """The timetable's service date (None without a timetable)."""
        return self.tt.date if self.tt is not None else None

    def at(self, seconds: float) -> dt.datetime:
        """Aware datetime of GTFS ``seconds`` on the planner's service day."""
        date = self.service_date or dt.date(2000, 1, 1)
        return (self.day_start(date) + dt.timedelta(seconds=float(seconds))).astimezone(self.tz)

    def gtfs_seconds(self, when: dt.datetime) -> int:
        """GTFS seconds of ``when`` on the planner's service day."""
        date = self.service_date or when.astimezone(self.tz).date()
        return int((when - self.day_start(date)).total_seconds())

    def footpaths(self, walk_speed_mps: float, max_transfer_m: float) -> Footpaths:
        """Street footpaths (plus transfers.txt) for a walk speed and transfer limit."""
        assert self.tt is not None and self.links is not None
        if self._pairs is None:
            self._pairs = stop_distances(self.links, self.streets, max(1000.0, max_transfer_m))
        return street_footpaths(
            self.tt, self._pairs, max_transfer_m=max_transfer_m, walk_speed_mps=walk_speed_mps,
            gtfs_transfers=self.gtfs_transfers,
        )  # fmt: skip

    def router(
        self, walk_speed_mps: float, max_transfer_m: float, overlay: RealtimeOverlay | None = None
    ) -> Router:
        """The RAPTOR router for a walk speed and transfer limit (built once per pair), on the
        overlay's transit arrays when one is given."""
        assert self.tt is not None
        key = (round(walk_speed_mps, 3), round(max_transfer_m, 1))
        if overlay is not None:
            held, routers = self._rt_routers
            if held is not overlay:
                routers = {}
                self._rt_routers = (overlay, routers)
            if key not in routers:
                routers[key] = Router(self.tt, self.footpaths(walk_speed_mps, max_transfer_m),
                                      transit=overlay.transit)  # fmt: skip
            return routers[key]
        if key not in self._routers:
            fp = self.footpaths(walk_speed_mps, max_transfer_m)
            self._routers[key] = Router(self.tt, fp, transit=self.transit)
        return self._routers[key]

    def usable_overlay(self, overlay: RealtimeOverlay | None) -> RealtimeOverlay | None:
        """``overlay`` when it was built on this planner's timetable (or an identical one of the
        same service day), else None (realtime of another day does not apply)."""
        if overlay is None or self.tt is None:
            return None
        base_tt = overlay.base.tt
        if base_tt is self.tt:
            return overlay
        known = self._rt_bases.get(id(overlay.base))
        if known is None or known[0] is not overlay.base:
            tt = self.tt
            same = (
                base_tt.date == tt.date
                and base_tt.n_stops == tt.n_stops
                and len(base_tt.trip_ids) == len(tt.trip_ids)
                and overlay.base.n_inst == int(tt.pat_trip_off[-1])
                and bool(np.array_equal(base_tt.stop_ids, tt.stop_ids))
                and bool(np.array_equal(base_tt.trip_ids, tt.trip_ids))
            )
            if not same:
                log.info("realtime overlay of %s does not apply to the timetable of %s",
                         base_tt.date, tt.date)  # fmt: skip
            known = (overlay.base, same)
            self._rt_bases = {id(overlay.base): known}
        return overlay if known[1] else None

    def current_overlay(self, overlay: RealtimeOverlay | None = None) -> RealtimeOverlay | None:
        """The overlay a query routes on: the given one, else the ``realtime`` source's (if usable)."""
        if overlay is None and self.realtime is not None:
            overlay = self.realtime()
        return self.usable_overlay(overlay)

    # -- queries -----------------------------------------------------------------------------

    def context(self, q: PlanQuery, overlay: RealtimeOverlay | None = None) -> Context:
        """Link both places and run the two walking searches (``overlay``: already checked)."""
        # a place may lie off the mapped streets as far as one may walk (the straight line counts)
        link_m = max(LINK_MAX_M["walk"], q.max_walk_m)
        origin = self.streets.anchor(q.from_lat, q.from_lon, "walk", "origin", link_m)
        destination = self.streets.anchor(q.to_lat, q.to_lon, "walk", "destination", link_m)
        direct_m = q.max_direct_walk_s * q.walk_speed_mps if "walk" in q.modes else 0
        tree_o = self.streets.tree(origin, "walk", max(q.max_walk_m, direct_m))
        tree_d = self.streets.tree(destination, "walk", q.max_walk_m, reverse=True)
        return Context(
            q, self.gtfs_seconds(q.when), origin, destination, tree_o, tree_d,
            Place("Origin", q.from_lat, q.from_lon), Place("Destination", q.to_lat, q.to_lon),
            overlay=overlay,
        )  # fmt: skip

    def plan(self, q: PlanQuery, *, overlay: RealtimeOverlay | None = None) -> list[Itinerary]:
        """Good door-to-door itineraries for ``q`` (raises NoRouteError with the reason when none).

        ``overlay``: the realtime view to route on (default: the ``realtime`` source's, if any).
        """
        ctx = self.context(q, self.current_overlay(overlay))
        found: list[Itinerary] = []
        reasons: list[str] = []
        best_of: dict[str, Itinerary] = {}
        if "walk" in q.modes:
            walk = self.direct_walk(ctx)
            if walk is not None:
                found.append(walk)
        if "transit" in q.modes:
            found.extend(self.transit_itineraries(ctx, reasons))
        extra = self._extra_modes(ctx, reasons)
        for mode, its in extra.items():
            if its:
                found.extend(its)
                best_of[mode] = min(its, key=lambda it: self._goal(q, it))
        if not found:
            raise NoRouteError("; ".join(dict.fromkeys(reasons)) or "no connection within the limits")
        return self.select(q, found, list(best_of.values()))

    def _extra_modes(self, ctx: Context, reasons: list[str]) -> dict[str, list[Itinerary]]:
        from mobility.planner.rental import car_itineraries, rental_itineraries

        out: dict[str, list[Itinerary]] = {}
        q = ctx.query
        if "bike_share" in q.modes or "car_share" in q.modes:
            snapshot = self.availability.sharing(q.when) if self.availability is not None else None
            for mode in ("bike_share", "car_share"):
                if mode in q.modes:
                    out[mode] = rental_itineraries(self, ctx, snapshot, mode, reasons)
        if "car" in q.modes:
            chargers = self.availability.chargers(q.when) if self.availability is not None else []
            out["car"] = car_itineraries(self, ctx, chargers, reasons)
        return out

    @staticmethod
    def _goal(q: PlanQuery, it: Itinerary) -> float:
        if q.arrive_by:
            return -it.start.timestamp()
        return it.end.timestamp()

    def select(self, q: PlanQuery, found: list[Itinerary], keep: list[Itinerary]) -> list[Itinerary]:
        """Pareto set on (later start, earlier end, fewer transfers, less walking) plus the ``keep``
        ones, best goal (arrival, or departure for arrive-by) first."""

        def crit(it: Itinerary) -> tuple[float, float, int, float]:
            return (-it.start.timestamp(), it.end.timestamp(), it.transfers, round(it.walk_m, 1))

        scored = [(crit(it), it) for it in found]
        chosen: list[Itinerary] = []
        seen: set[tuple[tuple[float, float, int, float], tuple[str, ...]]] = set()
        for c, it in scored:
            dominated = any(all(x <= y for x, y in zip(c2, c, strict=True)) and c2 != c for c2, _ in scored)
            key = (c, tuple(it.modes))
            if (not dominated or any(it is k for k in keep)) and key not in seen:
                seen.add(key)
                chosen.append(it)
        chosen.sort(key=lambda it: (self._goal(q, it), it.transfers, it.walk_m))
        head = chosen[: q.max_itineraries]
        head += [it for it in chosen[q.max_itineraries :] if any(it is k for k in keep)]
        return head

    # -- walking -----------------------------------------------------------------------------

    def walk_leg(
        self, tree: Tree, node: int, place: Place, start_s: float, speed_mps: float, offset_m: float
    ) -> Leg:
        """A walking leg between the tree's anchor place and ``place`` (linked at ``node``).

        For a forward tree the leg goes from the anchor to ``place``; for a reverse tree from
        ``place`` to the anchor.  ``start_s`` is in GTFS seconds.
        """
        distance = tree.length_m(node) + tree.anchor.offset_m + offset_m
        duration = walk_seconds(distance, speed_mps)
        anchor_place = Place(
            "Origin" if not tree.reverse else "Destination", tree.anchor.lat, tree.anchor.lon
        )
        a, b = (place, anchor_place) if tree.reverse else (anchor_place, place)
        return Leg(
            "WALK", a, b, LegTime(self.at(start_s)), LegTime(self.at(start_s + duration)), distance,
            tree.points(node, place.lat, place.lon),
        )  # fmt: skip

    def direct_walk(self, ctx: Context) -> Itinerary | None:
        """Walking the whole way, when it takes at most the query's limit (4 h by default)."""
        q = ctx.query
        d = direct_walk_m(ctx.tree_o, ctx.destination.node, ctx.destination.offset_m)
        if not math.isfinite(d) or d / q.walk_speed_mps > q.max_direct_walk_s:
            return None
        duration = walk_seconds(d, q.walk_speed_mps)
        start = ctx.t_s - duration if q.arrive_by else ctx.t_s
        leg = self.walk_leg(ctx.tree_o, ctx.destination.node, ctx.to_place, start, q.walk_speed_mps,
                            ctx.destination.offset_m)  # fmt: skip
        leg.origin = ctx.from_place
        return Itinerary([leg])

    def stop_place(self, stop: int) -> Place:
        """A stop as a place."""
        assert self.tt is not None
        tt = self.tt
        return Place(str(tt.stop_names[stop]), float(tt.stop_lat[stop]), float(tt.stop_lon[stop]),
                     str(tt.stop_ids[stop]))  # fmt: skip

    # -- transit -----------------------------------------------------------------------------

    def access_egress(self, ctx: Context) -> tuple[StopAccess, StopAccess]:
        """Stops within the walking limit of the origin and of the destination."""
        assert self.links is not None
        q = ctx.query
        acc = stop_access(ctx.tree_o, self.links, q.max_walk_m, q.walk_speed_mps)
        egr = stop_access(ctx.tree_d, self.links, q.max_walk_m, q.walk_speed_mps)
        return acc, egr

    def journeys(self, ctx: Context, acc: StopAccess, egr: StopAccess) -> list[Journey]:
        """RAPTOR from the access stops to the egress stops (depart at, or arrive by), plus the next
        connection (leaving after the first one; for arrive-by, arriving before the best one)."""
        q = ctx.query
        router = self.router(q.walk_speed_mps, q.max_transfer_m, ctx.overlay)
        kw = {"origin_delay_s": acc.time_s, "target_egress_s": egr.time_s}
        if q.arrive_by:
            found = router.latest_departure(acc.stops, egr.stops, ctx.t_s, **kw)
            if found:
                found += router.latest_departure(
                    acc.stops, egr.stops, min(j.arrival_s for j in found) - 1, **kw
                )
            return found
        found = router.pareto(acc.stops, egr.stops, ctx.t_s, **kw)
        starts = [
            j.rides[0].board_s - int(acc.time_s[acc.stops == j.rides[0].board_stop][0])
            for j in found
            if j.rides
        ]
        if starts:
            found += router.pareto(acc.stops, egr.stops, min(starts) + 1, **kw)
        return found

    def transit_itineraries(self, ctx: Context, reasons: list[str]) -> list[Itinerary]:
        """Walk + transit itineraries (Pareto on arrival and rides)."""
        if self.tt is None or self.links is None:
            reasons.append("no timetable loaded")
            return []
        if self.tt.n_trips == 0:
            reasons.append(f"no transit service on {self.tt.date.isoformat()}")
            return []
        acc, egr = self.access_egress(ctx)
        q = ctx.query
        if len(acc.stops) == 0:
            reasons.append(f"no stop within {q.max_walk_m:.0f} m walk of the origin")
        if len(egr.stops) == 0:
            reasons.append(f"no stop within {q.max_walk_m:.0f} m walk of the destination")
        if len(acc.stops) == 0 or len(egr.stops) == 0:
            return []
        bike = None
        if "bike_share" in q.modes and self.availability is not None:
            from mobility.planner.rental import bike_access

            bike = bike_access(self, ctx, self.availability.sharing(q.when))
        origins = acc
        if bike is not None:  # each stop keeps its quicker way in: on foot or by docked bike
            t = {int(s): int(x) for s, x in zip(bike.stops, bike.time_s, strict=True)}
            for s, x in zip(acc.stops.tolist(), acc.time_s.tolist(), strict=True):
                t[s] = min(t.get(s, x), x)
            stops = np.asarray(sorted(t), dtype=np.int32)
            times = np.asarray([t[s] for s in stops.tolist()], np.int32)
            origins = StopAccess(stops, np.zeros(len(stops)), times, acc.tree)
        out = []
        journeys = self.journeys(ctx, origins, egr)
        short = LESS_WALK_M
        if q.max_walk_m > 2 * short:  # a second search with short walks offers less walking
            near_o = StopAccess(acc.stops[acc.distance_m <= short], acc.distance_m[acc.distance_m <= short],
                                acc.time_s[acc.distance_m <= short], acc.tree)  # fmt: skip
            near_e = StopAccess(egr.stops[egr.distance_m <= short], egr.distance_m[egr.distance_m <= short],
                                egr.time_s[egr.distance_m <= short], egr.tree)  # fmt: skip
            if len(near_o.stops) and len(near_e.stops):
                journeys += self.journeys(ctx, near_o, near_e)
        for j in journeys:
            if not j.rides:
                continue
            s0 = j.rides[0].board_stop
            walked = acc.time_s[acc.stops == s0]
            if (
                bike is not None
                and s0 in bike.how
                and (walked.size == 0 or int(walked[0]) > bike.time_s[bike.stops == s0][0])
            ):
                out.append(
                    self.transit_itinerary(ctx, j, acc, egr, bike.legs(self, ctx, s0, j.rides[0].board_s))
                )
            else:
                out.append(self.transit_itinerary(ctx, j, acc, egr))
        if not out:
            reasons.append("no transit connection at that time")
        return out

    def earliest(
        self, q: PlanQuery, *, overlay: RealtimeOverlay | None = None
    ) -> tuple[int | None, int | None]:
        """Earliest arrival (GTFS seconds) over walking and walk + transit, and its rides."""
        ctx = self.context(q, self.current_overlay(overlay))
        best: int | None = None
        rides: int | None = None
        d = direct_walk_m(ctx.tree_o, ctx.destination.node, ctx.destination.offset_m)
        if "walk" in q.modes and math.isfinite(d) and d / q.walk_speed_mps <= q.max_direct_walk_s:
            best, rides = ctx.t_s + walk_seconds(d, q.walk_speed_mps), 0
        if "transit" in q.modes and self.tt is not None and self.tt.n_trips:
            acc, egr = self.access_egress(ctx)
            if len(acc.stops) and len(egr.stops):
                router = self.router(q.walk_speed_mps, q.max_transfer_m, ctx.overlay)
                arrival, k = router.earliest_arrival(
                    acc.stops, egr.stops, ctx.t_s, origin_delay_s=acc.time_s, target_egress_s=egr.time_s
                )
                if arrival >= 0 and (best is None or arrival < best):
                    best, rides = arrival, k
        return best, rides

    def transit_itinerary(
        self, ctx: Context, j: Journey, acc: StopAccess, egr: StopAccess, access: list[Leg] | None = None
    ) -> Itinerary:
        """Legs of one journey: access walk (or the given access legs), rides with transfer walks
        between, egress walk."""
        assert self.links is not None
        q = ctx.query
        first, last = j.rides[0], j.rides[-1]
        ie = int(np.nonzero(egr.stops == last.alight_stop)[0][0])
        s0 = first.board_stop
        if access is not None:
            legs = access
        else:
            ia = int(np.nonzero(acc.stops == s0)[0][0])
            legs = [self.walk_leg(ctx.tree_o, int(self.links.node[s0]), self.stop_place(s0),
                                  first.board_s - int(acc.time_s[ia]), q.walk_speed_mps,
                                  float(self.links.offset_m[s0]))]  # fmt: skip
            legs[0].origin = ctx.from_place
        prev: Ride | None = None
        for ride in j.rides:
            if ride.walk_from >= 0 and prev is not None:
                legs.append(self.transfer_leg(ride.walk_from, ride.board_stop, prev.alight_s, ride.walk_s, q))
            legs.append(self.ride_leg(ride, ctx.overlay))
            prev = ride
        s1 = last.alight_stop
        egress = self.walk_leg(ctx.tree_d, int(self.links.node[s1]), self.stop_place(s1), last.alight_s,
                               q.walk_speed_mps, float(self.links.offset_m[s1]))  # fmt: skip
        egress.destination = ctx.to_place
        legs.append(egress)
        assert int(egr.time_s[ie]) >= 0
        return Itinerary(legs)

    def transfer_leg(self, a: int, b: int, start_s: int, walk_s: int, q: PlanQuery) -> Leg:
        """A walk between two stops: on the streets when linked, else a straight line."""
        assert self.links is not None
        pa, pb = self.stop_place(a), self.stop_place(b)
        na, nb = int(self.links.node[a]), int(self.links.node[b])
        points = [(pa.lat, pa.lon), (pb.lat, pb.lon)]
        distance = float(walk_s * q.walk_speed_mps)
        if na >= 0 and nb >= 0:
            anchor = Anchor(pa.lat, pa.lon, na, float(self.links.offset_m[a]))
            tree = self.streets.tree(anchor, "walk", max(q.max_transfer_m, 1000.0))
            if tree.reached(nb):
                points = tree.points(nb, pb.lat, pb.lon)
                distance = tree.length_m(nb) + anchor.offset_m + float(self.links.offset_m[b])
        return Leg("WALK", pa, pb, LegTime(self.at(start_s)), LegTime(self.at(start_s + walk_s)), distance,
                   points)  # fmt: skip

    def ride_leg(self, ride: Ride, overlay: RealtimeOverlay | None = None) -> Leg:
        """A transit leg with route, headsign, trip id and the stops passed.

        With an ``overlay`` (the one the ride was found on) a trip the feed updated or added gets
        ``realtime``, its scheduled and estimated times and the delay, at the leg's ends and at the
        stops passed (``scheduled_arrival``/``scheduled_departure``; ``skipped`` where it does not
        stop now).
        """
        assert self.tt is not None
        tt = self.tt
        tr = overlay.transit if overlay is not None else self.transit_arrays
        p = ride.pattern
        so = int(tr.pat_stop_off[p])
        n = int(tr.pat_stop_off[p + 1]) - so
        row = int(tr.pat_time_off[p]) + (ride.trip - int(tr.pat_trip_off[p])) * n
        stops = tr.pat_stops[so : so + n]
        i = next(k for k in range(n) if stops[k] == ride.board_stop and tr.dep_s[row + k] == ride.board_s)
        e = next(
            k for k in range(i + 1, n) if stops[k] == ride.alight_stop and tr.arr_s[row + k] == ride.alight_s
        )
        orig = int(overlay.inst_orig[ride.trip]) if overlay is not None else ride.trip
        trip_id, route, headsign = self._trip_names(orig, ride.trip, overlay)
        realtime = overlay is not None and (orig < 0 or orig in overlay.patched)
        # scheduled times of the trip's stops (None: an added trip has no schedule)
        sched_arr: np.ndarray | None = None
        sched_dep: np.ndarray | None = None
        skipped: np.ndarray | None = None
        if realtime and orig >= 0:
            assert overlay is not None
            _, start, _ = overlay.base.rows(orig)
            sched_arr = overlay.base.transit.arr_s[start : start + n]
            sched_dep = overlay.base.transit.dep_s[start : start + n]
            skipped = overlay.patched[orig][2]
        inter = []
        points = [(float(tt.stop_lat[s]), float(tt.stop_lon[s])) for s in stops[i : e + 1].tolist()]
        distance = 0.0
        for k in range(i + 1, e + 1):
            a, b = int(stops[k - 1]), int(stops[k])
            distance += float(haversine_m(tt.stop_lat[a], tt.stop_lon[a], tt.stop_lat[b], tt.stop_lon[b]))
            if k < e:
                place = self.stop_place(b).to_json()
                place["arrival"] = self.at(int(tr.arr_s[row + k])).isoformat(timespec="seconds")
                place["departure"] = self.at(int(tr.dep_s[row + k])).isoformat(timespec="seconds")
                if sched_arr is not None and sched_dep is not None and skipped is not None:
                    place["scheduled_arrival"] = self.at(int(sched_arr[k])).isoformat(timespec="seconds")
                    place["scheduled_departure"] = self.at(int(sched_dep[k])).isoformat(timespec="seconds")
                    if skipped[k]:
                        place["skipped"] = True
                inter.append(place)
        if route >= 0:
            style = self.route_styles.get(str(tt.route_ids[route]), {})
            route_json: dict[str, Any] = {
                "short_name": str(tt.route_short_names[route]) or None,
                "long_name": str(tt.route_long_names[route]) or None,
                "color": style.get("color"),
                "text_color": style.get("text_color"),
                "agency": style.get("agency"),
                "route_id": str(tt.route_ids[route]),
            }
            mode = route_mode(int(tt.route_types[route]))
        else:  # an added trip of a route the timetable does not know
            route_json = {"short_name": None, "long_name": None, "color": None, "text_color": None,
                          "agency": None, "route_id": None}  # fmt: skip
            mode = "BUS"
        transit = {
            "route": route_json,
            "headsign": headsign,
            "trip_id": trip_id,
            "intermediate_stops": inter,
        }
        return Leg(
            mode, self.stop_place(ride.board_stop), self.stop_place(ride.alight_stop),
            self._leg_time(ride.board_s, None if sched_dep is None else int(sched_dep[i]), realtime=realtime),
            self._leg_time(ride.alight_s, None if sched_arr is None else int(sched_arr[e]),
                           realtime=realtime),
            distance, points, realtime=realtime, transit=transit,
        )  # fmt: skip

    def _leg_time(self, when_s: int, scheduled_s: int | None, *, realtime: bool) -> LegTime:
        """The leg time of a ride end: as planned, or (realtime) scheduled, estimated and delay."""
        if not realtime:
            return LegTime(self.at(when_s))
        if scheduled_s is None:  # an added trip: only the expected time is known
            return LegTime(self.at(when_s), self.at(when_s), None)
        return LegTime(self.at(scheduled_s), self.at(when_s), int(when_s) - int(scheduled_s))

    def _trip_names(
        self, orig: int, inst: int, overlay: RealtimeOverlay | None
    ) -> tuple[str, int, str | None]:
        """Trip id, route index (-1: unknown) and headsign of a ride's trip instance."""
        assert self.tt is not None
        tt = self.tt
        if orig < 0:
            assert overlay is not None
            added = overlay.added[int(overlay.inst_added[inst])]
            route = -1
            if added.route_id is not None:
                hits = np.nonzero(tt.route_ids == added.route_id)[0]
                route = int(hits[0]) if len(hits) else -1
            return added.trip_id, route, None
        trip = int(tt.inst_trip[orig])
        return str(tt.trip_ids[trip]), int(tt.trip_route[trip]), str(tt.trip_headsigns[trip]) or None
