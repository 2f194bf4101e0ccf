"""``GET /ready`` and ``GET /metrics``: readiness for load balancers, Prometheus metrics.

``/ready`` answers 503 (problem+json) until the graph folder loads and every configured feed (the
``[feeds.NAME]`` tables and feed lists, else the demo city's feeds when it is built) has had a good
state; then 200 with the feed list. Both are also served under ``/api/v1``.

``/metrics`` is the Prometheus text format 0.0.4, written here: requests by endpoint (the URL rule,
not the raw path), method and status; a latency histogram per endpoint; per feed its age, stale
flag and error counts. Counters live in the process: with several workers (gunicorn ``-w N``) each
keeps its own, and a scrape reaches one of them; label the scrape target by instance or run one
worker per port when exact totals matter. Feed figures come from the shared store and agree
between workers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, g, request
from flask_openapi3 import OpenAPI, Tag
from pydantic import BaseModel

from api.context import json_response, services
from api.errors import ApiProblem
from api.live import demo_feeds, feed_configs
from api.models import Responses, problems
from api.settings import Settings, SettingsError

ops_tag = Tag(name="operations", description="Readiness and metrics")
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
METRICS_RESPONSE: Responses = {
    200: {
        "description": "Prometheus text format 0.0.4",
        "content": {PROMETHEUS_TEXT: {"schema": {"type": "string"}}},
    }
}
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """Request counters and latency histograms of this process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = {}
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def observe(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        key = (endpoint, method, str(status))
        with self._lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            counts = self.buckets.setdefault(endpoint, [0] * len(BUCKETS_S))
            for i, bound in enumerate(BUCKETS_S):
                if seconds <= bound:
                    counts[i] += 1
            self.sums[endpoint] = self.sums.get(endpoint, 0.0) + seconds
            self.counts[endpoint] = self.counts.get(endpoint, 0) + 1

    def lines(self) -> Iterable[str]:
        """The request metrics in the text format."""
        with self._lock:
            requests = dict(self.requests)
            buckets = {k: list(v) for k, v in self.buckets.items()}
            sums, counts = dict(self.sums), dict(self.counts)
        yield "# HELP knoten_http_requests_total HTTP requests answered by this worker process."
        yield "# TYPE knoten_http_requests_total counter"
        for (endpoint, method, status), n in sorted(requests.items()):
            yield f"knoten_http_requests_total{_labels(endpoint=endpoint, method=method, status=status)} {n}"
        yield "# HELP knoten_http_request_duration_seconds Time to answer a request, by endpoint."
        yield "# TYPE knoten_http_request_duration_seconds histogram"
        for endpoint in sorted(buckets):
            for bound, n in zip(BUCKETS_S, buckets[endpoint], strict=True):
                labels = _labels(endpoint=endpoint, le=_number(bound))
                yield f"knoten_http_request_duration_seconds_bucket{labels} {n}"
            name, only = "knoten_http_request_duration_seconds", _labels(endpoint=endpoint)
            yield f"{name}_bucket{_labels(endpoint=endpoint, le='+Inf')} {counts[endpoint]}"
            yield f"{name}_sum{only} {_number(sums[endpoint])}"
            yield f"{name}_count{only} {counts[endpoint]}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def expected_feeds(settings: Settings) -> list[str]:
    """Names of the feeds this deployment polls: the configured ones, else the demo city's."""
    try:
        configured = [f.name for f in feed_configs(settings)]
    except SettingsError:
        configured = []
    if configured:
        return configured
    return [f.name for f in demo_feeds("http://127.0.0.1", settings.data_dir / "demo")]


class ReadyResponse(BaseModel):
    """Ready: the graph loads and every feed has data."""

    status: str
    graph: str
    feeds: list[dict[str, Any]]


def register(app: OpenAPI, settings: Settings) -> None:
    """Attach ``/ready``, ``/metrics`` and the request instrumentation to ``app``."""
    metrics = Metrics()
    app.extensions["knoten.metrics"] = metrics

    @app.before_request
    def _start_timer() -> None:
        g.knoten_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("knoten_started")
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
            method = request.method if request.method in HTTP_METHODS else "other"  # labels stay bounded
            metrics.observe(rule, method, response.status_code, time.perf_counter() - started)
        return response

    def ready() -> Response:
        """Readiness: 200 once the graph folder loads and every configured feed has data."""
        svc = services()
        problems: list[str] = []
        graph = ""
        try:
            graph = str(svc.graph().root)
        except ApiProblem as exc:
            problems.append(exc.detail)
        except Exception as exc:  # an unreadable graph folder makes the service unready, not broken
            problems.append(f"graph folder cannot be loaded: {exc}")
        statuses = {s.name: s for s in svc.live_state().feed_status()}
        feeds = []
        for name in expected_feeds(settings):
            status = statuses.get(name)
            if status is None or status.age_s is None:
                problems.append(f"feed {name} has no good state yet")
                feeds.append({"name": name, "age_s": None, "stale": True})
            else:
                feeds.append(status.to_json())
        if problems:
            raise ApiProblem(503, "Not ready", "; ".join(problems), feeds=feeds)
        return json_response({"status": "ready", "graph": graph, "feeds": feeds}, max_age_s=0)

    def metrics_text() -> Response:
        """Prometheus metrics of this worker process (text format 0.0.4)."""
        lines = list(metrics.lines())
        statuses = services().live_state().feed_status()
        families = (
            ("knoten_feed_age_seconds", "gauge", "Age of the feed's last good state.",
             lambda s: None if s.age_s is None else s.age_s),
            ("knoten_feed_stale", "gauge", "1 when the feed's data is stale or missing.",
             lambda s: 1.0 if s.stale else 0.0),
            ("knoten_feed_errors_total", "counter", "Failed updates of the feed.",
             lambda s: float(s.errors)),
            ("knoten_feed_consecutive_errors", "gauge", "Failed updates of the feed since its last good one.",
             lambda s: float(s.consecutive_errors)),
        )  # fmt: skip
        for name, kind, help_text, value in families:
            lines.append(f"# HELP {name} {help_text}")
            lines.append(f"# TYPE {name} {kind}")
            for s in statuses:
                v = value(s)
                if v is not None:
                    lines.append(f"{name}{_labels(feed=s.name, kind=s.kind)} {_number(v)}")
        body = "\n".join(lines) + "\n"
        return Response(
            body, mimetype=None, headers={"Content-Type": PROMETHEUS_TEXT, "Cache-Control": "no-store"}
        )

    app.get("/ready", tags=[ops_tag], responses={200: ReadyResponse, **problems(503)})(ready)
    app.get("/metrics", tags=[ops_tag], responses=METRICS_RESPONSE)(metrics_text)
    _alias(app, "/api/v1/ready", ready)
    _alias(app, "/api/v1/metrics", metrics_text)
    app.config["KNOTEN_CAPABILITIES"].append("operations")


def _alias(app: Flask, rule: str, view: Any) -> None:
    app.add_url_rule(rule, endpoint=f"alias{rule.replace('/', '_')}", view_func=view, methods=["GET"])
