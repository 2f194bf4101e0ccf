"""Fixtures of the end-to-end tests: a headless Chromium for the station display."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.chromium import BrowserFactory, browser_fixture


@pytest.fixture()
def browser() -> Iterator[BrowserFactory]:
    """``browser(width=1920, height=1080)``: a new headless Chromium (Selenium), closed after the test."""
    yield from browser_fixture()
