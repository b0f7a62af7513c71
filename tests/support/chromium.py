"""Debian's Chromium, driven through Playwright (never a browser Playwright downloads)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.tiers import needs_tier

CHROMIUM = "/usr/bin/chromium"
# Headless, as root, on a machine with no network beyond loopback: no sandbox, no
# background connections Chromium would otherwise retry.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@needs_tier("browser")
@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (never a browser Playwright downloads)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
