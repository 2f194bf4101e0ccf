"""`knoten serve` as a real HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunCli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, timeout_s: float) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return dict(json.load(response))
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture()
def server(tmp_path: Path, knoten_exe: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(knoten_exe), "--data-dir", str(tmp_path), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serve_answers_health_over_http(server: tuple[str, int]) -> None:
    base, _ = server
    body = _wait_for(f"{base}/health", timeout_s=60)
    assert body["status"] == "ok"
    with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=5) as response:
        assert json.load(response)["info"]["title"] == "Knoten API"


def test_second_server_on_same_port_fails_with_one_line(
    server: tuple[str, int], tmp_path: Path, run_cli: RunCli
) -> None:
    base, port = server
    _wait_for(f"{base}/health", timeout_s=60)
    result = run_cli("--data-dir", str(tmp_path), "serve", "--port", str(port), timeout_s=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"knoten: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
