"""HTTP API benchmark: requests/s and p50/p95 latency of the hub, departures and plan endpoints.

    .venv/bin/python benchmarks/api.py [--workers 2] [--concurrency 8] [--duration-s 10]
        [--max-requests 20000] [--queries 200] [--seed 7] [--data-dir DIR] [--json]

Builds the demo city (with its planner graph) into a temporary data folder (or uses
``--data-dir``), starts ``knoten serve --workers N`` on a free loopback port as a subprocess
(falling back to one process when this ``knoten serve`` has no ``--workers`` option; the table
says which ran), waits for ``/health`` and then, endpoint by endpoint, runs a bounded closed-loop
load: ``--concurrency`` threads, each with its own keep-alive ``http.client`` connection, for
``--duration-s`` seconds or ``--max-requests`` requests, whichever comes first.

Endpoints: ``/api/v1/hubs/hbf``, ``/api/v1/stops/<hub stop>/departures`` and ``/api/v1/plan``
(``--queries`` seeded random walk+transit queries between points in the box of the demo's
streets, departures 06:00-21:00 on the build date, cycled). An endpoint answering 404 to its
first request is reported as missing. Latency is measured by the client (request sent to body
read), so it includes the client's own share of the two shared cores.

Targets (2 workers): hubs and departures >= 300 req/s with p95 <= 50 ms; plan >= 20 req/s with
p95 <= 250 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
KNOTEN = Path(sys.executable).with_name("knoten")
TARGETS = {"hubs": (300.0, 50.0), "departures": (300.0, 50.0), "plan": (20.0, 250.0)}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int, path: str, timeout_s: float = 30.0) -> tuple[int, bytes]:
    """One GET on a fresh connection: status and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass
class Server:
    """A running ``knoten serve`` subprocess."""

    proc: subprocess.Popen[bytes]
    port: int
    workers: int
    log: Path

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_server(data_dir: Path, workers: int, log_dir: Path) -> Server:
    """Start ``knoten serve --workers N``; without that option (older ``knoten``) one process."""
    for option, n in ((["--workers", str(workers)], workers), ([], 1)):
        port = free_port()
        cmd = [str(KNOTEN), "--data-dir", str(data_dir), "serve", "--port", str(port), *option]
        log = log_dir / f"serve-{port}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if fetch(port, "/health", 2.0)[0] == 200:
                    return Server(proc, port, n, log)
            except OSError:
                time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        text = log.read_text(errors="replace")
        if option and "No such option" in text and "--workers" in text:
            print("note: this 'knoten serve' has no --workers option: one process", file=sys.stderr)
            continue
        raise SystemExit(f"knoten serve did not start (see {log}):\n{text[-2000:]}")
    raise SystemExit("knoten serve did not start")


@dataclass
class Result:
    """Figures of one endpoint's load run."""

    name: str
    status: str = "ok"
    requests: int = 0
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    codes: dict[int, int] = field(default_factory=dict)
    errors: int = 0

    @property
    def rps(self) -> float:
        """Answered requests per second."""
        return self.requests / self.elapsed_s if self.elapsed_s else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile ``q`` (0..100) in ms."""
        if not self.latencies_ms:
            return float("nan")
        xs = sorted(self.latencies_ms)
        k = min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))
        return xs[k]


def load(
    port: int, name: str, paths: list[str], concurrency: int, duration_s: float, max_requests: int
) -> Result:
    """Closed-loop load over ``paths`` (cycled) with ``concurrency`` keep-alive connections."""
    result = Result(name)
    lock = threading.Lock()
    counter = iter(range(max_requests))
    stop_at = time.monotonic() + duration_s

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        lat: list[float] = []
        codes: dict[int, int] = {}
        errors = 0
        while time.monotonic() < stop_at:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                code = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            lat.append((time.perf_counter() - t0) * 1000)
            codes[code] = codes.get(code, 0) + 1
        conn.close()
        with lock:
            result.latencies_ms.extend(lat)
            for c, n in codes.items():
                result.codes[c] = result.codes.get(c, 0) + n
            result.errors += errors

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed_s = time.perf_counter() - t0
    result.requests = len(result.latencies_ms)
    return result


def plan_paths(data_dir: Path, n: int, seed: int) -> list[str]:
    """``n`` seeded walk+transit queries between points in the box of the demo's streets."""
    manifest = json.loads((data_dir / "demo" / "manifest.json").read_text())
    day = dt.date.fromisoformat(manifest["build_date"])
    sys.path.insert(0, str(REPO))
    from mobility.streets.cache import read_network

    g = read_network(data_dir / "demo" / "graph" / "streets.npz").graph("walk")
    lat0, lat1 = float(g.lat.min()), float(g.lat.max())
    lon0, lon1 = float(g.lon.min()), float(g.lon.max())
    rng = random.Random(seed)
    tz = ZoneInfo(manifest["timezone"])
    out = []
    for _ in range(n):
        a = (rng.uniform(lat0, lat1), rng.uniform(lon0, lon1))
        b = (rng.uniform(lat0, lat1), rng.uniform(lon0, lon1))
        minute = rng.randrange(6 * 60, 21 * 60)
        stamp = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=tz).isoformat()
        params = {"from": f"{a[0]:.6f},{a[1]:.6f}", "to": f"{b[0]:.6f},{b[1]:.6f}", "time": stamp,
                  "modes": "walk,transit"}  # fmt: skip
        out.append("/api/v1/plan?" + urlencode(params))
    return out


