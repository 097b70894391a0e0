"""Overdue status, fees and consequences: figures from the ledger, rules from the policy texts."""

from __future__ import annotations

from typing import Any

from actions.base import LedgerAction
from actions.loan_status import describe_open_items, is_overdue, load_status
from actions.parsing import money
from actions.turn import Turn


def oldest_overdue_due_date(status: dict) -> str | None:
    dates = [i.get("due_date") for i in status.get("instalments") or [] if i.get("state") == "overdue"]
    return min(dates) if dates else None


def describe_status(turn: Turn, status: dict) -> None:
    """Say what the ledger's LoanStatus holds, in the conversation's language."""
    loan_number = status.get("loan_number") or turn.loan_number()
    if status.get("closed"):
        turn.say("status_closed", loan_number=loan_number)
        refund = money(status.get("refund_owed"))
        if refund and refund > 0:
            turn.say("status_refund", amount=turn.money(refund))
        return
    overdue = status.get("overdue") or {}
    if is_overdue(status):
        turn.say(
            "status_overdue",
            loan_number=loan_number,
            dpd=status.get("days_past_due"),
            bucket=status.get("bucket") or "-",
            total=turn.money(overdue.get("total")),
            principal=turn.money(overdue.get("principal")),
            interest=turn.money(overdue.get("interest")),
            penalty=turn.money(overdue.get("penalty_interest")),
            fees=turn.money(overdue.get("late_fees")),
            since=turn.date(oldest_overdue_due_date(status)),
            bring_current=turn.money(status.get("amount_to_bring_current")),
        )
    else:
        turn.say("status_current", loan_number=loan_number)
    next_due = status.get("next_due")
    if next_due:
        turn.say(
            "status_next_due", amount=turn.money(next_due.get("amount")), due_date=turn.date(next_due.get("due_date"))
        )
    describe_open_items(turn, status)


def policy_text(document: Any, topic: str, lang: str) -> str | None:
    """The policy text on `topic` ('fee' or 'consequence') in `lang` from GET /policy/texts.

    Reads the contract's {"texts": [{"key": "fee_rules", "zh": ..., "en": ...}]}, and also
    {"fees": {"zh": ..., "en": ...}}; values may be a string, a list or a dict by language."""

    def pick(value: Any) -> str | None:
        if isinstance(value, str):
            return value
        if isinstance(value, list):
            parts = [pick(v) for v in value]
            joined = "\n".join(p for p in parts if p)
            return joined or None
        if isinstance(value, dict):
            if lang in value:
                return pick(value[lang])
            for key in ("text", "body", "description"):
                if key in value:
                    return pick(value[key])
            parts = [pick(v) for v in value.values()]
            joined = "\n".join(p for p in parts if p)
            return joined or None
        return None

    if not isinstance(document, dict):
        return None
    items = document.get("texts")
    if isinstance(items, list):  # {"texts": [{"key": "fee_rules", "zh": ..., "en": ...}, ...]}
        for item in items:
            if isinstance(item, dict) and topic in str(item.get("key", "")).lower() and pick(item):
                return pick(item)
    for container in (document, document.get(lang), document.get("texts")):
        if isinstance(container, dict):
            for key, value in container.items():
                if topic in key.lower():
                    found = pick(value)
                    if found:
                        return found
    return None


class ActionShowOverdueStatus(LedgerAction):
    resets_awaiting = True

    def name(self) -> str:
        return "action_show_overdue_status"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("ask_overdue_status")
        if auth is None:
            return
        describe_status(turn, await load_status(turn, auth))


class ActionExplainFees(LedgerAction):
    """Fee rules from the policy, then this account's fee figures."""

    resets_awaiting = True

    def name(self) -> str:
        return "action_explain_fees"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("ask_fees")
        if auth is None:
            return
        status = await load_status(turn, auth)
        rules = policy_text(await turn.ledger.get_policy_texts(), "fee", turn.lang)
        turn.say_raw(rules) if rules else turn.say("policy_unavailable")
        overdue = status.get("overdue") or {}
        penalty, fees = money(overdue.get("penalty_interest")), money(overdue.get("late_fees"))
        if (penalty and penalty > 0) or (fees and fees > 0):
            turn.say(
                "fees_account", penalty=turn.money(penalty), fees=turn.money(fees), dpd=status.get("days_past_due")
            )
        else:
            turn.say("fees_none")


class ActionExplainConsequences(LedgerAction):
    """Consequences stated from the policy text (never invented); with the account's DPD
    when the speaker is verified. The policy text says nothing about any loan, so an
    unverified speaker gets it too (but no account figure)."""

    resets_awaiting = True

    def name(self) -> str:
        return "action_explain_consequences"

    async def handle(self, turn: Turn) -> None:
        if turn.slot("third_party"):
            turn.refuse_third_party()
            return
        rules = policy_text(await turn.ledger.get_policy_texts(), "consequence", turn.lang)
        turn.say_raw(rules) if rules else turn.say("policy_unavailable")
        auth = turn.auth()
        if auth is not None and turn.loan_number():
            status = await load_status(turn, auth)
            if is_overdue(status):
                turn.say("consequences_account", dpd=status.get("days_past_due"))
            else:
                turn.say("consequences_current")
        turn.say("consequences_help")
