"""Running the HTTP service: several gunicorn worker processes, or one waitress process.

With ``workers >= 2`` :class:`GunicornServer` runs a gunicorn arbiter in the calling process: each
worker builds its own app with :func:`api.app.create_app` (and loads the graph folder before its
first request), the arbiter replaces a worker that dies, and the live-feed pollers run once, in
one dedicated process (:func:`run_pollers`) that the arbiter starts when it is ready and stops
when it exits. The pollers write the live-state store (SQLite in ``data_dir`` by default); every
worker reads it, refreshed at most once a second (:meth:`api.context.Services.live_state`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

from gunicorn.app.base import BaseApplication

from api.errors import CliError
from api.settings import Settings

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger(__name__)

POLLER_STOP_TIMEOUT_S = 10.0


def check_port_free(host: str, port: int) -> None:
    """Raise :class:`CliError` with one line when ``host:port`` cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers themselves do
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def preload_graph(app: Flask) -> None:
    """Load the graph folder now when one is built, so that the first request does not wait."""
    from api.context import graph_folder, services

    found = services(app)
    if graph_folder(found.settings) is None:
        return
    try:
        found.graph()
    except Exception:  # the routes answer the failure themselves; a worker still serves the rest
        log.exception("could not load the graph folder")


def run_pollers(settings: Settings, base_url: str) -> None:
    """Poll the configured live feeds (the demo city's by default) until SIGTERM, or until the
    process that started this one is gone. The target of the dedicated poller process."""
    from api.live import start_live

    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C goes to the server; it stops us
    signal.signal(signal.SIGTERM, lambda _sig, _frame: stop.set())
    parent = os.getppid()
    live = start_live(settings, base_url)
    try:
        while not stop.wait(1.0):
            if os.getppid() != parent:
                break
    finally:
        live.stop()


def start_poller_process(settings: Settings, base_url: str) -> subprocess.Popen[bytes]:
    """Start :func:`run_pollers` in a new Python process (``python -m api.server BASE_URL``, the
    settings as JSON on its standard input); a plain child process, so that the forked workers
    inherit no bookkeeping of it."""
    process = subprocess.Popen([sys.executable, "-m", "api.server", base_url], stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(settings.model_dump_json().encode())
    process.stdin.close()
    return process


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM, then SIGKILL when it does not end in time."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(POLLER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(POLLER_STOP_TIMEOUT_S)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn arbiter serving :func:`api.app.create_app` with ``workers`` processes."""

    def __init__(self, settings: Settings, *, workers: int, threads: int = 4, poll: bool = True) -> None:
        self.settings = settings
        self.workers = workers
        self.threads = threads
        self.poll = poll
        self.base_url = f"http://{settings.host}:{settings.port}"
        self.poller: subprocess.Popen[bytes] | None = None
        super().__init__()

    def load_config(self) -> None:
        """gunicorn settings: bind, worker processes (threaded), quiet logs, the lifecycle hooks."""
        host = f"[{self.settings.host}]" if ":" in self.settings.host else self.settings.host
        options: dict[str, Any] = {
            "bind": f"{host}:{self.settings.port}",
            "workers": self.workers,
            "worker_class": "gthread",
            "threads": self.threads,
            "timeout": 120,
            "graceful_timeout": 10,
            "loglevel": "warning",
            "accesslog": None,
            "proc_name": "knoten",
            "when_ready": self._when_ready,
            "on_exit": self._on_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def _when_ready(self, _arbiter: Any) -> None:
        if self.poll:
            self.poller = start_poller_process(self.settings, self.base_url)

    def _on_exit(self, _arbiter: Any) -> None:
        stop_process(self.poller)

    def load(self) -> Flask:
        """The app of one worker process (called in the worker, after the fork)."""
        from api.app import create_app

        app = create_app(self.settings)
        preload_graph(app)
        return app


if __name__ == "__main__":  # the poller process of a multi-worker server
    run_pollers(Settings.model_validate_json(sys.stdin.buffer.read()), sys.argv[1])
