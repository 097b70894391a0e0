"""The widget's language toggle changes the bot's language too (issue 13), against the running
stack (real Rasa and action server behind the gateway): a borrower on the English widget
switches to 中文 and writes in English; the bot answers in Chinese, and keeps to it after a
reload (the choice is pinned, as a typed "说中文" is). Screenshot in test-artifacts/e2e-browser/."""

from __future__ import annotations

import re

import pytest
from stack_helpers.chromium_pages import bot_says, launched_chromium, send
from stack_helpers.e2e_stack import REPO

ARTIFACTS = REPO / "test-artifacts" / "e2e-browser"
TIMEOUT_MS = 20000  # a turn through gateway, Rasa, action server and ledger


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium()


def test_the_toggle_switches_the_bots_language_and_survives_a_reload(gateway_url, browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 390, "height": 780})
    try:
        page.goto(gateway_url + "/chat?lang=en")
        page.wait_for_function("window.huanxinChat && window.huanxinChat.state.conversation")
        send(page, "hello")
        expect(bot_says(page, "[A-Za-z]{4,}")).to_be_visible()  # the English greeting first
        page.click("#lang-toggle")
        expect(page.locator("#send")).to_have_text("发送")  # the widget's own texts switch at once
        send(page, "how much do I owe?")  # written in English, after choosing Chinese
        expect(bot_says(page, "手机号")).to_be_visible()
        page.reload()
        page.wait_for_selector("#input")
        expect(page.locator("#send")).to_have_text("发送")
        send(page, "sorry, I do not have it with me right now")
        answer = page.locator("#messages .msg.borrower:has-text('sorry, I do not have it') ~ .msg.bot").first
        expect(answer).to_have_text(re.compile("[\u4e00-\u9fff]"))  # still Chinese
        page.screenshot(path=str(ARTIFACTS / "05-language-toggle.png"))
    finally:
        page.close()
