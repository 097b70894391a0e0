"""The policy lab over the ledger's database (on SQLite and PostgreSQL): its numbers for the
demo portfolio are those the API offers each demo borrower with the same hardship facts."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

from ledger.db.lab_queries import portfolio_batches
from ledger.db.session import create_engine
from ledger.domain import lab_rows
from ledger.domain.demo import DEMO_BORROWERS
from ledger.domain.lab import evaluate_loan
from ledger.scenario_file import load_scenarios
from ledger.services.lab import LabInputs, simulate
from ledger.web.keys import LEDGER

from .helpers import HARDSHIP, as_borrower


async def _api_offers(client) -> dict[str, dict]:
    """{loan number: the API's evaluation} for every demo loan the API evaluates."""
    out = {}
    for bkey, borrower in DEMO_BORROWERS.items():
        headers = await as_borrower(client, bkey, conversation_id=f"lab-{bkey}")
        for loan in borrower.loans:
            ln = loan.loan_number
            resp = await client.post(
                f"/api/v1/loans/{ln}/hardship-cases",
                headers=headers,
                json=HARDSHIP,
            )
            if resp.status != 201:
                continue
            case = await resp.json()
            resp = await client.post(
                f"/api/v1/loans/{ln}/evaluations", headers=headers, json={"hardship_case_id": case["case_id"]}
            )
            if resp.status == 201:
                out[ln] = await resp.json()
    return out


async def test_lab_numbers_for_the_demo_portfolio_match_the_api(client, demo, settings, tmp_path):
    api = await _api_offers(client)
    assert len(api) == sum(len(b.loans) for b in DEMO_BORROWERS.values())  # every demo loan
    ledger = client.app[LEDGER]
    today = ledger.today()
    policy = ledger.policy
    profiles = load_scenarios(None, policy)
    # Loan by loan: the same plans offered, with the same payments and waived amounts.
    engine = create_engine(settings.database_url)
    seen = {}
    try:
        async for batch in portfolio_batches(engine, batch_size=3):
            for row in batch:
                loan = lab_rows.loan_from_row(row)
                seen[loan.contract.loan_number] = evaluate_loan(loan, policy, policy, today, profiles)
    finally:
        await engine.dispose()
    assert set(api) <= set(seen)
    api_counts: Counter[tuple[str, str]] = Counter()
    for ln, ev in api.items():
        outcome = seen[ln]
        assert outcome.profile == "on file"
        for plan, mine in zip(ev["plans"], outcome.sides[0], strict=True):
            assert plan["plan_type"] == mine.plan_type
            assert (plan["offer"] is not None) == mine.offered, (ln, plan["plan_type"], plan["reasons"])
            if plan["offer"] is not None:
                api_counts[(plan["plan_type"], outcome.bucket)] += 1
                assert Decimal(plan["offer"]["payment_amount"]) == mine.payment
                assert Decimal(plan["offer"]["total_to_repay"]) == mine.total_to_repay
                w = plan["offer"]["waived"]
                assert Decimal(w["late_fees"]) == mine.waived_late_fees
                assert Decimal(w["penalty_interest"]) == mine.waived_penalty
                assert Decimal(w["interest"]) == mine.waived_interest
            else:
                assert mine.deciding == next(r["code"] for r in plan["reasons"])
    assert sum(api_counts.values()) > 0
    # The whole run: the report's affordable counts per plan and bucket are the API's.
    inputs = LabInputs(policy, policy, today, profiles, "default", "default", "default")
    report = await simulate(settings.database_url, inputs, tmp_path, workers=1, batch_size=4)
    assert report["loans"] == len(seen)
    for p in report["plans"]:
        for row in p["by_bucket"]:
            assert row["current"]["affordable"] == api_counts[(p["plan_type"], row["bucket"])]
            assert row["candidate"] == row["current"]
    assert report["changes"]["counts"] == []
    assert json.loads((tmp_path / "report.json").read_text())["loans"] == len(seen)
    # D6's deferral, accepted in M0 and broken, is the ledger's whole history: a kept rate of
    # 0 for deferrals in M0, so the estimate for them is 0, and no estimate elsewhere.
    ec = report["expected_collections"]
    assert ec["estimate"] is True and ec["note"] is None
    assert ec["history"] == [{"plan_type": "deferral", "bucket": "M0", "kept": 0, "settled": 1, "kept_rate": "0.0000"}]
    assert [(r["plan_type"], r["bucket"], r["current"]["expected"]) for r in ec["rows"]] == [("deferral", "M0", "0.00")]
