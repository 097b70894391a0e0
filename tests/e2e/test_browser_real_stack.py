"""Issue 5's browser test against the running stack (real Rasa and action server behind the
gateway, not the scripted bot of tests/browser): a borrower verifies in the widget and sees
their status; asks for a person; an agent (created with `python -m gateway create-agent`)
logs in, finds the conversation with its transcript, replies; the borrower sees the reply; the
agent hands back with a note; the bot says so and answers the next question.
Screenshots of both pages in test-artifacts/e2e-browser/."""

from __future__ import annotations

import re

import pytest
from stack_helpers.chromium_pages import bot_says, launched_chromium, log_in_to_desk, send
from stack_helpers.e2e_stack import DEMO, REPO, create_desk_account, status_figures

ARTIFACTS = REPO / "test-artifacts" / "e2e-browser"
TIMEOUT_MS = 20000  # a turn through gateway, Rasa, action server and ledger


@pytest.fixture(scope="module")
def agent(database_url) -> tuple[str, str]:
    return create_desk_account(database_url, "agent", "E2E Agent")


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium()


def test_borrower_and_agent_in_browsers_with_the_real_bot(gateway_url, agent, browser, ledger):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    who = DEMO["D7"]  # English; no test changes its figures (the open dispute stays open)
    borrower = browser.new_page(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        borrower.goto(gateway_url + "/chat?lang=en")
        borrower.wait_for_function("window.huanxinChat && window.huanxinChat.state.conversation")
        send(borrower, "how much do I owe?")
        expect(bot_says(borrower, "mobile number")).to_be_visible()
        send(borrower, who.phone)
        expect(bot_says(borrower, "date of birth")).to_be_visible()
        send(borrower, who.dob)
        expect(bot_says(borrower, "last 4")).to_be_visible()
        send(borrower, who.id_last4)
        status_message = bot_says(borrower, "days past due")
        expect(status_message).to_be_visible()
        status = ledger.verify(who).status(who.loan_number)
        shown = borrower.locator("#messages").inner_text()
        assert all(figure in shown for figure in status_figures(status, "en")), shown
        borrower.screenshot(path=str(ARTIFACTS / "01-borrower-verified-status.png"))

        send(borrower, "I want to talk to a real person")
        # "queued" when no agent is on the desk, "joining" when one is (other tests may have used the desk)
        expect(borrower.locator("#messages .msg.system", has_text=re.compile("queued|joining"))).to_be_visible()
        expect(borrower.locator("#mode")).to_have_text("Agent")

        username, password = agent
        desk.goto(gateway_url + "/desk")
        log_in_to_desk(desk, username, password)
        item = desk.locator("#queue .item.waiting", has_text="request_human").first
        expect(item).to_be_visible()
        item.click()
        expect(desk.locator("#transcript .line.bot", has_text="days past due")).to_be_visible()
        expect(desk.locator("#account")).to_contain_text(who.loan_number)

        desk.click("#take")
        expect(borrower.locator("#messages .msg.system", has_text="has joined")).to_be_visible()
        desk.fill("#reply-text", "Hello Michael, I'm reviewing your dispute with you now.")
        desk.click("#reply-send")
        expect(borrower.locator("#messages .msg.agent", has_text="reviewing your dispute")).to_be_visible()
        send(borrower, "Thanks, I will wait for the outcome of the dispute")
        expect(desk.locator("#transcript .line.borrower", has_text="outcome of the dispute")).to_be_visible()
        desk.screenshot(path=str(ARTIFACTS / "02-desk-conversation.png"), full_page=True)

        desk.click("#handback-box summary")
        desk.fill("#handback-note", "We reply to your dispute by the date given; no payment is asked meanwhile")
        desk.click("#handback")
        expect(bot_says(borrower, "As agreed")).to_contain_text("no payment is asked meanwhile")
        expect(borrower.locator("#mode")).to_have_text("")

        bot_count = borrower.locator("#messages .msg.bot").count()
        send(borrower, "how much do I owe?")
        expect(borrower.locator("#messages .msg.bot").nth(bot_count)).to_be_visible()
        expect(bot_says(borrower, "days past due")).to_contain_text(who.loan_number)
        borrower.screenshot(path=str(ARTIFACTS / "03-borrower-after-handback.png"))
        desk.screenshot(path=str(ARTIFACTS / "04-desk-after-handback.png"), full_page=True)
    finally:
        borrower.close()
        desk.close()