def missing(port: int, path: str) -> bool:
    """Whether the route of ``path`` does not exist (404 Not Found, not an answer like "No route")."""
    status, body = fetch(port, path)
    if status != 404:
        return False
    try:
        return bool(json.loads(body).get("title") == "Not Found")
    except ValueError:
        return True


def main(argv: list[str] | None = None) -> int:
    """Build the demo city, start the server, load each endpoint and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=None, help="Data folder (default: a temporary one)")
    parser.add_argument("--only", nargs="*", default=None, choices=sorted(TARGETS))
    parser.add_argument("--json", action="store_true", help="Also print the figures as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="knoten-bench-api-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        built = subprocess.run(
            [str(KNOTEN), "--data-dir", str(data_dir), "demo", "build"], capture_output=True, text=True,
            check=False, cwd=REPO,
        )  # fmt: skip
        if built.returncode != 0:
            raise SystemExit(f"knoten demo build failed: {built.stderr.strip()}")
        hub_stop = json.loads((data_dir / "demo" / "manifest.json").read_text())["hub"]["gtfs_stop_id"]
        server = start_server(data_dir, args.workers, Path(tmp))
        try:
            endpoints = {
                "hubs": ["/api/v1/hubs/hbf"],
                "departures": [f"/api/v1/stops/{hub_stop}/departures"],
                "plan": plan_paths(data_dir, args.queries, args.seed),
            }
            results = []
            for name, paths in endpoints.items():
                if args.only and name not in args.only:
                    continue
                if missing(server.port, paths[0]):
                    results.append(Result(name, status="missing (404)"))
                    continue
                for p in paths[: min(len(paths), 20)]:  # warm-up: timetables, first queries
                    fetch(server.port, p)
                results.append(
                    load(server.port, name, paths, args.concurrency, args.duration_s, args.max_requests)
                )
        finally:
            server.stop()

    print(f"\nknoten serve: {server.workers} worker process(es), {args.concurrency} client threads, "
          f"{args.duration_s:.0f} s or {args.max_requests} requests per endpoint\n")  # fmt: skip
    print("| endpoint | status | requests | req/s | p50 ms | p95 ms | target | met |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    doc: list[dict[str, object]] = []
    for r in results:
        rps_t, p95_t = TARGETS[r.name]
        target = f">= {rps_t:.0f} req/s, p95 <= {p95_t:.0f} ms"
        if r.status != "ok":
            print(f"| {r.name} | {r.status} | - | - | - | - | {target} | - |")
            doc.append({"endpoint": r.name, "status": r.status})
            continue
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(r.codes.items()))
        met = r.rps >= rps_t and r.pct(95) <= p95_t
        errors = f", errors: {r.errors}" if r.errors else ""
        print(f"| {r.name} | {codes}{errors} | {r.requests} | {r.rps:.0f} | {r.pct(50):.1f} | "
              f"{r.pct(95):.1f} | {target} | {'yes' if met else 'no'} |")  # fmt: skip
        doc.append({"endpoint": r.name, "status": r.status, "codes": r.codes, "errors": r.errors,
                    "requests": r.requests, "rps": round(r.rps, 1), "p50_ms": round(r.pct(50), 2),
                    "p95_ms": round(r.pct(95), 2), "met": met})  # fmt: skip
    if args.json:
        print(
            json.dumps({"workers": server.workers, "concurrency": args.concurrency, "results": doc}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
