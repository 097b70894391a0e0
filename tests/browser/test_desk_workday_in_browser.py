"""What an agent sees and does in a working day, in headless Chromium: the hand-off card of an
escalated conversation, a canned reply with its placeholders filled from the account, a label,
the queue worked with the keyboard only, and (auto-assignment on) two agents given escalations
with a supervisor reassigning one while the displaced agent's desk is told at once.
Screenshots in test-artifacts/browser/."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk, send, verify_d1_and_ask_for_a_person
from stack_helpers.chromium_pages import open_chat as chromium_open_chat

from conftest import Stack


def open_chat(browser, stack):
    return chromium_open_chat(browser, stack.gateway_url)


def test_the_hand_off_card_a_canned_reply_labels_and_the_keyboard(stack, browser, artifacts):
    chat = open_chat(browser, stack)
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        verify_d1_and_ask_for_a_person(chat)
        desk.goto(stack.gateway_url + "/desk")
        log_in_to_desk(desk, "li.na", AGENT_PASSWORD)

        # keyboard only: focus the queue, move with the arrows, open with Enter
        first = desk.locator("#queue .item").first
        expect(first).to_be_visible()
        first.focus()
        desk.keyboard.press("Enter")
        card = desk.locator("#handoff")
        expect(card).to_be_visible()
        expect(card.locator(".card-reason")).to_contain_text("request_human")
        expect(card.locator(".card-case")).to_contain_text(re.compile(r"ESC-\d{4}-\d{6}"))
        expect(card.locator(".card-verified")).to_contain_text("verified")
        expect(card).to_contain_text("HX0000000001")
        expect(card).to_contain_text("DPD 15 (M1)")
        expect(card).to_contain_text("borrower asked for a person")  # the bot's summary
        html = desk.content()
        assert "13800000001" not in html and "1990-03-15" not in html  # identity answers never shown
        desk.screenshot(path=str(artifacts / "10-desk-handoff-card.png"), full_page=True)

        desk.click("#take")
        expect(desk.locator("#take")).to_be_hidden()
        # the borrower sees the agent typing (a reply, not a note)
        desk.fill("#reply-text", "让我看一下")
        expect(chat.locator("#typing")).to_be_visible()
        desk.fill("#reply-text", "")
        # a canned reply in the conversation's language, filled from the account
        option = desk.locator("#canned option[value='amount_due']")
        expect(option).to_have_count(1)
        desk.select_option("#canned", "amount_due")
        filled = re.compile(r"王芳, the overdue amount on your loan HX0000000001 is CNY [\d,]+\.\d\d")
        expect(desk.locator("#reply-text")).to_have_value(filled)
        assert "{" not in desk.input_value("#reply-text")
        desk.keyboard.press("Control+Enter")
        expect(chat.locator("#messages .msg.agent", has_text="HX0000000001")).to_be_visible()
        expect(chat.locator("#messages .msg.agent", has_text="HX0000000001")).to_contain_text("李娜")  # not li.na
        expect(chat.locator("#typing")).to_be_hidden()
        # a reply that needs what this conversation lacks is offered greyed out, never sent half-filled
        expect(desk.locator("#canned option[value='greeting']")).to_be_enabled()

        # a promise to pay recorded from the desk, by the ledger's rules
        desk.click("#promise-box summary")
        desk.fill("#promise-amount", "500.00")
        desk.fill("#promise-date", (date.today() + timedelta(days=3)).isoformat())
        desk.click("#promise-record")
        expect(desk.locator("#transcript .line.internal", has_text="promise recorded: 500.00")).to_be_visible()
        expect(desk.locator("#handoff")).to_contain_text("承诺 promise 500.00")
        desk.fill("#label-new", "hardship")
        desk.click("#label-add")
        expect(desk.locator("#labels")).to_contain_text("#hardship")
        expect(desk.locator("#queue .item.selected")).to_contain_text("#hardship")
        desk.select_option("#queue-filter", "mine")
        expect(desk.locator("#queue .item")).to_have_count(1)
        desk.screenshot(path=str(artifacts / "11-desk-canned-reply-and-label.png"), full_page=True)
        chat.screenshot(path=str(artifacts / "12-borrower-canned-reply.png"))
    finally:
        chat.close()
        desk.close()


@pytest.fixture(scope="module")
def assigning_stack(tmp_path_factory):
    from gateway.settings import DeskSettings

    desk = DeskSettings(assignment="least_busy", agent_capacity=1)
    s = Stack(tmp_path_factory.mktemp("assigning"), desk=desk, agents=[("wang.wei", "agent", "王伟")])
    s.start_aside()
    yield s
    s.stop()


def test_two_agents_are_assigned_and_a_supervisor_reassigns(assigning_stack, browser, artifacts):
    stack = assigning_stack
    pages = {}
    for name in ("li.na", "wang.wei", "boss"):
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(stack.gateway_url + "/desk")
        log_in_to_desk(page, name, AGENT_PASSWORD)
        expect(page.locator("#live.on")).to_be_visible()
        pages[name] = page
    chats = []
    try:
        for _ in range(2):  # capacity 1: one each
            chat = open_chat(browser, stack)
            send(chat, "I want a person please")
            expect(chat.locator("#messages .msg.system", has_text="joined")).to_be_visible()
            chats.append(chat)
        for name in ("li.na", "wang.wei"):
            mine = pages[name].locator("#queue .item")
            expect(mine).to_have_count(1)
            expect(mine.first).to_contain_text("→ " + name)
        # the borrower sees the agent's display name, never a login
        joined = chats[0].locator("#messages .msg.system", has_text="joined").first.inner_text()
        assert "li.na" not in joined and "wang.wei" not in joined

        # li.na opens hers; the supervisor gives it to wang.wei; her desk is told at once
        li = pages["li.na"]
        li.locator("#queue .item").first.click()
        expect(li.locator("#convo")).to_be_visible()
        boss = pages["boss"]
        boss.locator("#queue .item", has_text="→ li.na").first.click()
        expect(boss.locator("#assign-box")).to_be_visible()
        boss.fill("#assign-agent", "wang.wei")
        boss.click("#assign")
        expect(li.locator("#convo-empty")).to_contain_text("reassigned to wang.wei")
        expect(li.locator("#queue .item")).to_have_count(0)
        expect(pages["wang.wei"].locator("#queue .item")).to_have_count(2)
        li.screenshot(path=str(artifacts / "13-desk-displaced-agent.png"), full_page=True)
        pages["wang.wei"].screenshot(path=str(artifacts / "14-desk-new-owner.png"), full_page=True)
    finally:
        for chat in chats:
            chat.close()
        for page in pages.values():
            page.close()
