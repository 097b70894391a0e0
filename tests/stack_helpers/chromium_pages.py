"""Headless Chromium and the page steps shared by the browser tests (tests/browser, in-process
stack) and the real-stack browser test (tests/e2e/test_browser_real_stack.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def launched_chromium():
    """Yields a headless Debian Chromium driven by Playwright (no browser download); skips the
    test when it is not installed. For a module-scoped `browser` fixture."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


def bot_says(page, pattern: str):
    """The latest bot message in the widget matching the regular expression `pattern`."""
    return page.locator("#messages .msg.bot", has_text=re.compile(pattern)).last


def send(page, text: str) -> None:
    page.fill("#input", text)
    page.click("#send")


def log_in_to_desk(desk, username: str, password: str, lands_on: str = r"/desk$") -> None:
    """On the desk's login page: signs in and waits for the desk (an analyst's: /insights)."""
    from playwright.sync_api import expect

    desk.fill("#username", username)
    desk.fill("#password", password)
    desk.click("#login")
    expect(desk).to_have_url(re.compile(lands_on))
