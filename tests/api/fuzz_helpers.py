"""A real ``knoten serve`` on loopback, its memory, and schemathesis run against it (all checks).

Shared by the suite's fuzz test (``tests/api/test_fuzz.py``, few examples) and ``make fuzz``
(``benchmarks/fuzz.py``, many). schemathesis fuzzes every operation the served OpenAPI document
lists, so operations added later are fuzzed without touching this file.

Every check is on. Two expectations differ from schemathesis' defaults, both documented in the
OpenAPI document of every operation:

* ``not_a_server_error`` accepts 503 (a time budget exceeded, a busy worker, data not built);
  any other 5xx, a 500 above all, fails;
* ``positive_data_acceptance`` accepts 422 for schema-valid data: 422 answers rules a schema
  cannot express (departure after arrival, one session at a time per EVSE, prices covering every
  slot, the problem size). A 400 for schema-valid data still fails.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: one valid charging session; the hostile requests are made from it
SESSION = {
    "session_id": "a",
    "evse_id": "E1",
    "arrival": "2026-11-27T08:00:00+01:00",
    "departure": "2026-11-27T10:00:00+01:00",
    "energy_kwh": 10,
    "max_kw": 11,
}

SCHEMATHESIS_TOML = """\
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large", "large_base_example"]

[generation]
mode = "all"

[phases.examples]
enabled = true
[phases.coverage]
enabled = true
[phases.fuzzing]
enabled = true
[phases.stateful]
enabled = false  # the operations have no links between them yet

[checks.not_a_server_error]
expected-statuses = ["2xx", "3xx", "4xx", "503"]
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` now (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def peak_rss_bytes(pid: int) -> int:
    """Peak resident memory of process ``pid`` so far (``VmHWM``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass(frozen=True)
class Server:
    """A running ``knoten serve``."""

    base: str
    process: subprocess.Popen[str]

    def health(self, timeout_s: float = 5.0) -> dict[str, object]:
        """``GET /health`` (raises when it does not answer 200)."""
        with urllib.request.urlopen(f"{self.base}/health", timeout=timeout_s) as response:
            return dict(json.load(response))

    def wait_ready(self, wait_s: float = 60.0) -> dict[str, object]:
        """Poll ``GET /ready`` until it answers 200 (graph loaded, every feed with data); its body.

        Raises ``RuntimeError`` with the last 503 problem when it is not ready within ``wait_s``.
        """
        deadline = time.monotonic() + wait_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/ready", timeout=5) as response:
                    return dict(json.load(response))
            except urllib.error.HTTPError as exc:
                last = exc.read().decode("utf-8", errors="replace")
                if exc.code != 503 or time.monotonic() > deadline:
                    raise RuntimeError(f"knoten serve is not ready ({exc.code}): {last}") from exc
            time.sleep(0.2)


@contextmanager
def knoten_server(
    knoten_exe: Path, data_dir: Path, *, wait_s: float = 60.0, ready: bool = False
) -> Iterator[Server]:
    """``knoten serve`` on a free loopback port over ``data_dir``; stopped (by its pid) afterwards.

    Yields once ``/health`` answers, or with ``ready`` once ``/ready`` answers 200 (the graph
    folder loaded and every feed polled), both within ``wait_s``.
    """
    port = free_port()
    log = (data_dir / "serve.log").open("w")
    proc = subprocess.Popen(
        [str(knoten_exe), "--data-dir", str(data_dir), "serve", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = Server(f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                server.health(timeout_s=2)
                break
            except (urllib.error.URLError, ConnectionError) as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log_text = (data_dir / "serve.log").read_text()
                    raise RuntimeError(f"knoten serve did not start: {log_text}") from exc
                time.sleep(0.2)
        if ready:
            server.wait_ready(max(1.0, deadline - time.monotonic()))
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def run_schemathesis(
    server: Server, work_dir: Path, *, max_examples: int, seed: int = 15, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    """schemathesis over every operation of the served document, all checks; its exit code and output."""
    config = work_dir / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_TOML, encoding="utf-8")
    exe = Path(sys.executable).with_name("schemathesis")
    return subprocess.run(
        [
            str(exe),
            "--config-file",
            str(config),
            "run",
            f"{server.base}/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--workers",
            "1",
            "--report",
            "har",
            "--report-dir",
            str(work_dir / "reports"),
            "--request-timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        cwd=work_dir,
        env={"PATH": str(exe.parent), "NO_COLOR": "1", "HOME": str(work_dir)},
    )
