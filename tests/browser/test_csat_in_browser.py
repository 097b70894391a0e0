"""CSAT in real browsers: the bot says goodbye, the widget asks the borrower for a one-tap rating
in the conversation's language, the borrower taps 4 and is thanked (a reload keeps the thanks,
no second rating); the rating goes to the analytics stream, the consumer stores it in the
conversation's facts, and the analyst's overview shows the CSAT average and count."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import bot_says, log_in_to_desk, send

from conftest import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The browser stack with the gateway's events on a SQL stream of its own."""
    from gateway.events import StreamSettings

    tmp = tmp_path_factory.mktemp("csat-stack")
    s = Stack(tmp, events=StreamSettings("sql", db_url=f"sqlite+aiosqlite:///{tmp / 'events.sqlite3'}"))
    s.start()
    yield s
    s.stop()


async def _consume_and_add_an_analyst(stack: Stack) -> None:
    from gateway.agents import DeskAuth
    from ledger.db import analytics as store
    from ledger.db.session import create_engine, create_session_factory
    from ledger.services.analytics import consume_sql

    engine = create_engine(stack.database_url)
    stream = store.create_stream_engine(stack.events.db_url)
    try:
        sessions = create_session_factory(engine)
        assert await consume_sql(sessions, stream, "sql:browser-csat", once=True) >= 1
        await DeskAuth(sessions, 3600).create_agent("cara", AGENT_PASSWORD, "analyst", "Cara CSAT")
    finally:
        await stream.dispose()
        await engine.dispose()


def test_the_borrower_rates_the_conversation_and_the_overview_shows_it(stack, browser, artifacts):
    borrower = browser.new_page(viewport={"width": 420, "height": 760})
    try:
        borrower.goto(stack.gateway_url + "/chat?lang=en")
        borrower.wait_for_selector("#input")
        send(borrower, "bye")
        expect(bot_says(borrower, "Goodbye")).to_be_visible()
        card = borrower.locator("#messages .csat")
        expect(card).to_contain_text("How helpful was this conversation?")
        expect(card.locator("button[data-score]")).to_have_count(5)
        expect(card.locator('button[data-score="4"]')).to_have_attribute("aria-label", "4 – Good")
        borrower.screenshot(path=str(artifacts / "20-csat-asked.png"))
        card.locator('button[data-score="4"]').click()
        expect(card).to_contain_text("Thank you for your rating!")
        expect(card.locator("button")).to_have_count(0)
        borrower.screenshot(path=str(artifacts / "21-csat-rated.png"))
        borrower.reload()
        expect(borrower.locator("#messages .csat")).to_contain_text("Thank you for your rating!")
        expect(borrower.locator("#messages .csat button")).to_have_count(0)
    finally:
        borrower.close()

    stack.run(_consume_and_add_an_analyst(stack))
    analyst = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        analyst.goto(stack.gateway_url + "/insights")
        log_in_to_desk(analyst, "cara", AGENT_PASSWORD, lands_on=r"/insights$")
        csat = analyst.locator('#total tr[data-figure="csat_average"]')
        expect(csat.locator("td.value")).to_have_text("4.00 (1 人评分 / rated)")
        expect(csat.locator("td.definition")).to_contain_text("Average rating (1-5)")
        analyst.screenshot(path=str(artifacts / "22-insights-csat.png"), full_page=True)
    finally:
        analyst.close()
