"""The policy lab's report.html renders in headless Chromium: a plain page with the tables,
the gains by deciding rule and its bar chart, no script and no request outside the file."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

from ledger.domain.account import LoanContract
from ledger.domain.lab import LabLoan, LabReport, changes_of, evaluate_loan
from ledger.domain.relief import HardshipFacts
from ledger.policy_file import load_policy
from ledger.scenario_file import load_scenarios
from ledger.services.lab import LabInputs, build_report, render_html

AS_OF = date(2026, 11, 25)


def _loan(i: int, dpd: int) -> LabLoan:
    first_due = AS_OF - timedelta(days=dpd)
    disbursed = date(first_due.year - (first_due.month == 1), (first_due.month - 2) % 12 + 1, first_due.day)
    contract = LoanContract.create(f"HXLAB{i:04d}", Decimal("12000.00"), Decimal("0.18"), 12, disbursed)
    facts = None if i % 2 else HardshipFacts("job_loss", "temporary", Decimal("9000"), Decimal("3000"), Decimal("0"))
    return LabLoan(contract, (), (), facts)


def test_the_report_page_renders(browser, artifacts, tmp_path):
    policy = load_policy()
    fw = dataclasses.replace(policy.plans.fee_waiver, min_dpd=30)
    current = dataclasses.replace(policy, plans=dataclasses.replace(policy.plans, fee_waiver=fw))
    profiles = load_scenarios(None, policy)
    report, changes = LabReport(), []
    for i, dpd in enumerate((0, 5, 12, 20, 28, 35, 45, 90, 130)):
        outcome = evaluate_loan(_loan(i, dpd), current, policy, AS_OF, profiles)
        report.add(outcome)
        changes.extend(changes_of(outcome))
    inputs = LabInputs(current, policy, AS_OF, profiles, "fee waiver from 30 DPD", "default_policy.yaml", "default")
    data = build_report(report, changes, inputs, [b.name for b in policy.buckets])
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(data), encoding="utf-8")
    assert "<script" not in page_file.read_text(encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(page_file.as_uri())
        assert page.locator("h1").inner_text() == "Policy lab report"
        assert page.locator("h3", has_text="fee_waiver").is_visible()
        gains = page.locator("table", has_text="deciding rule").locator("tbody tr")
        assert gains.count() == 1
        assert gains.first.inner_text().split("\t") == ["fee_waiver", "gains", "dpd_too_low", str(len(changes))]
        assert page.locator(".bars .fill").count() == 1
        page.screenshot(path=str(artifacts / "policy-lab-report.png"), full_page=True)
    finally:
        page.close()
    assert errors == []
    assert all(u.startswith("file://") for u in requests)
