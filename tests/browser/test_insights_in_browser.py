"""The insights page in a real browser: an analyst logs in at the desk's login, lands on
/insights and reads the overview (each figure with its definition) and the table by period;
filters change it; an agent is refused with a clear message."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk


def _events(sender: str, channel: str, language: str, start: float, steps: list[dict]) -> list[dict]:
    """A conversation's stream events as Rasa's broker publishes them."""
    return [
        {
            "sender_id": sender,
            "timestamp": start + i,
            "huanxin_index": i,
            "huanxin_event_id": f"{sender}-{i}",
            **({"metadata": {"channel": channel, "language": language}} if step["event"] == "user" else {}),
            **step,
        }
        for i, step in enumerate(steps)
    ]


def _user(intent: str, confidence: float = 0.9) -> dict:
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


async def _stored_conversations_and_an_analyst(database_url: str) -> None:
    from gateway.agents import DeskAuth
    from ledger.db.session import create_engine, create_session_factory
    from ledger.services.analytics import ingest_batch

    now = time.time() - 3600
    a = _events(
        "browser-insights-a",
        "web",
        "zh",
        now,
        [
            _user("ask_overdue_status"),
            {"event": "action", "name": "verification_form"},
            _user("inform"),
            _user("inform"),
            _user("inform"),
            {"event": "slot", "name": "verified", "value": True},
            _user("request_human"),
            {"event": "bot", "text": "...", "data": {"custom": {"handoff": {"reason": "request_human"}}}},
        ],
    )
    b = _events(
        "browser-insights-b",
        "wechat",
        "en",
        now,
        [_user("nlu_fallback", 0.2), {"event": "bot", "text": "...", "metadata": {"text_key": "utter_default"}}],
    )
    engine = create_engine(database_url)
    try:
        sessions = create_session_factory(engine)
        await ingest_batch(sessions, a + b)
        await DeskAuth(sessions, 3600).create_agent("ana", AGENT_PASSWORD, "analyst", "Ana Analyst")
    finally:
        await engine.dispose()


def test_an_analyst_reads_the_overview_and_an_agent_is_refused(stack, browser, artifacts):
    stack.run(_stored_conversations_and_an_analyst(stack.database_url))
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(stack.gateway_url + "/insights")
        expect(page).to_have_url(re.compile(r"/desk/login$"))
        log_in_to_desk(page, "ana", AGENT_PASSWORD, lands_on=r"/insights$")  # an analyst's desk is this page
        expect(page.locator("body[data-loaded=yes]")).to_have_count(1)
        expect(page.locator("#whoami")).to_contain_text("analyst")
        conversations = page.locator('#total tr[data-figure="conversations"]')
        expect(conversations.locator("td.value")).to_have_text("2")
        containment = page.locator('#total tr[data-figure="containment"]')
        expect(containment.locator("td.value")).to_have_text("50.0%")
        expect(containment.locator("td.definition")).to_contain_text("needed no person")
        escalation = page.locator('#total tr[data-figure="escalation_rate"]')
        expect(escalation.locator("td.definition")).to_contain_text("request_human 50.0%")
        expect(page.locator('#total tr[data-figure="fallback_rate"] td.value')).to_have_text("16.7%")
        duration = page.locator('#total tr[data-figure="median_duration_from_seconds"]')
        expect(duration.locator("td.value")).to_have_text("0 秒 / s – 15 秒 / s")  # 7 s and 0 s: the shorter middle
        expect(duration.locator("td.definition")).to_contain_text("first event to its last")
        expect(duration.locator("td.definition")).to_contain_text("时长中位数")
        expect(page.locator("#rows tbody tr")).to_have_count(2)  # zh/web and en/wechat
        expect(page.locator("#chart canvas").first).to_be_visible()  # ECharts, served by the gateway itself
        expect(page.locator("#chart")).to_have_attribute("data-periods", "1")
        funnel = page.locator("#funnel tbody")
        expect(funnel.locator('tr[data-step="started"] td').nth(1)).to_have_text("2")
        expect(funnel.locator('tr[data-step="verified"] td').nth(1)).to_have_text("1")
        expect(funnel.locator('tr[data-step="started"] td').nth(4)).to_have_text("50.0%")  # b stopped there
        # what the bot said last to b, in b's language (English), not its key alone
        expect(funnel.locator('tr[data-step="started"]')).to_contain_text("Sorry, I didn't get that")
        expect(funnel.locator('tr[data-step="started"]')).to_contain_text("utter_default, en")
        expect(page.locator("#funnel-chart canvas").first).to_be_visible()
        expect(page.locator('#nlu-total tr[data-figure="messages"] td.value')).to_have_text("6")
        expect(page.locator("#nlu-messages tbody tr")).to_have_count(1)  # b's fallback
        expect(page.locator("#nlu-messages tbody")).to_contain_text("nlu_fallback")
        linked = page.locator('#ledger-total tr[data-figure="linked"]')
        expect(linked.locator("td.value")).to_have_text("0 / 2")  # nobody verified with the ledger here
        expect(linked.locator("td.definition")).to_contain_text("links to a borrower")
        expect(page.locator('#ledger-total tr[data-figure="paid_within_7d"] td.definition')).to_contain_text(
            "at least 7 days ago"
        )
        assert "13800000001" not in page.content() and "1990-03-15" not in page.content()
        page.screenshot(path=str(artifacts / "10-insights-overview.png"), full_page=True)
        assert all(url.startswith(stack.gateway_url) for url in requested), requested  # no CDN

        page.select_option("#language", "en")
        page.click("#filters button[type=submit]")
        expect(conversations.locator("td.value")).to_have_text("1")
        expect(page.locator("#rows tbody tr")).to_have_count(1)
        # every table downloads as CSV with the filters shown (here: English only)
        for table, first in (("overview", "period,language,channel"), ("funnel", "language,channel,step"),
                             ("nlu_languages", "language,messages"), ("nlu_intents", "language,intent"),
                             ("nlu_confused", "language,intent"), ("nlu_messages", "conversation_id"),
                             ("ledger", "by,group")):  # fmt: skip
            with page.expect_download() as download:
                page.click(f'a[data-csv="{table}"]')
            text = download.value.path().read_text(encoding="utf-8")
            assert text.startswith(first), (table, text[:80])
            assert "13800000001" not in text and "browser-insights-a" not in text, table  # en only: not a
        with page.expect_download() as download:
            page.click("#review-csv")
        review = download.value.path().read_text(encoding="utf-8").splitlines()
        assert review[0].startswith("conversation_id,started_at") and len(review) == 2
        assert "browser-insights-b" in review[1]

        page.fill("#since", "2026-12-31")
        page.fill("#until", "2026-01-01")
        page.click("#filters button[type=submit]")
        expect(page.locator("#error")).to_contain_text("since must not be after until")
    finally:
        page.context.close()

    agent = browser.new_context().new_page()
    try:
        agent.goto(stack.gateway_url + "/desk")
        log_in_to_desk(agent, "li.na", AGENT_PASSWORD)
        response = agent.goto(stack.gateway_url + "/insights")
        assert response is not None and response.status == 403
        expect(agent.locator("body")).to_contain_text("for the analyst role")
    finally:
        agent.context.close()
