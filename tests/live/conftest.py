"""Live-feed tests: a real HTTP server per test (helpers in ``live_helpers``); ``shared_data`` comes
from the top-level conftest."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from tests.live.live_helpers import FeedServer  # noqa: E402


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh server on 127.0.0.1; stopped after the test."""
    server = FeedServer()
    yield server
    server.down()
