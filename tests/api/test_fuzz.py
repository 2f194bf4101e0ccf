"""Schema-driven fuzzing of every operation the OpenAPI document lists (schemathesis, all checks).

``knoten serve`` runs on loopback over the built demo city with its graph folder (so the plan,
stops, departures and hubs are really served, not answered 503) and is ready (``/ready`` 200:
graph loaded, every demo feed polled) before schemathesis starts. schemathesis reads the served document,
so operations added to it later are fuzzed without touching this file. A 500, an undocumented
status or content type, a body that does not match its schema, a schema-valid request answered
400, a 405 without ``Allow`` ... each fails the run. The example count is bounded so that the run
stays well under a minute; ``make fuzz`` runs longer (``benchmarks/fuzz.py``).
"""

from __future__ import annotations

from pathlib import Path

from tests.api.fuzz_helpers import knoten_server, peak_rss_bytes, run_schemathesis

MAX_EXAMPLES = 20


def test_every_operation_survives_fuzzing(api_data_dir: Path, knoten_exe: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"  # the server's own database; the demo city and its graph shared
    data_dir.mkdir()
    (data_dir / "demo").symlink_to((api_data_dir / "demo").resolve(), target_is_directory=True)
    assert (data_dir / "demo" / "graph" / "manifest.json").is_file()
    with knoten_server(knoten_exe, data_dir, ready=True) as server:
        result = run_schemathesis(server, tmp_path, max_examples=MAX_EXAMPLES, timeout_s=240)
        assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
        assert "Operations:" in result.stdout
        assert server.health()["status"] == "ok"  # still serving afterwards
        assert peak_rss_bytes(server.process.pid) < 2**30
