"""Issue 9, offers in the web chat, against the running stack: after the hardship questions the
plans appear as cards (the plan's figures and a choose button each) instead of the numbered
text other channels get; a card's button chooses its plan, whose summary, the rule and the
yes/no follow; declining records nothing. D1 declines (test_verify_status_hardship_plan_accept
accepts later in the run). Screenshot in test-artifacts/e2e-browser/."""

from __future__ import annotations

import pytest
from stack_helpers.chromium_pages import bot_says, launched_chromium, send
from stack_helpers.e2e_stack import DEMO, REPO

ARTIFACTS = REPO / "test-artifacts" / "e2e-browser"
TIMEOUT_MS = 20000  # a turn through gateway, Rasa, action server and ledger


@pytest.fixture(scope="module")
def browser():
    yield from launched_chromium()


def test_plans_are_cards_in_the_web_chat_and_a_card_chooses(gateway_url, browser, ledger):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    who = DEMO["D1"]
    page = browser.new_page(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    try:
        page.goto(gateway_url + "/chat?lang=zh")
        page.wait_for_selector("#input")
        send(page, "我欠多少钱")
        expect(bot_says(page, "手机号")).to_be_visible()
        for answer, next_question in ((who.phone, "出生日期"), (who.dob, "身份证"), (who.id_last4, "身份已核实")):
            send(page, answer)
            expect(bot_says(page, next_question)).to_be_visible()
        for answer, next_question in (
            ("我最近失业了，暂时还不上", "暂时"),
            ("暂时的", "收入"),
            ("每月八千左右", "开销"),
            ("3千", "其他贷款"),
        ):
            send(page, answer)
            expect(bot_says(page, next_question)).to_be_visible()
        send(page, "没有")

        cards = page.locator("#messages .msg.bot.with-cards .card")
        expect(cards).to_have_count(3)
        expect(cards.nth(2).locator("h3")).to_have_text("3. 延长还款期限")
        for label in ("每期还款", "期数", "时间", "共还", "比现在"):
            expect(cards.nth(2).locator("dt", has_text=label)).to_have_count(1)
        page.screenshot(path=str(ARTIFACTS / "offer-cards.png"), full_page=True)

        cards.nth(2).locator("button").click()
        summary = bot_says(page, "您选择了「延长还款期限」")
        expect(summary).to_be_visible()
        expect(bot_says(page, "该计划即失效")).to_be_visible()
        question = bot_says(page, "确认接受这个方案吗")
        expect(question).to_be_visible()
        expect(cards.nth(0).locator("button")).to_be_disabled()  # a choice made is not made twice
        question.locator(".buttons button", has_text="不用了").click()
        expect(bot_says(page, "方案没有生效")).to_be_visible()
    finally:
        page.close()

    api = ledger.verify(who)
    assert api.get(f"/loans/{who.loan_number}/arrangements")["arrangements"] == []
