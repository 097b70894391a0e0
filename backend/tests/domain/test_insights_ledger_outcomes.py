"""Conversations joined to what the borrower then did in the ledger (pure:
ledger/domain/ledger_outcomes.py): promises made and kept, arrangements accepted and kept or
broken, payments within 7 and 30 days, cure within 30 days; by bucket and plan type. Amounts
are exact and given as strings; a window not over yet is not counted."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ledger.domain.ledger_outcomes import DEFINITIONS, FollowUp, ledger_outcomes

TODAY = date(2026, 11, 30)


def follow(day: date, **kw) -> FollowUp:
    base = {"conversation_id": f"c-{day}", "day": day, "bucket": "M1", "plan_type": None}
    return FollowUp(**{**base, **kw})


ROWS = [
    # 40 days ago: paid 100.10 after 3 days and 0.20 after 20; promise kept; cured by day 30
    follow(
        date(2026, 10, 21),
        payments=((date(2026, 10, 24), Decimal("100.10")), (date(2026, 11, 10), Decimal("0.20"))),
        promises=("kept",),
        past_due=True,
        cured_by_30=True,
    ),
    # 10 days ago: paid nothing yet; a deferral accepted and then broken; 30-day window still open
    follow(
        date(2026, 11, 20),
        bucket="M2",
        arrangements=(("deferral", "broken"),),
        promises=("broken", "open"),
        past_due=True,
        cured_by_30=None,
    ),
    # 2 days ago: paid today; neither window over
    follow(date(2026, 11, 28), payments=((date(2026, 11, 30), Decimal("50.00")),), bucket="M2"),
]


def test_payments_within_7_and_30_days_count_only_windows_that_are_over():
    total = ledger_outcomes(ROWS, TODAY)["total"]
    assert total["conversations"] == 3
    assert total["paid_within_7d"] == {"eligible": 2, "paid": 1, "share": 0.5, "amount": "100.10"}
    assert total["paid_within_30d"] == {"eligible": 1, "paid": 1, "share": 1.0, "amount": "100.30"}


def test_promises_and_arrangements():
    total = ledger_outcomes(ROWS, TODAY)["total"]
    assert total["promises"] == {"made": 3, "kept": 1, "broken": 1, "open": 1, "kept_share": 0.5}
    assert total["arrangements"] == {"accepted": 1, "kept": 0, "broken": 1, "active": 0, "broken_share": 1.0}


def test_cure_within_30_days():
    total = ledger_outcomes(ROWS, TODAY)["total"]
    assert total["cured_within_30d"] == {"eligible": 1, "cured": 1, "share": 1.0}


def test_by_bucket_and_plan_type():
    result = ledger_outcomes(ROWS, TODAY)
    assert {b["bucket"]: b["conversations"] for b in result["by_bucket"]} == {"M1": 1, "M2": 2}
    plans = {p["plan_type"]: p for p in result["by_plan_type"]}
    assert set(plans) == {"deferral", "none"}
    assert plans["deferral"]["arrangements"]["broken"] == 1


def test_nothing_linked_is_no_figure():
    total = ledger_outcomes([], TODAY)["total"]
    assert total["paid_within_7d"] == {"eligible": 0, "paid": 0, "share": None, "amount": "0.00"}
    assert total["promises"]["kept_share"] is None


def test_every_figure_is_defined():
    for name in ("paid_within_7d", "paid_within_30d", "promises", "arrangements", "cured_within_30d", "linked"):
        assert DEFINITIONS[name]["en"] and DEFINITIONS[name]["zh"]
