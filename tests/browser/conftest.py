"""A real server over the demo papers, a loopback fake of the arXiv API, and Debian's Chromium
driven by Playwright: one browser per session, a fresh context (cookies, storage) per test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from tests.conftest import QUICK_NETWORK
from tests.fake_http import fake_arxiv_api, serving
from tests.live_server import running_server

# Playwright never downloads a browser here: it drives the distribution's Chromium.
CHROMIUM = "/usr/bin/chromium"
# What a closed network needs: no sandbox as root, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEVICES: dict[str, dict[str, object]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
TIMEOUT_MS = 15_000  # generous: the machine running the suite may be busy
expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed (`make browser` installs Debian's, as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site_url(store: Store, database_url: str, tmp_path: Path) -> Iterator[str]:
    """`dailypapers serve` over the demo papers, submitting from a fake arXiv on loopback."""
    load_demo_if_empty(store)
    with serving(fake_arxiv_api) as arxiv:
        environment = {**QUICK_NETWORK, "DAILYPAPERS_ARXIV_API_URL": arxiv.url}
        with running_server(database_url, tmp_path / "server.log", env=environment) as url:
            yield url


@pytest.fixture
def device() -> str:
    """The screen the page has, from DEVICES; a test parametrizes `device` to pick another."""
    return "desktop"


@pytest.fixture
def page(browser: Browser, site_url: str, device: str) -> Iterator[Page]:
    """A page in a fresh context (no cookies), on the site."""
    context = browser.new_context(base_url=site_url, **DEVICES[device])
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: $DAILYPAPERS_SCREENSHOTS when set, else this test's tmp dir."""
    folder = Path(os.environ.get("DAILYPAPERS_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
