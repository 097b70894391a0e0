"""The plans an evaluation offers, as the conversation keeps them (slot `offered_plans`) and shows
them: the list to choose from, why a plan is not available, the summary of the chosen one.
Used by the hardship form (after the evaluation) and by plans.py (choosing, confirming)."""

from __future__ import annotations

from actions import texts
from actions.turn import Turn

# The engine lists every check of a plan, failed ones first; these codes are checks that passed
# (or terms), so they are not reasons why a plan is unavailable.
PASSED_CHECKS = {
    "affordable",
    "charges_to_waive",
    "dpd_reached",
    "dpd_within_limit",
    "irregular_income",
    "long_term_hardship",
    "no_recent_fee_waiver",
    "no_recent_restructure",
    "temporary_hardship",
}


def plan_record(plan: dict) -> dict:
    """What the conversation keeps of an evaluated plan (figures as the ledger gave them)."""
    offer = plan.get("offer") or {}
    schedule = offer.get("schedule") or []
    return {
        "plan_type": plan.get("plan_type"),
        "eligible": bool(plan.get("eligible")) and bool(offer.get("offer_id")),
        "reasons": [
            {"code": r.get("code"), "zh": r.get("zh") or r.get("code"), "en": r.get("en") or r.get("code")}
            for r in plan.get("reasons") or []
        ],
        "offer_id": offer.get("offer_id"),
        "payment_amount": offer.get("payment_amount"),
        "payment_frequency": offer.get("payment_frequency") or "monthly",
        "total_to_repay": offer.get("total_to_repay"),
        "waived_total": (offer.get("waived") or {}).get("total"),
        "holiday_months": offer.get("holiday_months") or 0,
        "expires_at": offer.get("expires_at"),
        "schedule_count": len(schedule),
        "schedule_preview": [{"due_date": s.get("due_date"), "amount": s.get("amount")} for s in schedule[:3]],
    }


def plan_name(turn: Turn, record: dict) -> str:
    return texts.name_of(texts.PLAN_NAMES, record["plan_type"], turn.lang)


def plan_line(turn: Turn, n: int, record: dict) -> str:
    frequency = record["payment_frequency"]
    figures = dict(
        n=n,
        plan=plan_name(turn, record),
        payment=turn.money(record["payment_amount"]),
        total=turn.money(record["total_to_repay"]),
    )
    if frequency == "once":
        return texts.text(
            "plan_line_once", turn.lang, waived=turn.money(record.get("waived_total") or "0.00"), **figures
        )
    if frequency == "quarterly":
        return texts.text("plan_line_quarterly", turn.lang, **figures)
    holiday = texts.text("plan_holiday", turn.lang, months=record["holiday_months"]) if record["holiday_months"] else ""
    return texts.text("plan_line_monthly", turn.lang, holiday=holiday, **figures)


def plan_buttons(turn: Turn, eligible: list[dict]) -> list[dict]:
    return [
        {"title": f"{i}. {plan_name(turn, r)}", "payload": texts.choice_payload(r["plan_type"])}
        for i, r in enumerate(eligible, start=1)
    ]


def blocking_reasons(record: dict) -> list[dict]:
    return [
        r
        for r in record["reasons"]
        if r.get("code") not in PASSED_CHECKS and not str(r.get("code", "")).endswith("_terms")
    ]


def not_eligible_reason(turn: Turn, record: dict) -> str:
    sep = "；" if turn.lang == "zh" else "; "
    reasons = sep.join((r.get(turn.lang) or "").rstrip("。.") for r in blocking_reasons(record)) or "-"
    return texts.text("plan_not_eligible", turn.lang, plan=plan_name(turn, record), reasons=reasons)


def show_plans(turn: Turn, records: list[dict]) -> None:
    eligible = [r for r in records if r["eligible"]]
    lines = [texts.text("plans_intro", turn.lang)] + [plan_line(turn, i, r) for i, r in enumerate(eligible, start=1)]
    turn.say_raw("\n".join(lines))
    turn.say("plans_choose", buttons=plan_buttons(turn, eligible))
    turn.set("awaiting", "plan_choice")


def show_summary(turn: Turn, record: dict) -> None:
    """The chosen plan's figures and schedule, then the explicit yes/no before it is accepted."""
    frequency = record.get("payment_frequency") or "monthly"
    key = {"quarterly": "plan_summary_first_quarterly", "once": "plan_summary_first_once"}.get(
        frequency, "plan_summary_first_monthly"
    )
    first_line = texts.text(key, turn.lang, payment=turn.money(record.get("payment_amount")))
    sep = "；" if turn.lang == "zh" else "; "
    preview = sep.join(
        f"{turn.date(s.get('due_date'))} {turn.money(s.get('amount'))}" for s in record.get("schedule_preview") or []
    )
    turn.say(
        "plan_summary",
        plan=plan_name(turn, record),
        first_line=first_line,
        count=record.get("schedule_count") or 1,
        total=turn.money(record.get("total_to_repay")),
        preview=preview or "-",
    )
    yes_no = [texts.button("yes", "/affirm", turn.lang), texts.button("no", "/deny", turn.lang)]
    turn.say("plan_confirm", buttons=yes_no)
    turn.set("chosen_offer_id", record.get("offer_id"))
    turn.set("awaiting", "plan_confirmation")
