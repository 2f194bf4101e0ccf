"""Running ``knoten serve`` as a real subprocess on a free loopback port, for the end-to-end tests."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


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


def start_server(
    knoten_exe: Path, data_dir: Path, workers: int, *, port: int | None = None, config: Path | None = None
) -> Server:
    """Start ``knoten --data-dir DATA serve [--config FILE] --workers N`` on a free loopback port
    (or ``port``) and wait until it answers."""
    port = port if port is not None else free_port()
    args = ["--data-dir", str(data_dir), "serve", "--port", str(port), "--workers", str(workers)]
    if config is not None:
        args += ["--config", str(config)]
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


def wait_for(check: Callable[[], T], timeout_s: float, what: str) -> T:
    """Poll ``check`` until it returns something true, and return that; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.2)
