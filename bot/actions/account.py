"""Overdue status, fees and consequences: figures from the ledger, rules from the policy texts."""

from __future__ import annotations

from typing import Any

from actions import readings
from actions.base import LedgerAction
from actions.handoff import offer_hardship_review
from actions.loan_status import describe_open_items, is_overdue, load_status, say_dispute
from actions.loans import (
    has_several_loans,
    loan_label,
    loan_records,
    name_the_loan,
    parse_loan_reference,
    say_overview,
    statuses,
)
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
    side_question = True

    def name(self) -> str:
        return "action_show_overdue_status"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("ask_overdue_status")
        if auth is None:
            return
        if has_several_loans(turn):
            named = parse_loan_reference(turn.message_for("ask_overdue_status"), loan_records(turn), by_state=False)
            if named is None:  # every loan: which are overdue and which are not, then each one's figures
                pairs = await statuses(turn, auth)
                say_overview(turn, pairs)
                for _, status in pairs:
                    describe_status(turn, status)
                return
            turn.set("loan_number", named)
            name_the_loan(turn)
        describe_status(turn, await load_status(turn, auth))


class ActionExplainFees(LedgerAction):
    """Fee rules from the policy, then this account's fee figures."""

    resets_awaiting = True
    side_question = True

    def name(self) -> str:
        return "action_explain_fees"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("ask_fees")
        if auth is None:
            return
        several = has_several_loans(turn)
        pairs = await statuses(turn, auth) if several else [({}, await load_status(turn, auth))]
        rules = policy_text(await turn.ledger.get_policy_texts(), "fee", turn.lang)
        turn.say_raw(rules) if rules else turn.say("policy_unavailable")
        for record, status in pairs:
            if several:
                turn.say("loan_about", label=loan_label(turn, record))
            overdue = status.get("overdue") or {}
            penalty, fees = money(overdue.get("penalty_interest")), money(overdue.get("late_fees"))
            if (penalty and penalty > 0) or (fees and fees > 0):
                turn.say(
                    "fees_account", penalty=turn.money(penalty), fees=turn.money(fees), dpd=status.get("days_past_due")
                )
            else:
                turn.say("fees_none")
        if not rules:
            turn.offer_human()  # the rules could not be given now: a person can


class ActionExplainConsequences(LedgerAction):
    """Consequences stated from the policy text (never invented), and only in answer to a question
    about consequences (readings.asks_about_consequences): a message filed here that asks
    something else is answered as what it is (a question with no answer, plans that do not fit,
    the dispute's status, the account's status), never with the consequences text. With the
    account's DPD when the speaker is verified, or the open dispute (collection paused). The
    policy text says nothing about any loan, so an unverified speaker gets it too (but no account
    figure)."""

    resets_awaiting = True
    side_question = True

    def name(self) -> str:
        return "action_explain_consequences"

    async def handle(self, turn: Turn) -> None:
        if turn.slot("third_party"):
            turn.refuse_third_party()
            return
        text = turn.message_for("ask_consequences")
        if not readings.asks_about_consequences(text):
            await self._not_about_consequences(turn, text)
            return
        rules = policy_text(await turn.ledger.get_policy_texts(), "consequence", turn.lang)
        if not rules:
            turn.offer_human("policy_unavailable")  # cannot answer now: a person can
            return
        turn.say_raw(rules)
        auth = turn.auth()
        if auth is not None and has_several_loans(turn):
            for record, status in await statuses(turn, auth):
                turn.say("loan_about", label=loan_label(turn, record))
                self._account(turn, status)
        elif auth is not None and turn.loan_number():
            if self._account(turn, await load_status(turn, auth)):
                return
        turn.say("consequences_help")

    @staticmethod
    def _account(turn: Turn, status: dict) -> bool:
        """What the consequences mean for this loan now; True when it has an open dispute (then
        only the dispute is said: collection is paused meanwhile)."""
        dispute = status.get("open_dispute")
        if dispute:
            say_dispute(turn, "status_dispute", dispute)
            return True
        if is_overdue(status):
            turn.say("consequences_account", dpd=status.get("days_past_due"))
        else:
            turn.say("consequences_current")
        return False

    async def _not_about_consequences(self, turn: Turn, text: str) -> None:
        if readings.asks_what_has_no_answer(text):
            turn.offer_human("no_answer")  # "who will call me?": no answer here; where to get it
            return
        if readings.says_cannot_afford(text):
            if turn.slot("offered_plans"):
                offer_hardship_review(turn)
            else:
                await self._answer_as(turn, "report_hardship")
            return
        if readings.mentions_dispute(text):
            auth = turn.require_auth("ask_consequences")
            if auth is None:
                return
            dispute = (await load_status(turn, auth)).get("open_dispute")
            if dispute:
                say_dispute(turn, "status_dispute", dispute)
            else:
                turn.offer_human("dispute_none")
            return
        await self._answer_as(turn, "ask_overdue_status")  # "why is it overdue, I have auto-debit"

    async def _answer_as(self, turn: Turn, intent: str) -> None:
        handler = turn.dispatch.handler(intent)
        await handler(self._ledger, self._vault, self._today).handle_safely(turn)
