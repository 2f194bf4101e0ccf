"""GTFS-Realtime parsing: the SEPTA sample, bad entities skipped and counted, undecodable bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.transit import gtfs_realtime_pb2 as pb

from mobility.errors import FeedError
from mobility.realtime.gtfs_rt import StopRelationship, TripRelationship, parse_feed


def _message() -> pb.FeedMessage:
    msg = pb.FeedMessage()
    msg.header.gtfs_realtime_version = "2.0"
    msg.header.timestamp = 1_700_000_000
    good = msg.entity.add(id="good")
    good.trip_update.trip.trip_id = "T1"
    stu = good.trip_update.stop_time_update.add(stop_sequence=2, stop_id="B")
    stu.arrival.delay = 120
    skip = good.trip_update.stop_time_update.add(stop_sequence=3)
    skip.schedule_relationship = pb.TripUpdate.StopTimeUpdate.SKIPPED
    cancelled = msg.entity.add(id="cancelled")
    cancelled.trip_update.trip.trip_id = "T2"
    cancelled.trip_update.trip.schedule_relationship = pb.TripDescriptor.CANCELED
    nowhere = msg.entity.add(id="nowhere")
    nowhere.trip_update.trip.trip_id = "T3"
    nowhere.trip_update.stop_time_update.add().arrival.delay = 60  # neither stop nor sequence
    backwards = msg.entity.add(id="backwards")
    backwards.trip_update.trip.trip_id = "T4"
    backwards.trip_update.stop_time_update.add(stop_sequence=5).arrival.delay = 0
    backwards.trip_update.stop_time_update.add(stop_sequence=4).arrival.delay = 0
    alert = msg.entity.add(id="alert")
    alert.alert.informed_entity.add(route_id="R1")
    alert.alert.effect = pb.Alert.DETOUR
    alert.alert.header_text.translation.add(text="Umleitung", language="de")
    return msg


def test_septa_trip_updates_parse(shared_data: Path) -> None:
    feed = parse_feed((shared_data / "gtfs-rt" / "septa-tripupdates.pb").read_bytes(), "septa")
    assert len(feed.trip_updates) == 35
    assert feed.skipped == 0
    assert feed.timestamp is not None and feed.timestamp.isoformat() == "2023-03-29T20:09:32+00:00"
    assert all(tu.trip_id for tu in feed.trip_updates)


def test_bad_entities_are_skipped_and_counted_the_rest_applies() -> None:
    feed = parse_feed(_message().SerializeToString(), "rt.pb")
    assert [tu.entity_id for tu in feed.trip_updates] == ["good", "cancelled"]
    assert feed.skipped == 2
    assert [p.path for p in feed.problems] == [
        "/entity/2/trip_update/stop_time_update/0 (id 'nowhere')",
        "/entity/3/trip_update/stop_time_update/1 (id 'backwards')",
    ]
    good, cancelled = feed.trip_updates
    assert good.stop_time_updates[0].arrival_delay_s == 120
    assert good.stop_time_updates[1].relationship == StopRelationship.SKIPPED
    assert cancelled.relationship == TripRelationship.CANCELED
    (alert,) = feed.alerts
    assert alert.effect == "DETOUR" and alert.header == {"de": "Umleitung"}
    assert alert.informed[0].route_id == "R1"


@pytest.mark.parametrize("cut", [1, 7, 100, -3])
def test_truncated_protobuf_is_rejected(shared_data: Path, cut: int) -> None:
    data = (shared_data / "gtfs-rt" / "septa-tripupdates.pb").read_bytes()
    with pytest.raises(FeedError, match="not a GTFS-Realtime FeedMessage"):
        parse_feed(data[:cut], "cut.pb")


def test_json_is_not_a_feed_message() -> None:
    with pytest.raises(FeedError):
        parse_feed(b'{"header": {}}', "x.pb")


def test_impossible_header_time_is_a_problem_not_a_crash() -> None:
    msg = _message()
    msg.header.timestamp = 2**63
    feed = parse_feed(msg.SerializeToString(), "rt.pb")
    assert feed.timestamp is None
    assert any(p.path == "/header/timestamp" for p in feed.problems)
