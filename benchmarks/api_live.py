"""Throughput and latency of the live read endpoints (departures, hubs, sharing, chargers) under
gunicorn with several worker processes, on the demo city.

    .venv/bin/python benchmarks/api_live.py [--workers 2] [--worker-class sync] [--clients 8] [--seconds 10]

Builds the demo city and its graph folder into a temporary data folder, stores the demo's moving
feeds (GBFS, OCPI, GTFS-Realtime TripUpdates, as polled now) in the SQLite store there, and starts
gunicorn (sync workers) on 127.0.0.1 with an app per worker (each opens the live state from the
store, as ``knoten serve`` workers would, and loads the graph folder on its first request). After a
warm-up, ``--clients`` threads (a new HTTP/1.1 connection per request, as sync workers close them)
fire requests for ``--seconds`` per endpoint, then for a mix of all; prints a Markdown table of
requests per second and latency percentiles. The load generator runs on the same machine and takes
part of its cores: the figures are lower bounds of what the server alone would do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mobility.live.state import LiveState, gbfs_payload  # noqa: E402
from mobility.planner.graphdir import build_graph_dir  # noqa: E402
from mobility.sharing.gbfs import read_source  # noqa: E402
from scenarios.demo import build_demo_city  # noqa: E402
from scenarios.demo.live import (  # noqa: E402
    DemoRealtime,
    moving_locations,
    moving_station_status,
    moving_vehicle_status,
)

ENDPOINTS = {
    "hub": "/api/v1/hubs/hbf",
    "departures": "/api/v1/stops/hbf/departures",
    "sharing stations": "/api/v1/sharing/stations",
    "sharing vehicles (bbox)": "/api/v1/sharing/vehicles?bbox=7.80,51.67,7.82,51.68",
    "charging locations": "/api/v1/charging/locations?status=AVAILABLE",
}


def prepare(data: Path, seed: int) -> None:
    """Demo city, graph folder and the live store as polled now."""
    city = build_demo_city(data / "demo", seed=seed)
    build_graph_dir([city.gtfs], city.osm, data / "demo" / "graph",
                    gbfs_dirs=sorted(p for p in city.gbfs_dir.iterdir() if p.is_dir()),
                    ocpi_files=[city.ocpi_locations])  # fmt: skip
    state = LiveState.open(f"sqlite:///{data / 'knoten.sqlite'}")
    now = dt.datetime.now(dt.UTC)
    moving = {"station_status": moving_station_status, "vehicle_status": moving_vehicle_status}
    for folder in sorted(p for p in city.gbfs_dir.iterdir() if p.is_dir()):
        files: dict[str, bytes] = {}

        def fetch(url: str, folder: Path = folder, files: dict[str, bytes] = files) -> bytes:
            name = url.rsplit("/", 1)[-1]
            raw = (folder / name).read_bytes()
            move = moving.get(name.removesuffix(".json"))
            if move is not None:
                raw = json.dumps(move(json.loads(raw), seed, now)).encode()
            files[url] = raw
            return raw

        url = json.loads((folder / "gbfs.json").read_text())["data"]["feeds"][0]["url"]
        read_source(url, fetch)
        state.accept(f"demo-{folder.name}", "gbfs", gbfs_payload(url, files))
    locations = json.loads(city.ocpi_locations.read_text())
    state.accept("demo-chargers", "ocpi", json.dumps(moving_locations(locations, seed, now)).encode())
    state.accept("demo-trip-updates", "gtfs-rt", DemoRealtime(city.gtfs, seed).trip_updates(now))


#: the k-th of many distinct queries per endpoint (every one misses the per-second answer cache)
VARIANTS = {
    "hub": lambda k: f"/api/v1/hubs/hbf?window_s={3600 + k}",
    "departures": lambda k: f"/api/v1/stops/hbf/departures?window_s={3600 + k}",
    "sharing stations": lambda k: f"/api/v1/sharing/stations?bbox=-180,-90,180,{80 + k / 1e5:.5f}",
    "sharing vehicles (bbox)": lambda k: (
        f"/api/v1/sharing/vehicles?bbox=7.80,51.67,{7.82 + k / 1e7:.7f},51.68"
    ),
    "charging locations": lambda k: f"/api/v1/charging/locations?status=AVAILABLE&min_power_kw={k / 1e6:.6f}",
}


def service_times(data: Path, n: int = 300) -> None:
    """Per-request time inside one process (Flask test client, no network): the same query again
    (answered from the per-second cache) and a different one every time (computed); median of 3."""
    from api import create_app, load_settings

    client = create_app(load_settings(environ={}, data_dir=data)).test_client()
    for path in ENDPOINTS.values():
        client.get(path)
    print("| endpoint (one process) | same query, ms | a new query each time, ms |")
    print("|---|---|---|")
    for name, path in ENDPOINTS.items():
        figures = []
        for urls in ([path] * (3 * n), [VARIANTS[name](k) for k in range(3 * n)]):
            rounds = []
            for r in range(3):
                t = time.perf_counter()
                for url in urls[r * n : (r + 1) * n]:
                    assert client.get(url).status_code == 200, url
                rounds.append((time.perf_counter() - t) / n * 1000)
            figures.append(statistics.median(rounds))
        print(f"| {name} | {figures[0]:.2f} | {figures[1]:.2f} |")
    print()


def stop_ids(data: Path) -> list[str]:
    """Every stop id of the demo city's GTFS feed."""
    import csv
    import io
    import zipfile

    with zipfile.ZipFile(data / "demo" / "gtfs" / "demo-city.gtfs.zip") as zf:
        rows = csv.DictReader(io.StringIO(zf.read("stops.txt").decode("utf-8-sig")))
        return [r["stop_id"] for r in rows]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> int:
    """GET ``path`` on a new connection; the status code."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def load(port: int, paths: list[str], clients: int, seconds: float) -> tuple[int, float, list[float], int]:
    """Requests done, wall time, latencies (s) and non-200 answers of ``clients`` threads."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def run(k: int) -> None:
        mine: list[float] = []
        bad = 0
        i = k
        while time.perf_counter() < stop_at:
            t = time.perf_counter()
            status = get(port, paths[i % len(paths)])
            mine.append(time.perf_counter() - t)
            bad += status != 200
            i += 1
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return len(latencies), time.perf_counter() - started, latencies, errors[0]


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values``."""
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    """Run the measurements and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        prepare(data, args.seed)
        os.environ.pop("KNOTEN_CONFIG", None)
        service_times(data)
        port = free_port()
        env = {**os.environ, "KNOTEN_DATA_DIR": str(data), "KNOTEN_CONFIG": ""}
        (data / "bench_wsgi.py").write_text(
            "from api import create_app, load_settings\n\napp = create_app(load_settings())\n"
        )
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        server = subprocess.Popen(
            [gunicorn, "-w", str(args.workers), "-k", args.worker_class, "-b", f"127.0.0.1:{port}",
             "--pythonpath", str(data), "--log-level", "warning", "bench_wsgi:app"],
            cwd=REPO, env=env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if get(port, "/ready") == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not get ready within 60 s")
                time.sleep(0.2)
            load(port, list(ENDPOINTS.values()), args.clients, 3.0)  # warm-up: every worker loads the graph
            cores = os.cpu_count()
            print(f"gunicorn: {args.workers} {args.worker_class} workers; {args.clients} client threads, "
                  f"{args.seconds:.0f} s per row; {cores} cores shared by server and load\n")  # fmt: skip
            print("| endpoint | requests/s | p50 ms | p95 ms | p99 ms | non-200 |")
            print("|---|---|---|---|---|---|")
            stops = stop_ids(data)
            varied = {  # distinct queries: (almost) every request misses the per-second answer cache
                "hub, limit 1..100 (cache misses)": [f"/api/v1/hubs/hbf?limit={k}" for k in range(1, 101)],
                "departures, every stop and limit (cache misses)": [
                    f"/api/v1/stops/{sid}/departures?limit={k}" for k in range(1, 21) for sid in stops
                ],
            }
            rows: list[tuple[str, list[str]]] = [(name, [path]) for name, path in ENDPOINTS.items()]
            rows += [("mix of all", list(ENDPOINTS.values())), *varied.items()]
            for name, paths in rows:
                n, wall, lat, bad = load(port, paths, args.clients, args.seconds)
                ms = [x * 1000 for x in lat]
                p50, p95, p99 = pct(ms, 50), pct(ms, 95), pct(ms, 99)
                print(f"| {name} | {n / wall:.0f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {bad} |")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
