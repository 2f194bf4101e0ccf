"""Headless Chromium for the station display's tests: Debian's ``chromium`` and ``chromedriver``.

``make test`` installs both with apt-get when they are missing (as root); where they still
cannot be had the tests that need them skip with that reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver",)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _first(candidates: tuple[str, ...], name: str) -> str | None:
    for candidate in candidates:
        if Path(candidate).is_file():
            return candidate
    return shutil.which(name)


def browser_paths() -> tuple[str, str]:
    """The chromium and chromedriver executables; skips the test when either is missing."""
    chromium = _first(CHROMIUM_CANDIDATES, "chromium")
    driver = _first(CHROMEDRIVER_CANDIDATES, "chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "chromium/chromedriver are not installed and could not be installed "
            "('make test' runs 'apt-get install chromium chromium-driver' as root)"
        )
    return chromium, driver


BrowserFactory = Callable[..., "Chrome"]
"""``browser(width=1920, height=1080, lang='de-DE')`` -> a started headless Chromium."""


def browser_fixture() -> Iterator[BrowserFactory]:
    """Start headless Chromiums on demand (Selenium WebDriver); all are closed afterwards."""
    chromium, driver_path = browser_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    started: list[webdriver.Chrome] = []

    def start(width: int = 1920, height: int = 1080, lang: str = "de-DE") -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--window-size={width},{height}",
            f"--lang={lang}",
        ):
            options.add_argument(arg)
        drv = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
        drv.set_page_load_timeout(30)
        started.append(drv)
        # the window size includes no browser chrome in headless mode; make the viewport exact
        drv.set_window_size(width, height)
        inner = drv.execute_script("return [window.innerWidth, window.innerHeight];")
        if inner != [width, height]:
            drv.set_window_size(2 * width - inner[0], 2 * height - inner[1])
        return drv

    yield start
    for drv in started:
        drv.quit()
