"""The desk's account panel in headless Chromium (issue 13): a verified borrower's account as
labelled sections and tables with bilingual headers (schedule with due, paid and outstanding per
instalment; payments; arrangements; promises; disputes; payment traces), figures as the ledger
derives them, no id, no field name, no raw JSON, nothing wider than the pane, and the page still
meets the accessibility basics. Screenshot 51- in test-artifacts/browser/."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk, open_chat, verify_d1_and_ask_for_a_person

from ledger.domain.account import derive_status
from ledger.domain.demo import demo_loans
from ledger.policy_file import load_policy

AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text(encoding="utf-8")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
RAW = re.compile(r"\b[a-z]+_[a-z_]+\b|[{}\[\]\"]")  # a field name (opted_out_channels...) or JSON

SCHEDULE_HEADERS = [
    "期 / No.",
    "到期日 / Due date",
    "应还 / Amount due",
    "已还 / Paid",
    "未还 / Outstanding",
    "状态 / State",
    "逾期天数 / DPD",
    "费用 / Charges",
]


def d1_status():
    """D1's status today as the ledger's own derivation gives it (the demo's inputs, the policy)."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    contract, payments, arrangements = demo_loans(today)["D1"]
    return derive_status(contract, payments, arrangements, today, load_policy())


def test_the_account_panel_is_tables_with_the_ledgers_figures(stack, browser, artifacts):
    chat = open_chat(browser, stack.gateway_url)
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        verify_d1_and_ask_for_a_person(chat)
        desk.goto(stack.gateway_url + "/desk")
        log_in_to_desk(desk, "li.na", AGENT_PASSWORD)
        desk.locator("#queue .item.waiting").first.click()
        desk.click("#take")
        account = desk.locator("#account")
        expect(account.locator(".acct-loan-title")).to_have_text("HX0000000001 · 分付 / Fenfu")

        # the loan's header: DPD, bucket and the figures to collect
        status = d1_status()
        facts = account.locator(".acct-loan .acct-facts").first
        expect(facts).to_contain_text("逾期天数 / DPD15 (M1)")
        expect(facts).to_contain_text(f"逾期总额 / Overdue{status.overdue.total} CNY")
        expect(facts).to_contain_text(f"结清金额 / Payoff{status.payoff_amount}")

        # the schedule: a real table, headed in both languages, one row per instalment
        schedule = account.get_by_role("table", name="还款计划 / Schedule")
        headers = schedule.locator("thead th")
        expect(headers).to_have_text(SCHEDULE_HEADERS)
        assert headers.evaluate_all("hs => hs.map(h => h.scope)") == ["col"] * len(SCHEDULE_HEADERS)
        rows = schedule.locator("tbody tr")
        expect(rows).to_have_count(12)
        first, fourth = status.instalments[0], status.instalments[3]
        expect(rows.nth(0).locator("th, td")).to_have_text(
            ["1", first.due_date.isoformat(), str(first.amount), str(first.paid), "0.00", "已还 / paid", "—", "—"]
        )
        overdue = rows.nth(3)
        expect(overdue).to_have_class(re.compile(r"\binst-overdue\b"))  # marked, and said in words
        cells = overdue.locator("th, td")
        expect(cells.nth(1)).to_have_text(fourth.due_date.isoformat())
        expect(cells.nth(2)).to_have_text(str(fourth.amount))
        expect(cells.nth(3)).to_have_text("0.00")
        expect(cells.nth(4)).to_have_text(str(fourth.outstanding))
        expect(cells.nth(5)).to_have_text("逾期 / overdue")
        expect(cells.nth(6)).to_have_text("15")
        expect(account.locator("tr.inst-overdue")).to_have_count(1)

        # the other sections: payments as a table, the empty ones in one line each
        payments = account.get_by_role("table", name="还款记录 / Payments")
        expect(payments.locator("thead th")).to_have_text(
            ["收款日 / Received on", "金额 / Amount", "渠道 / Channel", "参考号 / Reference", "入账时间 / Recorded"]
        )
        expect(payments.locator("tbody tr")).to_have_count(3)
        expect(payments.locator("tbody tr").first).to_contain_text("银行转账 / bank transfer")
        titles = account.locator(".acct-title")
        for title in ("还款方案 / Arrangements", "还款承诺 / Promises", "争议 / Disputes", "付款查询 / Payment traces"):
            expect(titles.filter(has_text=title)).to_have_count(1)
        expect(account.locator(".acct-none")).not_to_have_count(0)
        expect(account).to_contain_text("Asia/Shanghai")

        # nothing an agent should not read, nothing wider than the pane
        text = account.inner_text()
        assert not UUID.search(text), text
        assert not RAW.findall(text), RAW.findall(text)
        assert "opted_out_channels" not in text and "borrower_id" not in text
        widths = desk.evaluate(
            """() => { const pane = document.querySelector('.account-pane');
                       return [pane.scrollWidth, pane.clientWidth]; }"""
        )
        assert widths[0] <= widths[1], widths
        problems = desk.evaluate(AUDIT)
        assert problems == [], "\n".join(problems)
        desk.evaluate("document.querySelector('#account .acct-loan').scrollIntoView()")  # the loan at the top
        desk.screenshot(path=str(artifacts / "51-desk-account-panel.png"))
    finally:
        desk.context.close()
        chat.close()
