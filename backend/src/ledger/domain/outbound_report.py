"""The supervisors' view of outbound reminders (docs/outbound.md, "For the risk team"): a plan
counted by reason, channel and hold rule, and what happened to the reminders sent. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .contact_plan import ContactPlan

FOLLOW_UP_WINDOW = timedelta(days=7)
FOLLOW_UPS = ("payment", "promise", "plan")


def plan_counts(plan: ContactPlan) -> dict[str, object]:
    """How many contacts the plan sends, by reason and by channel, and how many it holds, by rule
    (and by reason and rule)."""
    return {
        "contacts": len(plan.contacts),
        "held": len(plan.held),
        "by_reason": dict(sorted(Counter(c.reason for c in plan.contacts).items())),
        "by_channel": dict(sorted(Counter(c.channel for c in plan.contacts).items())),
        "held_by_rule": dict(sorted(Counter(h.rule for h in plan.held).items())),
        "held_by_reason_rule": [
            {"reason": reason, "rule": rule, "count": n}
            for (reason, rule), n in sorted(Counter((h.reason, h.rule) for h in plan.held).items())
        ],
    }


@dataclass(frozen=True)
class SentContact:
    """One row of the contact history: its loan, status and delivery time, and its reference."""

    loan_id: str
    reason: str
    channel: str
    status: str
    attempts: int
    delivered_at: datetime | None
    ref: str


def outcomes(
    sent: Iterable[SentContact],
    answered_refs: Iterable[str],
    follow_ups: Mapping[str, Iterable[tuple[str, datetime]]],
) -> dict[str, object]:
    """Sent (attempted at least once), delivered, answered (a conversation opened from its
    link) and, per reason, what followed on the loan within 7 days of delivery: a payment, a
    promise or an accepted plan (``follow_ups``: loan id -> (kind, when))."""
    answered = set(answered_refs)
    rows = list(sent)
    by_reason: dict[str, Counter[str]] = {}
    for c in rows:
        counts = by_reason.setdefault(c.reason, Counter())
        counts["sent"] += c.attempts > 0
        if c.delivered_at is None:
            continue
        counts["delivered"] += 1
        counts["answered"] += c.ref in answered
        kinds = {
            k for k, at in follow_ups.get(c.loan_id, ()) if c.delivered_at <= at < c.delivered_at + FOLLOW_UP_WINDOW
        }
        for kind in FOLLOW_UPS:
            counts[f"followed_by_{kind}"] += kind in kinds
        counts["followed_by_any"] += bool(kinds)
    keys = ("sent", "delivered", "answered", *(f"followed_by_{k}" for k in FOLLOW_UPS), "followed_by_any")
    table = {reason: {k: c[k] for k in keys} for reason, c in sorted(by_reason.items())}
    total = {k: sum(row[k] for row in table.values()) for k in keys}
    return {"by_reason": table, "total": total}


__all__ = ["FOLLOW_UPS", "FOLLOW_UP_WINDOW", "SentContact", "outcomes", "plan_counts"]
