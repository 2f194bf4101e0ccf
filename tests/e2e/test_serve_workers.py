"""`knoten serve --workers 2`: gunicorn worker processes, one poller process, a dead worker replaced."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios.demo import DemoCity
from tests.e2e.serving import Server, cmdline, get_json, start_server, wait_for


@pytest.fixture()
def two_workers(demo_city: DemoCity, tmp_path: Path, knoten_exe: Path) -> Iterator[Server]:
    """``knoten serve --workers 2`` over a copy of the demo city."""
    shutil.copytree(demo_city.root, tmp_path / "demo")
    server = start_server(knoten_exe, tmp_path, workers=2)
    try:
        yield server
    finally:
        server.stop()


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
