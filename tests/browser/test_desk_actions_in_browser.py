"""The desk's structured actions and the rest of a working day, in headless Chromium: a relief
plan evaluated on the desk, sent as a card and accepted by the borrower in the chat (the
arrangement checked in the ledger); the compliance guard stopping a threat; the queue worked with
the keyboard only (focus kept through live updates and after taking over); the borrower's wait
message outside desk hours. Screenshots 15- to 20- in test-artifacts/browser/."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk, send, verify_d1_and_ask_for_a_person
from stack_helpers.chromium_pages import open_chat as chromium_open_chat

from conftest import Stack

SHANGHAI = ZoneInfo("Asia/Shanghai")


def open_chat(browser, stack):
    return chromium_open_chat(browser, stack.gateway_url)


def open_desk(browser, stack, username: str = "li.na"):
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    desk.goto(stack.gateway_url + "/desk")
    log_in_to_desk(desk, username, AGENT_PASSWORD)
    return desk


async def _hardship_answers(database_url: str) -> None:
    """D1's hardship answers, as the bot would have collected them (the plans are evaluated on them)."""
    from ledger.db.session import create_engine, create_session_factory
    from ledger.policy_file import load_policy
    from ledger.services import loans, verification
    from ledger.services.context import Ledger

    engine = create_engine(database_url)
    ledger = Ledger(create_session_factory(engine), load_policy(), id_hash_salt="browser-salt")
    verified = await verification.verify(
        ledger, conversation_id="hardship-setup", phone="13800000001", date_of_birth=date(1990, 3, 15), id_last4="4321"
    )
    await loans.open_hardship_case(
        ledger, token=verified.token, conversation_id="hardship-setup", loan_number="HX0000000001",
        reason="job_loss", duration="temporary", monthly_income=Decimal("8000.00"),
        essential_expenses=Decimal("3000.00"), other_debt_payments=Decimal("500.00"), notes=None,
    )  # fmt: skip
    await engine.dispose()


async def _arrangements(database_url: str) -> list[str]:
    """The plan types of D1's loan's arrangements (the demo's D6 has one of its own)."""
    from sqlalchemy import select

    from ledger.db import models as m
    from ledger.db.session import create_engine, create_session_factory

    engine = create_engine(database_url)
    async with create_session_factory(engine)() as s:
        rows = (
            await s.execute(
                select(m.Arrangement.plan_type)
                .join(m.Loan, m.Loan.id == m.Arrangement.loan_id)
                .where(m.Loan.loan_number == "HX0000000001")
            )
        ).scalars()
    await engine.dispose()
    return list(rows)


def test_a_plan_sent_from_the_desk_is_accepted_in_the_chat_and_a_threat_is_stopped(stack, browser, artifacts):
    stack.run(_hardship_answers(stack.database_url))
    chat = open_chat(browser, stack)
    desk = open_desk(browser, stack)
    try:
        verify_d1_and_ask_for_a_person(chat)
        desk.locator("#queue .item").first.click()
        desk.click("#take")
        expect(desk.locator("#take")).to_be_hidden()
        desk.click("#plans-box summary")
        desk.click("#plans-evaluate")
        eligible = desk.locator("#plans-list .plan.eligible")
        expect(eligible.first).to_be_visible()
        expect(desk.locator("#plans-list .plan.not-eligible").first).to_be_visible()  # with the ledger's reasons
        plan_type = eligible.first.get_attribute("data-plan")
        desk.screenshot(path=str(artifacts / "15-desk-plans-evaluated.png"), full_page=True)
        eligible.first.locator(".plan-send").click()
        expect(desk.locator("#transcript .line.agent", has_text="has prepared a plan")).to_be_visible()

        card = chat.locator("#messages .msg.agent .card")
        expect(card).to_be_visible()
        expect(card.locator("button")).to_have_text("Accept this plan")
        chat.screenshot(path=str(artifacts / "16-borrower-plan-card.png"))
        assert stack.run(_arrangements(stack.database_url)) == []
        card.locator("button").click()
        expect(chat.locator("#messages .msg.system", has_text="You accepted the plan")).to_be_visible()
        expect(card.locator("button")).to_be_disabled()
        assert stack.run(_arrangements(stack.database_url)) == [plan_type]
        # the desk hears of it over its socket; slack for a loaded machine (one run in ~10 missed 5 s)
        accepted_on_desk = desk.locator("#transcript .line.system", has_text="You accepted the plan")
        expect(accepted_on_desk).to_be_visible(timeout=15000)
        chat.screenshot(path=str(artifacts / "17-borrower-plan-accepted.png"))

        # the compliance guard: a threat is not sent, the agent is asked to rewrite it
        threat = "If you do not pay today the police will arrest you"
        desk.fill("#reply-text", threat)
        desk.keyboard.press("Control+Enter")
        expect(desk.locator("#error")).to_contain_text("not sent, please rewrite it")
        expect(desk.locator("#reply-text")).to_have_value(threat)  # kept for the rewrite
        assert chat.locator("#messages .msg.agent", has_text="arrest").count() == 0
        desk.screenshot(path=str(artifacts / "18-desk-guard-stops-a-threat.png"), full_page=True)
    finally:
        chat.close()
        desk.close()


