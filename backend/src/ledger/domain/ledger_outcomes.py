"""What borrowers did in the ledger after a conversation (pure: no I/O, exact money).

The ledger links a conversation to a borrower when the borrower verified in it (or an
escalation named them). For each such conversation the caller gathers a `FollowUp`: the day
it ended (business time zone), the borrower's worst bucket that day, the borrower's payments,
the states of the promises made and the arrangements accepted on the conversation's days, and
whether a borrower past due that day was current 30 days later. From them, per group:
payments within 7 and 30 days, promises kept, arrangements kept or broken, cure within 30
days. A window that is not over yet (the day plus N days is after today) is left out of its
figure, so a recent conversation never counts as "did not pay".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from .insights import rate
from .money import ZERO

WINDOWS = (7, 30)
CENT = Decimal("0.01")

DEFINITIONS: dict[str, dict[str, str]] = {
    "linked": {
        "en": "Conversations the ledger links to a borrower (verified in it, or named by its escalation).",
        "zh": "账本能对应到客户的会话（会话中核实了身份，或转人工时指明了客户）。",
    },
    "paid_within_7d": {
        "en": (
            "Of the linked conversations that ended at least 7 days ago, the share whose borrower paid "
            "anything from the day of the conversation to 7 days after, and how much in all."
        ),
        "zh": "结束已满 7 天的会话中，客户在会话当天至 7 天内有还款的占比，及还款总额。",
    },
    "paid_within_30d": {
        "en": "The same over 30 days, of the linked conversations that ended at least 30 days ago.",
        "zh": "同上，按 30 天计，只算结束已满 30 天的会话。",
    },
    "promises": {
        "en": (
            "Promises to pay made on the days of the conversation, by their state today: kept (paid in full "
            "by the promised date), broken (the date passed), open; kept share = kept / (kept + broken)."
        ),
        "zh": "会话期间作出的还款承诺按今天的状态统计：已兑现、已违约、未到期；兑现率 = 兑现 /（兑现 + 违约）。",
    },
    "arrangements": {
        "en": (
            "Plans accepted on the days of the conversation, by their state today: kept (paid in full), "
            "broken (an instalment missed), active; broken share = broken / accepted."
        ),
        "zh": "会话期间接受的还款方案按今天的状态统计：已还清、已违约、进行中；违约率 = 违约 / 接受。",
    },
    "cured_within_30d": {
        "en": (
            "Of the borrowers past due on the day of a conversation that ended at least 30 days ago, "
            "the share with no day past due 30 days later."
        ),
        "zh": "会话当天已逾期、且会话结束已满 30 天的客户中，30 天后逾期天数回到 0 的占比。",
    },
}


@dataclass(frozen=True)
class FollowUp:
    conversation_id: str
    day: date  # the day the conversation ended, in the business time zone
    bucket: str | None  # the borrower's worst bucket that day
    plan_type: str | None  # the plan the conversation's facts say was accepted
    payments: tuple[tuple[date, Decimal], ...] = ()  # (received on, amount) on the borrower's loans
    promises: tuple[str, ...] = ()  # states today of the promises made on the conversation's days
    arrangements: tuple[tuple[str, str], ...] = ()  # (plan type, state today) accepted on those days
    past_due: bool = False  # days past due > 0 on `day`
    cured_by_30: bool | None = None  # current 30 days later (None: not past due, or not 30 days yet)


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def _paid_within(rows: Sequence[FollowUp], days: int, today: date) -> dict[str, Any]:
    eligible = [r for r in rows if r.day + timedelta(days=days) <= today]
    paid = 0
    amount = ZERO
    for r in eligible:
        inside = [a for on, a in r.payments if r.day <= on <= r.day + timedelta(days=days)]
        if inside:
            paid += 1
            amount += sum(inside, ZERO)
    return {"eligible": len(eligible), "paid": paid, "share": rate(paid, len(eligible)), "amount": _money(amount)}


def _figures(rows: Sequence[FollowUp], today: date) -> dict[str, Any]:
    promises = [state for r in rows for state in r.promises]
    kept, broken = promises.count("kept"), promises.count("broken")
    plans = [state for r in rows for _, state in r.arrangements]
    cure = [r for r in rows if r.past_due and r.cured_by_30 is not None]
    cured = sum(1 for r in cure if r.cured_by_30)
    return {
        "conversations": len(rows),
        **{f"paid_within_{n}d": _paid_within(rows, n, today) for n in WINDOWS},
        "promises": {
            "made": len(promises),
            "kept": kept,
            "broken": broken,
            "open": len(promises) - kept - broken,
            "kept_share": rate(kept, kept + broken),
        },
        "arrangements": {
            "accepted": len(plans),
            "kept": plans.count("kept"),
            "broken": plans.count("broken"),
            "active": plans.count("active"),
            "broken_share": rate(plans.count("broken"), len(plans)),
        },
        "cured_within_30d": {"eligible": len(cure), "cured": cured, "share": rate(cured, len(cure))},
    }


def _plan_type(row: FollowUp) -> str:
    for plan_type, _ in row.arrangements:
        return plan_type
    return row.plan_type or "none"


def ledger_outcomes(followups: Iterable[FollowUp], today: date) -> dict[str, Any]:
    """The figures in total, by the borrower's bucket on the day, and by plan type."""
    rows = list(followups)
    buckets: dict[str, list[FollowUp]] = defaultdict(list)
    plans: dict[str, list[FollowUp]] = defaultdict(list)
    for r in rows:
        buckets[r.bucket or "-"].append(r)
        plans[_plan_type(r)].append(r)
    return {
        "as_of": today.isoformat(),
        "total": _figures(rows, today),
        "by_bucket": [{"bucket": b, **_figures(g, today)} for b, g in sorted(buckets.items())],
        "by_plan_type": [{"plan_type": p, **_figures(g, today)} for p, g in sorted(plans.items())],
        "definitions": DEFINITIONS,
    }
