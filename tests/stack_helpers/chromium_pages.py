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


def open_chat(browser, gateway_url: str):
    """A borrower's phone-sized page with the English web chat, its conversation created."""
    page = browser.new_page(viewport={"width": 390, "height": 780})
    page.goto(gateway_url + "/chat?lang=en")
    page.wait_for_function("window.huanxinChat && window.huanxinChat.state.conversation")
    return page


def verify_d1(chat) -> None:
    """D1 asks what they owe and answers the identity questions (the scripted bot's flow); the
    bot then states the overdue amount with its buttons."""
    from playwright.sync_api import expect

    send(chat, "how much do I owe?")
    expect(bot_says(chat, "phone number")).to_be_visible()
    send(chat, "13800000001")
    expect(bot_says(chat, "date of birth")).to_be_visible()
    send(chat, "1990-03-15")
    expect(bot_says(chat, "last 4")).to_be_visible()
    send(chat, "4321")
    expect(bot_says(chat, "days past due")).to_be_visible()


def verify_d1_and_ask_for_a_person(chat) -> None:
    from playwright.sync_api import expect

    verify_d1(chat)
    send(chat, "I want a person please")
    expect(chat.locator("#mode")).to_have_text("Agent")


def log_in_to_desk(desk, username: str, password: str, lands_on: str = r"/desk$") -> None:
    """On the desk's login page: signs in and waits for the desk (an analyst's: /insights)."""
    from playwright.sync_api import expect

    desk.fill("#username", username)
    desk.fill("#password", password)
    desk.click("#login")
    expect(desk).to_have_url(re.compile(lands_on))
