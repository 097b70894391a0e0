"""The supervisors' outbound figures (ledger.domain.outbound_report): what counts as sent,
delivered, answered and followed within 7 days of delivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.domain.outbound_report import SentContact, outcomes

AT = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)


def contact(loan: str, ref: str, status: str = "delivered", attempts: int = 1, reason: str = "before_due"):
    return SentContact(loan, reason, "sms", status, attempts, AT if status == "delivered" else None, ref)


def test_only_what_follows_delivery_within_7_days_counts():
    sent = [
        contact("L1", "r1"),
        contact("L2", "r2"),
        contact("L3", "r3", status="failed"),
        contact("L4", "r4", status="planned", attempts=0, reason="dpd_milestone"),
    ]
    follow = {
        "L1": [("promise", AT + timedelta(days=6, hours=23)), ("payment", AT - timedelta(minutes=1))],
        "L2": [("plan", AT + timedelta(days=7))],  # a week later to the second: too late
        "L3": [("payment", AT + timedelta(hours=1))],  # never delivered: nothing follows it
    }
    result = outcomes(sent, ["r1", "r3", "r9"], follow)
    assert result["by_reason"]["before_due"] == {
        "sent": 3,
        "delivered": 2,
        "answered": 1,
        "followed_by_payment": 0,
        "followed_by_promise": 1,
        "followed_by_plan": 0,
        "followed_by_any": 1,
    }
    assert result["by_reason"]["dpd_milestone"]["sent"] == 0
    assert result["total"]["sent"] == 3 and result["total"]["answered"] == 1
