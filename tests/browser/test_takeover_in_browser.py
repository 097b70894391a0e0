"""A borrower and an agent in two real browser pages: verify, status, ask for a person,
agent takes over and replies, hands back, the bot answers again. Screenshots of both pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import bot_says, log_in_to_desk, send, verify_d1


def test_borrower_is_taken_over_by_an_agent_and_handed_back(stack, browser, artifacts):
    borrower = browser.new_page(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        # the lender's page embeds the widget with one script tag; the chat runs in its iframe
        borrower.goto(stack.gateway_url + "/demo")
        borrower.click("#huanxin-launcher")
        chat = borrower.frame_locator("#huanxin-frame")
        expect(chat.locator("#status")).to_be_hidden(timeout=10000)
        chat_page = borrower.frames[1]
        chat_page.wait_for_selector("#input")

        verify_d1(chat_page)
        status = bot_says(chat_page, "days past due")
        expect(status).to_be_visible()
        expect(status).to_contain_text("王芳")
        expect(status).to_contain_text("15 days past due")
        expect(status.locator(".buttons button")).to_have_count(2)
        borrower.screenshot(path=str(artifacts / "01-borrower-verified-status.png"))

        # a button is a button: clicking it asks for a person
        status.locator(".buttons button", has_text="Talk to a person").click()
        expect(chat_page.locator("#messages .msg.system", has_text="queued")).to_be_visible()
        expect(chat_page.locator("#mode")).to_have_text("Agent")

        # the agent logs in and finds the conversation waiting, with its transcript and account
        desk.goto(stack.gateway_url + "/desk")
        expect(desk).to_have_url(re.compile(r"/desk/login$"))
        log_in_to_desk(desk, "li.na", AGENT_PASSWORD)
        item = desk.locator("#queue .item.waiting").first
        expect(item).to_contain_text("request_human")
        expect(item).to_contain_text("M1")
        item.click()
        expect(desk.locator("#transcript .line.borrower", has_text="[identity answer]").first).to_be_visible()
        assert "13800000001" not in desk.content() and "1990-03-15" not in desk.content()  # identity answers hidden
        expect(desk.locator("#transcript .line.bot", has_text="15 days past due")).to_be_visible()
        expect(desk.locator("#account")).to_contain_text("HX0000000001")
        expect(desk.locator("#account")).to_contain_text("王芳")

        desk.click("#take")
        expect(chat_page.locator("#messages .msg.system", has_text="has joined")).to_be_visible()
        desk.fill("#reply-text", "您好，我是李娜。我们可以一起看看还款安排。")
        desk.click("#reply-send")
        expect(chat_page.locator("#messages .msg.agent", has_text="我是李娜")).to_be_visible()

        # an agent-only note stays on the desk
        desk.check("#reply-internal")
        desk.fill("#reply-text", "INTERNAL: borrower anxious, offer deferral")
        desk.click("#reply-send")
        expect(desk.locator("#transcript .line.internal", has_text="INTERNAL")).to_be_visible()
        desk.uncheck("#reply-internal")

        send(chat_page, "Thank you, I can pay 500 on Friday")
        expect(desk.locator("#transcript .line.borrower", has_text="500 on Friday")).to_be_visible()
        desk.screenshot(path=str(artifacts / "02-desk-conversation.png"), full_page=True)

        desk.click("#handback-box summary")
        desk.fill("#handback-note", "You will pay 500 CNY on Friday")
        desk.click("#handback")
        expect(bot_says(chat_page, "As agreed")).to_contain_text("You will pay 500 CNY on Friday")
        expect(chat_page.locator("#mode")).to_have_text("")

        send(chat_page, "ok thanks")
        expect(bot_says(chat_page, "You said: ok thanks")).to_be_visible()
        assert chat_page.locator("#messages", has_text="INTERNAL").count() == 0
        borrower.screenshot(path=str(artifacts / "03-borrower-after-handback.png"))
        desk.screenshot(path=str(artifacts / "04-desk-after-handback.png"), full_page=True)
    finally:
        borrower.close()
        desk.close()


def test_widget_reconnects_without_losing_messages(stack, browser, artifacts):
    page = browser.new_page()
    try:
        page.goto(stack.gateway_url + "/chat?lang=zh")
        page.wait_for_function("window.huanxinChat && window.huanxinChat.state.conversation")
        send(page, "你好")
        expect(page.locator("#messages .msg.bot", has_text="你好")).to_be_visible()
        # the network drops: messages typed meanwhile wait in the outbox and go out on reconnect
        page.context.set_offline(True)
        page.evaluate("window.huanxinChat.reconnectNow()")
        expect(page.locator("#status")).to_be_visible()
        send(page, "断线时发的消息")
        page.context.set_offline(False)
        expect(page.locator("#messages .msg.bot", has_text="断线时发的消息")).to_be_visible(timeout=15000)
        expect(page.locator("#status")).to_be_hidden()
        assert page.locator("#messages .msg.borrower", has_text="断线时发的消息").count() == 1
        page.screenshot(path=str(artifacts / "05-widget-after-reconnect.png"))
    finally:
        page.close()
