"""The supervisors' outbound page in a real browser: a supervisor logs in, sees today's plan of
the demo portfolio (D7's reminders held by its open dispute, whatever the hour), uploads a bad
candidate cadence file (refused with the key start-up would name, nothing planned) and then a
good one (its plan beside the live one's)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk

import ledger

CADENCE = (Path(ledger.__file__).parent / "default_cadence.yaml").read_text(encoding="utf-8")


def test_a_supervisor_reads_the_plan_and_dry_runs_a_cadence(stack, browser, artifacts, tmp_path):
    bad = tmp_path / "bad-cadence.yaml"
    bad.write_text(CADENCE.replace("channels: [sms, web]", "channels: [sms, pigeon]", 1), "utf-8")
    good = tmp_path / "candidate-cadence.yaml"
    good.write_text(CADENCE.replace("  before_due:\n", "  before_due:\n    enabled: false\n", 1), "utf-8")
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    try:
        page.goto(stack.gateway_url + "/desk/login")
        log_in_to_desk(page, "boss", AGENT_PASSWORD)
        page.goto(stack.gateway_url + "/insights/outbound")
        expect(page.locator("#whoami")).to_contain_text("supervisor")
        expect(page.locator("#plan-totals")).to_contain_text("held back")
        expect(page.locator("#held-by-rule")).to_contain_text("dispute_open")
        expect(page.locator("#outcomes")).to_contain_text("total")
        page.set_input_files("#file", str(bad))
        page.click("#run")
        expect(page.locator("#message")).to_contain_text(
            "Refused: reasons.before_due.channels[1]: 'pigeon' is not a channel"
        )
        expect(page.locator("#compare")).to_be_hidden()
        page.set_input_files("#file", str(good))
        page.click("#run")
        expect(page.locator("#message")).to_contain_text("nothing sent", timeout=60_000)
        expect(page.locator("#compare")).to_contain_text("held: dispute_open")
        page.screenshot(path=str(artifacts / "outbound-page.png"), full_page=True)
    finally:
        page.close()
