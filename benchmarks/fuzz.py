"""Hostile input against the real server: schemathesis over every operation, then issue 15's requests.

Run from the repository root (``make fuzz``)::

    .venv/bin/python benchmarks/fuzz.py                   # 300 examples per operation and phase
    .venv/bin/python benchmarks/fuzz.py --max-examples 1000 --seed 7

Builds the demo city and its graph folder into a temporary folder, starts ``knoten serve`` on
loopback and waits until ``/ready`` answers 200 (so plan, stops, departures and hubs are served,
not answered 503), runs schemathesis with every check (``tests/api/fuzz_helpers.py``), sends the
three requests of issue 15 (a 100-year horizon in one-minute slots, 300,000 sessions in one body,
1e308 kWh/kW), then checks that ``/health`` still answers and that the server's peak resident
memory stayed below 1 GiB.
Prints the figures; exits non-zero when any of it fails.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.cli.demo import build_demo_graph  # noqa: E402
from scenarios.demo import build_demo_city  # noqa: E402
from tests.api.fuzz_helpers import (  # noqa: E402
    SESSION,
    Server,
    knoten_server,
    peak_rss_bytes,
    run_schemathesis,
)

GIB = 2**30


def _plan_body(sessions: list[dict[str, Any]], **changes: Any) -> bytes:
    body: dict[str, Any] = {
        "sessions": sessions,
        "site_limit_kw": 22,
        "slot_minutes": 15,
        "objective": "min-peak",
    }
    body.update(changes)
    return json.dumps(body).encode()


def hostile_requests() -> list[tuple[str, bytes]]:
    """Issue 15's findings as requests: (name, body of POST /api/v1/charging/plan)."""
    century = dict(SESSION, arrival="2000-01-01T00:00:00+00:00", departure="2100-01-01T00:00:00+00:00")
    many = [dict(SESSION, session_id=f"s{i:06d}", evse_id=f"E{i:06d}") for i in range(300_000)]
    return [
        ("100-year horizon, 1-min slots", _plan_body([century], slot_minutes=1)),
        ("300,000 sessions", _plan_body(many)),
        ("energy_kwh 1e308", _plan_body([dict(SESSION, energy_kwh=1e308)])),
        ("max_kw 1e308", _plan_body([dict(SESSION, max_kw=1e308)])),
        ("site_limit_kw 1e308", _plan_body([SESSION], site_limit_kw=1e308)),
    ]


def largest_request() -> bytes:
    """A plan at the default limits: 2000 sessions of 12 h over a week in 15-min slots, min-cost.

    About 96,000 session-slots of the 100,000 allowed (a session starts at a random minute).
    """
    t0 = datetime.fromisoformat("2026-11-23T00:00:00+01:00")
    rng = random.Random(15)
    sessions = []
    for i in range(2000):
        a = t0 + timedelta(minutes=rng.randrange(0, 6 * 1440))
        sessions.append(
            dict(
                SESSION,
                session_id=f"s{i}",
                evse_id=f"E{i}",
                arrival=a.isoformat(),
                departure=(a + timedelta(hours=12)).isoformat(),
                energy_kwh=round(rng.uniform(5, 60), 1),
            )
        )
    prices = [
        {
            "slot_start": (t0 + timedelta(hours=h)).isoformat(),
            "price_eur_per_kwh": round(rng.uniform(-0.05, 0.5), 3),
        }
        for h in range(8 * 24)
    ]
    return _plan_body(sessions, site_limit_kw=2000, objective="min-cost", prices=prices)


def _post(server: Server, data: bytes) -> tuple[int, str, dict[str, Any], float]:
    conn = http.client.HTTPConnection(server.base.removeprefix("http://"), timeout=60)
    start = time.perf_counter()
    conn.request("POST", "/api/v1/charging/plan", body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    took_s = time.perf_counter() - start
    conn.close()
    return response.status, response.getheader("Content-Type") or "", json.loads(payload), took_s


def _statuses(report_dir: Path) -> collections.Counter[tuple[str, str, int]]:
    """(method, path, status) counts of every request schemathesis sent (from its HAR report)."""
    counts: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for har in report_dir.glob("har-*.json"):
        for entry in json.loads(har.read_text())["log"]["entries"]:
            url = entry["request"]["url"].split("?")[0]
            path = "/" + url.split("/", 3)[-1]
            counts[(entry["request"]["method"], path, int(entry["response"]["status"]))] += 1
    return counts


def main() -> int:
    """Run the fuzz campaign against a real server; exit status 0 when nothing failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    knoten = Path(sys.executable).with_name("knoten")
    ok = True
    with tempfile.TemporaryDirectory(prefix="knoten-fuzz-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        build_demo_graph(build_demo_city(data_dir / "demo", seed=42))
        with knoten_server(knoten, data_dir, ready=True) as server:
            start = time.perf_counter()
            result = run_schemathesis(
                server, work, max_examples=args.max_examples, seed=args.seed, timeout_s=3600
            )
            took_s = time.perf_counter() - start
            summary = [
                line for line in result.stdout.splitlines() if "generated" in line or "Operations" in line
            ]
            print(
                f"schemathesis: exit {result.returncode} in {took_s:.0f} s; "
                + "; ".join(s.strip() for s in summary)
            )
            if result.returncode != 0:
                ok = False
                print(result.stdout[-12000:])
            counts = _statuses(work / "reports")
            print(f"{'method':7} {'path':40} {'status':>6} {'requests':>8}")
            for (method, path, status), n in sorted(counts.items()):
                print(f"{method:7} {path[:40]:40} {status:>6} {n:>8}")
                ok &= status < 500 or status == 503
            print(f"\n{'hostile request':32} {'status':>6} {'content type':26} {'time':>8}  field = limit")
            for name, body in hostile_requests():
                status, ctype, doc, took = _post(server, body)
                print(
                    f"{name:32} {status:>6} {ctype:26} {took * 1000:6.0f} ms  "
                    f"{doc.get('field')} = {doc.get('limit')}"
                )
                ok &= 400 <= status < 500 and ctype.startswith("application/problem+json") and took < 1.0
                ok &= "field" in doc and "limit" in doc
            big = largest_request()
            for parallel in (1, 2, 3):
                start = time.perf_counter()
                with ThreadPoolExecutor(parallel) as pool:
                    answers = list(pool.map(lambda body: _post(server, body), [big] * parallel))
                took = time.perf_counter() - start
                codes = ", ".join(str(a[0]) for a in answers)
                size = answers[0][2].get("summary", {})
                print(
                    f"largest plan x{parallel} at once: {codes} in {took:.1f} s "
                    f"({size.get('sessions')} sessions, {size.get('slots')} slots, "
                    f"{len(big) / 2**20:.1f} MiB); "
                    f"peak RSS {peak_rss_bytes(server.process.pid) / 2**20:.0f} MiB"
                )
                ok &= all(a[0] in (200, 503) for a in answers)
            health = server.health()
            peak = peak_rss_bytes(server.process.pid)
            print(f"\n/health after the run: {health['status']}; server peak RSS {peak / 2**20:.0f} MiB")
            ok &= health["status"] == "ok" and peak < GIB
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
