"""Review and annotation in a real browser: an analyst filters the review list, opens a
conversation whose identity answers show only as such, labels a misread message with the right
intent, marks the conversation reviewed, and downloads the corrections as Rasa NLU data that
hold the labelled text and no identity answer; `ledger export-annotations` writes the same label
into bot/data/nlu/zh/reviewed.yml; the filter's link opens the same list."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import yaml
from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk

REPO = Path(__file__).resolve().parents[2]
PHONE, DOB, NATIONAL_ID = "13800000001", "1990-03-15", "110101199003151234"


def _events(sender: str, start: float, steps: list[dict]) -> list[dict]:
    return [
        {
            "sender_id": sender,
            "timestamp": start + i,
            "huanxin_index": i,
            "huanxin_event_id": f"{sender}-{i}",
            **({"metadata": {"channel": "web", "language": "zh"}} if step["event"] == "user" else {}),
            **step,
        }
        for i, step in enumerate(steps)
    ]


def _user(intent: str, text: str, confidence: float = 0.9) -> dict:
    parse = {"text": text, "intent": {"name": intent, "confidence": confidence}, "intent_ranking": []}
    return {"event": "user", "text": text, "parse_data": parse}


def _slot(name: str, value) -> dict:
    return {"event": "slot", "name": name, "value": value}


async def _a_conversation_and_an_analyst(database_url: str) -> None:
    from gateway.agents import DeskAuth
    from ledger.db.session import create_engine, create_session_factory
    from ledger.services.analytics import ingest_batch

    steps = [
        _user("ask_overdue_status", "我欠多少钱"),
        {"event": "action", "name": "verification_form"},
        _slot("requested_slot", "identity_phone"),
        _user("inform", PHONE),
        _slot("requested_slot", "identity_dob"),
        _user("inform", DOB),
        _slot("requested_slot", None),
        _slot("verified", True),
        _user("ask_fees", "我下个月才能还", 0.42),
        {"event": "bot", "text": "滞纳金是…", "metadata": {"text_key": "fees_explained"}},
        _user("nlu_fallback", f"我的身份证 {NATIONAL_ID} 对吗", 0.2),
    ]
    engine = create_engine(database_url)
    try:
        sessions = create_session_factory(engine)
        await ingest_batch(sessions, _events("browser-review-a", time.time() - 3600, steps))
        await DeskAuth(sessions, 3600).create_agent("rita", AGENT_PASSWORD, "analyst", "Rita Review")
    finally:
        await engine.dispose()


def _bot_copy(tmp_path: Path) -> Path:
    """The bot's NLU training data and evaluation sets, copied (the export reads both)."""
    bot = tmp_path / "bot"
    shutil.copytree(REPO / "bot" / "data" / "nlu", bot / "data" / "nlu")
    (bot / "nlu_eval").mkdir()
    for path in (REPO / "bot" / "nlu_eval").glob("*.yml"):
        shutil.copy(path, bot / "nlu_eval" / path.name)
    (bot / "data" / "nlu" / "zh" / "reviewed.yml").unlink(missing_ok=True)
    return bot


async def _export_to(database_url: str, bot: Path) -> dict:
    from ledger.db.session import create_engine, create_session_factory
    from ledger.desk_door import DeskDoor
    from ledger.nlu_export import export_annotations

    engine = create_engine(database_url)
    try:
        return await export_annotations(DeskDoor(create_session_factory(engine)), bot)
    finally:
        await engine.dispose()


def test_an_analyst_reviews_labels_and_exports(stack, browser, artifacts, tmp_path):
    stack.run(_a_conversation_and_an_analyst(stack.database_url))
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(stack.gateway_url + "/insights")
        log_in_to_desk(page, "rita", AGENT_PASSWORD, lands_on=r"/insights$")
        expect(page.locator("#review-list tbody tr")).to_have_count(1)
        page.select_option("#r-outcome", "none")
        page.select_option("#r-fallback", "yes")
        page.click("#review-filters button[type=submit]")
        expect(page.locator("#review-count")).to_contain_text("1 ")
        page.click('#review-list button[data-conversation="browser-review-a"]')

        messages = page.locator("#t-messages")
        expect(messages.locator("li.user")).to_have_count(5)
        expect(messages.locator('li.user[data-turn="2"] .text')).to_have_text("[identity answer]")
        expect(messages.locator('li.user[data-turn="3"] .text')).to_have_text("[identity answer]")
        expect(messages.locator('li.user[data-turn="5"] .text')).to_have_text("我的身份证 [redacted] 对吗")
        expect(messages.locator('li.user[data-turn="2"] form')).to_have_count(0)  # an identity answer is not labelled
        content = page.content()
        for secret in (PHONE, DOB, NATIONAL_ID):
            assert secret not in content

        misread = messages.locator('li.user[data-turn="4"]')
        expect(misread.locator(".meta")).to_contain_text("ask_fees 0.42")
        misread.locator("select").select_option("promise_to_pay")
        misread.locator("input").fill("wrong_intent")
        misread.locator("button").click()
        expect(messages.locator('li.user[data-turn="4"] .annotation')).to_contain_text("promise_to_pay #wrong_intent")
        page.check("#t-reviewed")
        page.fill("#t-note", f"回电 {PHONE}")
        page.click("#t-review button[type=submit]")
        expect(page.locator("#t-status")).to_contain_text("Saved")
        expect(page.locator("#review-list tbody tr td").nth(9)).to_contain_text("yes")
        page.screenshot(path=str(artifacts / "11-insights-review.png"), full_page=True)

        with page.expect_download() as download:
            page.click("#export-zh")
        text = download.value.path().read_text(encoding="utf-8")
        for secret in (PHONE, DOB, NATIONAL_ID):
            assert secret not in text
        assert yaml.safe_load(text)["nlu"] == [{"intent": "promise_to_pay", "examples": "- 我下个月才能还\n"}]

        # the command the next training's data comes from writes the same label into reviewed.yml
        bot = _bot_copy(tmp_path)
        report = stack.run(_export_to(stack.database_url, bot))
        reviewed = bot / "data" / "nlu" / "zh" / "reviewed.yml"
        assert report["zh"]["examples"] == 1 and report["zh"]["file"] == str(reviewed)
        written = reviewed.read_text(encoding="utf-8")
        assert yaml.safe_load(written)["nlu"] == [{"intent": "promise_to_pay", "examples": "- 我下个月才能还\n"}]
        for secret in (PHONE, DOB, NATIONAL_ID):
            assert secret not in written

        with page.expect_download() as csv_download:
            page.click("#facts-csv")
        facts = csv_download.value.path().read_text(encoding="utf-8")
        assert "browser-review-a" in facts and PHONE not in facts

        link = page.get_attribute("#review-link", "href")
        assert link and "outcome=none" in link and "fallback=yes" in link
        shared = context.new_page()
        shared.goto(stack.gateway_url + "/insights" + link)
        expect(shared.locator("#r-outcome")).to_have_value("none")
        expect(shared.locator("#review-list tbody tr")).to_have_count(1)
        shared.select_option("#r-reviewed", "no")
        shared.click("#review-filters button[type=submit]")
        expect(shared.locator("#review-list tbody tr")).to_have_count(0)
        expect(shared).to_have_url(re.compile(r"/insights"))
    finally:
        context.close()
