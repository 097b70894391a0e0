"""The policy lab page in a real browser: a supervisor logs in, uploads a candidate policy, the
lab runs over the demo portfolio, the page shows the loans that lose the fee waiver and links
the report; applying makes it the live policy file (the old one kept)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk

import ledger
from ledger.policy_file import DEFAULT_POLICY_FILE

DEFAULT_POLICY = (Path(ledger.__file__).parent / DEFAULT_POLICY_FILE).read_text(encoding="utf-8")


def test_a_supervisor_runs_the_lab_and_applies_the_candidate(stack, browser, artifacts, tmp_path, monkeypatch):
    live = tmp_path / "live" / "policy.yaml"
    live.parent.mkdir()
    live.write_text(DEFAULT_POLICY, encoding="utf-8")
    monkeypatch.setenv("LEDGER_POLICY_FILE", str(live))
    monkeypatch.setenv("GATEWAY_POLICY_LAB_DIR", str(tmp_path / "runs"))
    candidate = tmp_path / "candidate.yaml"
    assert "  fee_waiver:\n    min_dpd: 1\n" in DEFAULT_POLICY
    candidate.write_text(
        DEFAULT_POLICY.replace("  fee_waiver:\n    min_dpd: 1\n", "  fee_waiver:\n    min_dpd: 30\n"), "utf-8"
    )
    page = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
    try:
        page.goto(stack.gateway_url + "/desk/login")
        log_in_to_desk(page, "boss", AGENT_PASSWORD)
        page.goto(stack.gateway_url + "/insights/policy-lab")
        expect(page.locator("#whoami")).to_contain_text("supervisor")
        page.set_input_files("#file", str(candidate))
        page.click("#run")
        expect(page.locator("#summary")).to_contain_text("lose at least one plan", timeout=120_000)
        expect(page.locator("#summary")).to_contain_text("fee_waiver loses (dpd_too_low)")
        page.screenshot(path=str(artifacts / "policy-lab-page.png"), full_page=True)
        href = page.locator("#report").get_attribute("href")
        assert href and re.fullmatch(r"/insights/policy-lab/[0-9a-f]{16}/report\.html", href)
        report = page.context.new_page()
        report.goto(stack.gateway_url + href)
        expect(report.locator("h1")).to_have_text("Policy lab report")
        report.close()
        page.click("#apply")
        expect(page.locator("#message")).to_contain_text("Applied")
    finally:
        page.close()
    assert live.read_bytes() == candidate.read_bytes()
    [kept] = (live.parent / "policy-history").iterdir()
    assert kept.read_text("utf-8") == DEFAULT_POLICY
