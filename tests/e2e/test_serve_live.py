"""`knoten serve` with the demo city built: its moving feeds are polled out of the box."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from api.demo import DemoCity


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _knoten(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", *args]


def test_serve_polls_the_demo_feeds(demo_city: DemoCity, tmp_path: Path) -> None:
    shutil.copytree(demo_city.root, tmp_path / "demo")
    port = _free_port()
    proc = subprocess.Popen(
        _knoten("--data-dir", str(tmp_path), "serve", "--port", str(port)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        rows: dict[str, dict] = {}
        while time.monotonic() < deadline:
            result = subprocess.run(
                _knoten("--data-dir", str(tmp_path), "feeds", "status", "--json"),
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            if result.returncode == 0:
                rows = {r["name"]: r for r in json.loads(result.stdout)}
                if len(rows) == 5 and all(r["age_s"] is not None for r in rows.values()):
                    break
            time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert set(rows) == {
        "demo-knotenrad",
        "demo-knotenscoot",
        "demo-knotencar",
        "demo-chargers",
        "demo-trip-updates",
    }
    assert all(r["age_s"] is not None and not r["stale"] for r in rows.values()), rows
