"""``GET /ready`` and ``GET /metrics``: unready without a graph folder or while a configured feed has
no data (a real poller against a real HTTP server on 127.0.0.1 makes it ready); Prometheus text
with request counts, latency histograms and per-feed age, staleness and errors."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import load_settings
from api.live import feed_configs, make_poller
from mobility.live.state import LiveState
from tests.api.live_api_helpers import FEEDS, Clock, DemoFeeds, client_on
from tests.live.live_helpers import FeedServer, Route, gbfs_system

SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? '
    r"(?P<value>[-+]?(?:[0-9.eE+-]+|Inf|NaN))$"
)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples of a Prometheus 0.0.4 text answer; fails on any line out of format or a sample
    whose family has no TYPE line before it."""
    assert text.endswith("\n")
    typed: dict[str, str] = {}
    samples = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped")
            typed[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name = match["name"]
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in typed else name
        assert family in typed, f"{name} has no TYPE"
        labels = frozenset(LABEL.findall(match["labels"] or ""))
        samples[(name, labels)] = float(match["value"])
    return samples


def _get(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture()
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.down()


# -- ready ----------------------------------------------------------------------------------------


def test_not_ready_without_a_graph_folder(tmp_path: Path) -> None:
    response = client_on(tmp_path, LiveState()).get("/ready")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "no graph folder" in response.get_json()["detail"]


def test_not_ready_until_every_demo_feed_has_data(api_data_dir: Path, demo_feeds: DemoFeeds) -> None:
    now = dt.datetime.now(dt.UTC)
    state = LiveState(clock=Clock(now))
    client = client_on(api_data_dir, state)
    demo_feeds.feed(state, now, skip=("demo-trip-updates",))
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.get_json()["detail"] == "feed demo-trip-updates has no good state yet"
    state.accept("demo-trip-updates", "gtfs-rt", demo_feeds.trip_updates(now))
    response = client.get("/api/v1/ready")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and sorted(f["name"] for f in body["feeds"]) == sorted(FEEDS)


def test_a_real_poller_makes_a_configured_feed_ready(
    api_data_dir: Path, feed_server: FeedServer, tmp_path: Path
) -> None:
    (tmp_path / "knoten.toml").write_text(
        f'[feeds.city-bikes]\nkind = "gbfs"\nurl = "{feed_server.url("/gbfs/gbfs.json")}"\nretries = 0\n'
    )
    settings = load_settings(tmp_path / "knoten.toml", environ={}, data_dir=api_data_dir)
    state = LiveState()
    poller = make_poller(state, feed_configs(settings))
    client = client_on(api_data_dir, state, config_file=tmp_path / "knoten.toml")

    feed_server.routes["/gbfs/gbfs.json"] = Route(b"{}", status=503)
    assert not poller.poll("city-bikes")
    response = client.get("/ready")
    assert response.status_code == 503 and "city-bikes" in response.get_json()["detail"]

    gbfs_system(feed_server, int(dt.datetime.now(dt.UTC).timestamp()))
    assert poller.poll("city-bikes")
    response = client.get("/ready")
    assert response.status_code == 200
    (feed,) = response.get_json()["feeds"]
    assert feed["name"] == "city-bikes" and feed["errors"] == 1 and feed["stale"] is False
    stations = client.get("/api/v1/sharing/stations").get_json()["stations"]
    assert {s["station_id"] for s in stations} == {"s1", "s2"}

    feed_server.routes["/gbfs/station_status.json"] = Route(b"not json")
    assert not poller.poll("city-bikes")
    assert client.get("/ready").status_code == 200  # the last good state still serves
    samples = parse_metrics(client.get("/metrics").get_data(as_text=True))
    assert _get(samples, "knoten_feed_errors_total", feed="city-bikes", kind="gbfs") == 2
    assert _get(samples, "knoten_feed_consecutive_errors", feed="city-bikes", kind="gbfs") == 1


# -- metrics --------------------------------------------------------------------------------------


def test_metrics_count_requests_by_endpoint_and_status(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    for _ in range(2):
        assert client.get("/api/v1/hubs/hbf").status_code == 200
    assert client.get("/api/v1/hubs/nowhere").status_code == 404
    assert client.get("/api/v1/stops/hbf/departures?limit=0").status_code == 422
    assert client.get("/api/v1/stops/hbf/departures?limit=ten").status_code == 400
    assert client.get("/no/such/path").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = parse_metrics(response.get_data(as_text=True))
    hub = "/api/v1/hubs/<hub_id>"
    assert _get(samples, "knoten_http_requests_total", endpoint=hub, method="GET", status="200") == 2
    assert _get(samples, "knoten_http_requests_total", endpoint=hub, method="GET", status="404") == 1
    deps = "/api/v1/stops/<stop_id>/departures"
    assert _get(samples, "knoten_http_requests_total", endpoint=deps, method="GET", status="422") == 1
    assert _get(samples, "knoten_http_requests_total", endpoint=deps, method="GET", status="400") == 1
    assert _get(samples, "knoten_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1
    buckets = sorted(
        (float(dict(labels)["le"]), v)
        for (name, labels), v in samples.items()
        if name == "knoten_http_request_duration_seconds_bucket" and dict(labels)["endpoint"] == hub
    )
    assert buckets[-1] == (float("inf"), 3.0)
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert _get(samples, "knoten_http_request_duration_seconds_count", endpoint=hub) == 3
    assert _get(samples, "knoten_http_request_duration_seconds_sum", endpoint=hub) > 0


def test_metrics_show_feed_age_and_staleness(api_data_dir: Path, demo_feeds: DemoFeeds) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock = Clock(now)
    state = LiveState(clock=clock)
    demo_feeds.feed(state, now)
    client = client_on(api_data_dir, state)
    clock.set(now + dt.timedelta(seconds=90))
    samples = parse_metrics(client.get("/metrics").get_data(as_text=True))
    assert _get(samples, "knoten_feed_age_seconds", feed="demo-chargers", kind="ocpi") == 90.0
    assert _get(samples, "knoten_feed_stale", feed="demo-chargers", kind="ocpi") == 0.0
    assert _get(samples, "knoten_feed_errors_total", feed="demo-chargers", kind="ocpi") == 0.0
    clock.set(now + dt.timedelta(hours=1))
    samples = parse_metrics(client.get("/metrics").get_data(as_text=True))
    assert sum(1 for name, _ in samples if name == "knoten_feed_stale") == len(FEEDS)
    assert all(v == 1.0 for (name, _), v in samples.items() if name == "knoten_feed_stale")


def test_a_label_with_quotes_is_escaped(api_data_dir: Path) -> None:
    state = LiveState()
    state.record_error('odd "feed"\\name', "gbfs", "down")
    samples = parse_metrics(client_on(api_data_dir, state).get("/metrics").get_data(as_text=True))
    assert _get(samples, "knoten_feed_errors_total", feed='odd \\"feed\\"\\\\name', kind="gbfs") == 1.0


def test_unknown_methods_share_one_label(api_data_dir: Path) -> None:
    client = client_on(api_data_dir, LiveState())
    for method in ("BREW", "WHEN", "GET"):
        client.open("/api/v1/hubs", method=method)
    samples = parse_metrics(client.get("/metrics").get_data(as_text=True))
    methods = {dict(labels)["method"] for name, labels in samples if name == "knoten_http_requests_total"}
    assert methods == {"GET", "other"}


def test_the_openapi_document_lists_the_live_routes_with_their_problems(api_data_dir: Path) -> None:
    spec = client_on(api_data_dir, LiveState()).get("/api/v1/openapi.json").get_json()
    expected = {
        "/api/v1/stops/{stop_id}/departures": {"200", "400", "404", "422", "503"},
        "/api/v1/hubs": {"200", "503"},
        "/api/v1/hubs/{hub_id}": {"200", "400", "404", "503"},
        "/api/v1/sharing/stations": {"200", "400", "422"},
        "/api/v1/sharing/vehicles": {"200", "400", "422"},
        "/api/v1/charging/locations": {"200", "400", "422"},
        "/ready": {"200", "503"},
        "/metrics": {"200"},
    }
    for path, statuses in expected.items():
        responses = spec["paths"][path]["get"]["responses"]
        assert statuses <= set(responses), path
        for status in statuses - {"200"}:
            assert "application/problem+json" in responses[status]["content"], (path, status)
    assert (
        "text/plain; version=0.0.4; charset=utf-8"
        in spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    )
    params = {p["name"]: p for p in spec["paths"]["/api/v1/sharing/stations"]["get"]["parameters"]}
    (pattern,) = [s["pattern"] for s in params["bbox"]["schema"]["anyOf"] if "pattern" in s]
    assert re.fullmatch(pattern, "7.8,51.6,7.9,51.7")
    assert not re.fullmatch(pattern, "7.8") and not re.fullmatch(pattern, "")