def test_the_queue_with_the_keyboard_only(stack, browser, artifacts):
    chats = [open_chat(browser, stack) for _ in range(2)]
    desk = open_desk(browser, stack)
    try:
        for chat in chats:
            send(chat, "I want a person please")
            expect(chat.locator("#mode")).to_have_text("Agent")
        expect(desk.locator("#queue .item.waiting")).to_have_count(2)
        desk.keyboard.press("Alt+q")  # listed on the page: to the queue
        active = "document.activeElement"
        assert desk.evaluate(f"{active}.classList.contains('item')")
        first_id = desk.evaluate(f"{active}.dataset.id")
        desk.keyboard.press("ArrowDown")
        second_id = desk.evaluate(f"{active}.dataset.id")
        assert second_id and second_id != first_id
        # a live update rebuilds the queue: the focus stays on the same line
        send(chats[0], "are you there?")
        expect(desk.locator("#queue .item .unread").first).to_be_visible()
        desk.wait_for_timeout(400)  # the queue's render is debounced (250 ms)
        assert desk.evaluate(f"{active}.dataset && {active}.dataset.id") == second_id
        desk.keyboard.press("Enter")
        expect(desk.locator("#convo")).to_be_visible()
        for _ in range(40):  # Tab to the Take over button
            if desk.evaluate(f"{active}.id") == "take":
                break
            desk.keyboard.press("Tab")
        assert desk.evaluate(f"{active}.id") == "take"
        desk.keyboard.press("Enter")
        expect(desk.locator("#take")).to_be_hidden()
        expect(desk.locator("#reply-text")).to_be_focused()  # not lost when the button went
        desk.keyboard.type("Hello, I am looking at your account now.")
        desk.keyboard.press("Control+Enter")
        chat_of = {c.evaluate("window.huanxinChat.state.conversation"): c for c in chats}
        expect(chat_of[second_id].locator("#messages .msg.agent", has_text="looking at your account")).to_be_visible()
        expect(desk.locator("#shortcuts")).to_contain_text("Alt+Q")
        desk.screenshot(path=str(artifacts / "19-desk-keyboard-only.png"), full_page=True)
    finally:
        for chat in chats:
            chat.close()
        desk.close()


@pytest.fixture(scope="module")
def closed_desk_stack(tmp_path_factory):
    from gateway.desk_hours import DeskHours
    from gateway.settings import DeskSettings

    closed_day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(datetime.now(SHANGHAI).weekday() + 3) % 7]
    hours = DeskHours.parse(f"{closed_day} 09:00-10:00", SHANGHAI)  # not today: closed now
    s = Stack(tmp_path_factory.mktemp("closed"), desk=DeskSettings(hours=hours))
    s.start_aside()
    yield s, closed_day
    s.stop()


def test_the_borrower_hears_when_the_desk_opens_outside_its_hours(closed_desk_stack, browser, artifacts):
    stack, closed_day = closed_desk_stack
    chat = open_chat(browser, stack)
    try:
        send(chat, "I want a person please")
        notice = chat.locator("#messages .msg.system", has_text="not available right now")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(closed_day)
        expect(notice).to_contain_text("09:00")
        expect(notice).to_contain_text("will reply here from")
        assert chat.locator("#messages .msg.system", has_text="joined").count() == 0
        chat.screenshot(path=str(artifacts / "20-borrower-outside-desk-hours.png"))
    finally:
        chat.close()
