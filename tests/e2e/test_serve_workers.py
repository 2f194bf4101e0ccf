"""`knoten serve --workers 2`: gunicorn worker processes, one poller process, a dead worker replaced."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scenarios.demo import DemoCity


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, timeout_s: float = 5) -> dict[str, object]:
    """GET ``url`` and decode its JSON."""
    with urllib.request.urlopen(url, timeout=timeout_s) as response:
        return dict(json.load(response))


def wait_for_health(base: str, proc: subprocess.Popen[str], timeout_s: float = 90) -> None:
    """Wait until ``/health`` answers; fail with the server's output when it exits first."""
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"knoten serve exited with {proc.returncode}: {out}\n{err}")
        try:
            get_json(f"{base}/health", timeout_s=2)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry.name))
    return sorted(found)


def cmdline(pid: int) -> list[str]:
    """The command line of ``pid`` (empty when it is gone)."""
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


@dataclass
class Server:
    """A running ``knoten serve`` subprocess."""

    proc: subprocess.Popen[str]
    base: str
    port: int

    def workers(self) -> list[int]:
        """Worker pids: forked children that run the same command as the arbiter."""
        own = cmdline(self.proc.pid)
        return [pid for pid in children(self.proc.pid) if cmdline(pid) == own]

    def pollers(self) -> list[int]:
        """Poller process pids: children running ``python -m api.server``."""
        return [pid for pid in children(self.proc.pid) if cmdline(pid)[1:3] == ["-m", "api.server"]]

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 20 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_server(knoten_exe: Path, data_dir: Path, workers: int) -> Server:
    """Start ``knoten --data-dir DATA serve --workers N`` on a free loopback port and wait for it."""
    port = free_port()
    args = ["--data-dir", str(data_dir), "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(
        [str(knoten_exe), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = Server(proc, f"http://127.0.0.1:{port}", port)
    try:
        wait_for_health(server.base, proc)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture()
def two_workers(demo_city: DemoCity, tmp_path: Path, knoten_exe: Path) -> Iterator[Server]:
    """``knoten serve --workers 2`` over a copy of the demo city."""
    shutil.copytree(demo_city.root, tmp_path / "demo")
    server = start_server(knoten_exe, tmp_path, workers=2)
    try:
        yield server
    finally:
        server.stop()


def wait_for(check: object, timeout_s: float, what: str) -> None:
    """Poll the callable ``check`` until it returns true."""
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)


def test_two_workers_and_one_poller_process(two_workers: Server) -> None:
    wait_for(lambda: len(two_workers.workers()) == 2, 30, "two workers")
    assert len(two_workers.pollers()) == 1
    assert get_json(f"{two_workers.base}/health")["status"] == "ok"


def test_a_killed_worker_is_replaced_and_requests_are_still_answered(two_workers: Server) -> None:
    wait_for(lambda: len(two_workers.workers()) == 2, 30, "two workers")
    before = two_workers.workers()
    os.kill(before[0], signal.SIGKILL)
    answered = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the surviving worker answers while the arbiter replaces
        assert get_json(f"{two_workers.base}/health")["status"] == "ok"
        answered += 1
        if answered >= 20:
            break
    wait_for(
        lambda: len(two_workers.workers()) == 2 and before[0] not in two_workers.workers(),
        30,
        "a replacement worker",
    )
    after = two_workers.workers()
    assert before[1] in after and len(set(after) - set(before)) == 1
    for _ in range(10):
        assert get_json(f"{two_workers.base}/health")["status"] == "ok"
    assert len(two_workers.pollers()) == 1  # still one poller process


def test_stopping_the_server_stops_its_poller_process(two_workers: Server) -> None:
    wait_for(lambda: len(two_workers.pollers()) == 1, 30, "the poller process")
    poller = two_workers.pollers()[0]
    workers = two_workers.workers()
    two_workers.stop()
    assert two_workers.proc.returncode == 0
    wait_for(lambda: not cmdline(poller) and not any(cmdline(w) for w in workers), 15, "children to end")
    _, err = two_workers.proc.communicate()
    assert "Traceback" not in err, err
