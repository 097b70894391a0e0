"""The plans an evaluation offers, as the conversation keeps them (slot `offered_plans`) and shows
them: the list to choose from, why a plan is not available, the summary of the chosen one.
Used by the hardship form (after the evaluation) and by plans.py (choosing, confirming).

Plans are shown on one basis, the ledger's comparison with today's schedule (docs/contracts.md):
each plan's payment and frequency, number of payments, first and last date, total to repay and
the difference from today. Every channel gets them as short numbered text (one line a plan,
with a button each); the same message carries the custom payload ``{"plans": [card, ...]}``
that the web chat shows as cards, each with its plan's button (title, payload, label/value
rows, the choose label, and the ledger's figures as strings). Figures are the ledger's, only
formatted here."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from actions import texts
from actions.base import call
from actions.ledger_client import LedgerError
from actions.parsing import money
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
    "lower_payment",
}
COMPARISON_KEYS = (
    "payment_amount",
    "payment_frequency",
    "later_payment_amount",
    "payment_count",
    "first_payment_date",
    "last_payment_date",
    "total_to_repay",
    "payment_change",
    "total_change",
)
CURRENT_KEYS = ("payment_amount", "amount_due_now", "payment_count", "last_payment_date", "total_to_repay")


def _strings(source: Any, keys: tuple[str, ...]) -> dict | None:
    """The ledger's figures under `keys`, or None when it gave none (an older ledger)."""
    if not isinstance(source, dict) or source.get("payment_amount") is None:
        return None
    return {k: source.get(k) for k in keys}


def plan_record(plan: dict, current: dict | None = None) -> dict:
    """What the conversation keeps of an evaluated plan (figures as the ledger gave them), with
    today's schedule (the evaluation's `current_schedule`) to compare it with."""
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
        "comparison": _strings(offer.get("comparison"), COMPARISON_KEYS),
        "current": _strings(current, CURRENT_KEYS),
    }


def plan_name(turn: Turn, record: dict) -> str:
    return texts.name_of(texts.PLAN_NAMES, record["plan_type"], turn.lang)


def _payments(turn: Turn, record: dict, c: dict) -> str:
    """How the plan is paid: '每月 512.80 元', '首期 1,474.36 元，之后每月 1,414.91 元'..."""
    frequency = str(c.get("payment_frequency") or record.get("payment_frequency") or "monthly")
    later = c.get("later_payment_amount")
    figures = {"payment": turn.money(c.get("payment_amount")), "later": turn.money(later)}
    key = {"once": "plan_pay_once", "quarterly": "plan_pay_quarterly"}.get(frequency, "plan_pay_monthly")
    if record.get("holiday_months") and frequency == "monthly":
        key, figures["months"] = "plan_pay_holiday_monthly", record["holiday_months"]
    return texts.text(key + ("_then" if later else ""), turn.lang, **figures)


def _dates(turn: Turn, c: dict) -> str:
    first, last = turn.date(c.get("first_payment_date")), turn.date(c.get("last_payment_date"))
    if c.get("payment_count") == 1:
        return texts.text("plan_dates_one", turn.lang, first=first)
    return texts.text("plan_dates", turn.lang, count=c.get("payment_count"), first=first, last=last)


def _signed(value: Any) -> Decimal | None:
    return money(value) if isinstance(value, str) else None


def _change(turn: Turn, c: dict) -> str:
    """The difference from today's schedule: '每月少 587.60 元，总共多 803.93 元'."""
    parts = []
    payment = _signed(c.get("payment_change"))
    if payment is not None:
        period = "quarter" if c.get("payment_frequency") == "quarterly" else "month"
        parts.append(_difference(turn, f"plan_change_{period}", payment))
    total = _signed(c.get("total_change"))
    if total is not None:
        parts.append(_difference(turn, "plan_change_total", total))
    return texts.text("plan_change_sep", turn.lang).join(parts)


def _difference(turn: Turn, prefix: str, amount: Decimal) -> str:
    if amount == 0:
        return texts.text(f"{prefix}_same", turn.lang)
    key = f"{prefix}_less" if amount < 0 else f"{prefix}_more"
    return texts.text(key, turn.lang, amount=turn.money(abs(amount)))


def plan_figures(turn: Turn, record: dict) -> str | None:
    """The plan's figures on the basis of today's schedule, or None without the ledger's comparison."""
    c = record.get("comparison")
    if not c:
        return None
    return texts.text(
        "plan_figures",
        turn.lang,
        payments=_payments(turn, record, c),
        dates=_dates(turn, c),
        total=turn.money(c.get("total_to_repay")),
        change=_change(turn, c),
    )


