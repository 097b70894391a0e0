"""In headless Chromium: a borrower's second conversation shows the first one on the desk (listed,
opened read-only, found by a search), and a supervisor edits a canned reply that an agent then
sends, its placeholders filled, without reloading the desk. Screenshots 25- to 27- in
test-artifacts/browser/."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk, send, verify_d1_and_ask_for_a_person
from stack_helpers.chromium_pages import open_chat as chromium_open_chat


def open_chat(browser, stack):
    return chromium_open_chat(browser, stack.gateway_url)


def open_and_take(desk, chat) -> str:
    conversation_id = chat.evaluate("window.huanxinChat.state.conversation")
    item = desk.locator(f"#queue .item[data-id='{conversation_id}']")
    expect(item).to_be_visible(timeout=10_000)
    item.click()
    expect(desk.locator("#convo-title")).to_contain_text(conversation_id[:8])
    desk.click("#take")
    expect(desk.locator("#take")).to_be_hidden()
    return conversation_id


def test_the_second_conversation_shows_the_first_searchable(stack, browser, artifacts):
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    first_chat = open_chat(browser, stack)
    second_chat = None
    try:
        verify_d1_and_ask_for_a_person(first_chat)
        send(first_chat, "我想申请分期，工资15号才到账")
        desk.goto(stack.gateway_url + "/desk")
        log_in_to_desk(desk, "li.na", AGENT_PASSWORD)
        first_id = open_and_take(desk, first_chat)
        expect(desk.locator("#transcript")).to_contain_text("工资15号")
        desk.fill("#reply-text", "好的，我们看看分期方案。")
        desk.click("#reply-send")
        expect(first_chat.locator("#messages .msg.agent", has_text="分期方案")).to_be_visible()
        desk.check("#reply-internal")
        desk.fill("#reply-text", "salary arrives mid-month")
        desk.click("#reply-send")
        expect(desk.locator("#transcript .line.internal", has_text="mid-month")).to_be_visible()
        desk.uncheck("#reply-internal")
        desk.select_option("#close-outcome", "callback_scheduled")
        desk.click("#close")
        expect(desk.locator("#convo-state")).to_contain_text("closed")

        # the same borrower comes back in a new chat
        second_chat = open_chat(browser, stack)
        verify_d1_and_ask_for_a_person(second_chat)
        open_and_take(desk, second_chat)
        history = desk.locator("#history-box")
        expect(history).to_be_visible()
        earlier = history.locator(f"#history-list button[data-id='{first_id}']")
        expect(earlier).to_contain_text("callback_scheduled")
        expect(earlier).to_contain_text("李娜 Li Na")
        expect(earlier).to_contain_text("#" + first_id[:8])
        earlier.click()
        transcript = desk.locator("#history-transcript")
        expect(transcript).to_contain_text("工资15号")
        expect(transcript.locator(".line.internal", has_text="mid-month")).to_be_visible()
        assert "13800000001" not in desk.content() and "1990-03-15" not in desk.content()
        desk.screenshot(path=str(artifacts / "25-desk-earlier-conversation.png"), full_page=True)

        desk.fill("#history-q", "分期")
        desk.click("#history-search")
        matches = desk.locator("#history-matches button")
        expect(matches.first).to_be_visible()
        expect(desk.locator("#history-matches")).to_contain_text("我想申请分期")
        expect(desk.locator("#history-matches")).to_contain_text("#" + first_id[:8])
        desk.fill("#history-q", "MID-MONTH")  # case-insensitive, agent-only notes too
        desk.click("#history-search")
        expect(desk.locator("#history-matches")).to_contain_text("salary arrives mid-month")
        desk.screenshot(path=str(artifacts / "26-desk-earlier-conversation-search.png"), full_page=True)
    finally:
        desk.context.close()
        first_chat.context.close()
        if second_chat is not None:
            second_chat.context.close()


def test_a_supervisor_edits_a_canned_reply_and_an_agent_sends_it(stack, browser, artifacts):
    chat = open_chat(browser, stack)
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    boss = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    try:
        verify_d1_and_ask_for_a_person(chat)
        desk.goto(stack.gateway_url + "/desk")
        log_in_to_desk(desk, "li.na", AGENT_PASSWORD)
        expect(desk.locator("#canned-admin-link")).to_be_hidden()  # agents do not edit them
        open_and_take(desk, chat)
        expect(desk.locator("#canned option[value='greeting']")).to_have_count(1)

        boss.goto(stack.gateway_url + "/desk/login")
        log_in_to_desk(boss, "boss", AGENT_PASSWORD)
        expect(boss.locator("#canned-admin-link")).to_be_visible()
        boss.click("#canned-admin-link")
        expect(boss).to_have_url(re.compile(r"/desk/canned$"))
        greeting = boss.locator(".reply[data-id='greeting']")
        # a text the compliance guard would stop is refused, naming the field, and nothing changes
        greeting.locator("[data-key='text.en']").fill("Pay now or we will tell your employer, {borrower_name}.")
        greeting.locator("button.save").click()
        expect(boss.locator("#error")).to_contain_text("text.en")
        greeting.locator("[data-key='title.en']").fill("Hello and amount")
        greeting.locator("[data-key='text.en']").fill(
            "Hello {borrower_name}, this is {agent_name}. Loan {loan_number} has CNY {amount_due} overdue."
        )
        greeting.locator("button.save").click()
        expect(boss.locator("#status")).to_contain_text("greeting")
        expect(greeting.locator(".meta")).to_contain_text("v2 · boss")
        boss.screenshot(path=str(artifacts / "27-desk-canned-replies-edited.png"), full_page=True)

        # the agent's desk has the new set without a reload
        option = desk.locator("#canned option[value='greeting']")
        expect(option).to_have_text("Hello and amount")
        desk.select_option("#canned", "greeting")
        filled = re.compile(r"Hello 王芳, this is 李娜 Li Na\. Loan HX0000000001 has CNY [\d,]+\.\d\d overdue\.")
        expect(desk.locator("#reply-text")).to_have_value(filled)
        desk.click("#reply-send")
        expect(chat.locator("#messages .msg.agent", has_text="Loan HX0000000001 has CNY")).to_be_visible()
        expect(desk.locator("#transcript .line.agent", has_text="Hello 王芳")).to_be_visible()
    finally:
        chat.context.close()
        desk.context.close()
        boss.context.close()
