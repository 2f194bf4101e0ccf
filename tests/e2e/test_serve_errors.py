"""`knoten serve --workers N` fails with one line: a port in use, a bad settings file, bad flags."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import RunCli


def test_port_in_use_is_one_line_with_workers(tmp_path: Path, run_cli: RunCli) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli("--data-dir", str(tmp_path), "serve", "--workers", "2", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"knoten: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_bad_config_file_is_one_line(tmp_path: Path, run_cli: RunCli) -> None:
    config = tmp_path / "knoten.toml"
    config.write_text('port = "eighty"\n', encoding="utf-8")
    result = run_cli("serve", "--config", str(config), "--workers", "2", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("knoten: error: invalid setting port"), lines


def test_zero_workers_is_a_usage_error(tmp_path: Path, run_cli: RunCli) -> None:
    result = run_cli("--data-dir", str(tmp_path), "serve", "--workers", "0")
    assert result.returncode == 2
    assert "--workers" in result.stderr and "Traceback" not in result.stderr