def plan_card(turn: Turn, n: int, record: dict) -> dict:
    """The web chat's card of a plan: its button (title, payload) with the figures as rows."""
    c = record.get("comparison") or {}
    first, last = turn.date(c.get("first_payment_date")), turn.date(c.get("last_payment_date"))
    rows = [
        ("plan_card_payment", _payments(turn, record, c)),
        ("plan_card_count", texts.text("plan_count", turn.lang, count=c.get("payment_count"))),
        ("plan_card_dates", texts.text("plan_date_range", turn.lang, first=first, last=last)),
        ("plan_card_total", turn.money(c.get("total_to_repay"))),
        ("plan_card_change", _change(turn, c)),
    ]
    return {
        "plan_type": record["plan_type"],
        "title": f"{n}. {plan_name(turn, record)}",
        "payload": texts.choice_payload(record["plan_type"]),
        "rows": [{"label": texts.text(label, turn.lang), "value": value} for label, value in rows],
        "choose": texts.text("plan_card_choose", turn.lang),
        "figures": dict(c),
    }


def current_line(turn: Turn, record: dict) -> str | None:
    cur = record.get("current")
    if not cur:
        return None
    due_now = money(cur.get("amount_due_now"))
    return texts.text(
        "plans_current" if due_now else "plans_current_nothing_due",
        turn.lang,
        payment=turn.money(cur.get("payment_amount")),
        due_now=turn.money(due_now),
        count=cur.get("payment_count"),
        last=turn.date(cur.get("last_payment_date")),
        total=turn.money(cur.get("total_to_repay")),
    )


def plan_line(turn: Turn, n: int, record: dict) -> str:
    compared = plan_figures(turn, record)
    if compared is not None:
        return texts.text("plan_line", turn.lang, n=n, plan=plan_name(turn, record), figures=compared)
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


def show_plans(turn: Turn, records: list[dict], lead: str | None = None) -> None:
    """The eligible plans: today's schedule, then one numbered line (and one button) a plan, the
    cards for the web chat in the same message, then the invitation to choose."""
    eligible = [r for r in records if r["eligible"]]
    intro = [lead or texts.text("plans_intro", turn.lang)]
    today = current_line(turn, eligible[0]) if eligible else None
    turn.say_raw("\n".join(intro + ([today] if today else [])))
    lines = [plan_line(turn, i, r) for i, r in enumerate(eligible, start=1)]
    cards = [plan_card(turn, i, r) for i, r in enumerate(eligible, start=1) if r.get("comparison")]
    turn.dispatcher.utter_message(
        text="\n".join(lines),
        buttons=plan_buttons(turn, eligible),
        json_message={"plans": cards} if cards and len(cards) == len(eligible) else None,
    )
    turn.say("plans_choose")
    turn.set("awaiting", "plan_choice")


# A line break folded into a space between Chinese characters or after Chinese punctuation (YAML `>-`).
_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])\s+(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


def arrangement_terms(document: Any, lang: str) -> str | None:
    """The policy's broken-arrangement rule (`texts.arrangement_terms` of GET /policy/texts)."""
    items = document.get("texts") if isinstance(document, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("key") == "arrangement_terms":
            value = item.get(lang) or item.get("zh")
            if isinstance(value, str) and value.strip():
                return _CJK_GAP.sub("", value.strip())
    return None


async def read_arrangement_terms(turn: Turn) -> str:
    """The rule a plan is kept by, in the policy's words (the assistant's own words when the
    ledger's policy texts carry none); a ledger that does not answer is a ledger failure."""
    try:
        terms = arrangement_terms(await call(turn.ledger.get_policy_texts()), turn.lang)
    except LedgerError:
        terms = None
    return terms or texts.text("arrangement_terms_fallback", turn.lang)


async def show_summary(turn: Turn, record: dict) -> None:
    """The chosen plan's figures and schedule, the broken-arrangement rule, then the explicit
    yes/no before it is accepted."""
    terms = await read_arrangement_terms(turn)  # first: nothing is said when the ledger does not answer
    sep = "；" if turn.lang == "zh" else "; "
    preview = sep.join(
        f"{turn.date(s.get('due_date'))} {turn.money(s.get('amount'))}" for s in record.get("schedule_preview") or []
    )
    figures = plan_figures(turn, record)
    if figures is not None:
        turn.say("plan_summary_figures", plan=plan_name(turn, record), figures=figures, preview=preview or "-")
    else:
        _say_plain_summary(turn, record, preview)
    turn.say("arrangement_terms", terms=terms)
    yes_no = [texts.button("yes", "/affirm", turn.lang), texts.button("no", "/deny", turn.lang)]
    turn.say("plan_confirm", buttons=yes_no)
    turn.set("chosen_offer_id", record.get("offer_id"))
    turn.set("awaiting", "plan_confirmation")


def _say_plain_summary(turn: Turn, record: dict, preview: str) -> None:
    frequency = record.get("payment_frequency") or "monthly"
    key = {"quarterly": "plan_summary_first_quarterly", "once": "plan_summary_first_once"}.get(
        frequency, "plan_summary_first_monthly"
    )
    first_line = texts.text(key, turn.lang, payment=turn.money(record.get("payment_amount")))
    turn.say(
        "plan_summary",
        plan=plan_name(turn, record),
        first_line=first_line,
        count=record.get("schedule_count") or 1,
        total=turn.money(record.get("total_to_repay")),
        preview=preview or "-",
    )
