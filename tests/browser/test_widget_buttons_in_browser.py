"""The widget's buttons in a real browser: only the newest buttons are live. Once the borrower
writes (or a notice follows), the buttons of earlier turns are disabled, and a reload shows
them disabled again; the newest buttons are still live after a reload (issue 13)."""

from __future__ import annotations

from playwright.sync_api import expect
from stack_helpers.chromium_pages import bot_says, open_chat, send, verify_d1


def test_buttons_of_earlier_turns_stay_disabled_after_a_reload(stack, browser, artifacts):
    chat = open_chat(browser, stack.gateway_url)
    try:
        verify_d1(chat)
        offered = bot_says(chat, "days past due").locator("button")
        expect(offered).to_have_count(2)
        chat.reload()
        chat.wait_for_selector("#input")
        offered = bot_says(chat, "days past due").locator("button")
        expect(offered.first).to_be_enabled()  # still the newest: live after a reload

        send(chat, "something else")
        expect(bot_says(chat, "You said: something else")).to_be_visible()
        expect(offered.first).to_be_disabled()
        expect(offered.last).to_be_disabled()

        chat.reload()
        chat.wait_for_selector("#input")
        expect(bot_says(chat, "You said: something else")).to_be_visible()
        earlier = bot_says(chat, "days past due").locator("button")
        expect(earlier).to_have_count(2)
        expect(earlier.first).to_be_disabled()
        expect(earlier.last).to_be_disabled()
        chat.screenshot(path=str(artifacts / "24-widget-earlier-buttons-disabled.png"))
    finally:
        chat.close()
