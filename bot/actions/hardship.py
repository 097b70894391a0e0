"""Hardship: the form (reason, temporary or long-term, income, expenses, other debts), then
POST hardship-cases -> POST evaluations -> the eligible plans (or a human review)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import (
    ESCAPE_CONFIDENCE,
    ESCAPE_INTENTS,
    HANDLED_AFTER_ESCAPE,
    LedgerAction,
    TurnFormValidation,
    call,
    switch_language_in_form,
)
from actions.handoff import conversation_summary, escalate
from actions.ledger_client import LedgerError
from actions.loan_status import load_status, say_dispute
from actions.offers import not_eligible_reason, plan_record, show_plans
from actions.parsing import (
    money,
    parse_amount,
    parse_amount_or_nothing,
    parse_duration,
    parse_hardship_reason,
    parse_plan_choice,
    says_forgot,
    to_money_string,
)
from actions.plans import choose_plan
from actions.slots import HARDSHIP_FORM, HARDSHIP_SLOTS
from actions.turn import Turn

MAX_MONTHLY = Decimal("1000000.00")  # a monthly figure above this is a typo, not a budget
# Questions answered in passing while the hardship form runs (the form then asks again).
QUESTIONS_IN_FORM = {"ask_overdue_status", "ask_fees", "ask_consequences", "pay_now", "already_paid"}
# A borrower who simply forgot is told the quick way to pay (this intent's action), not questioned.
QUICK_PAY_INTENT = "pay_now"


async def quick_way_to_pay(turn: Turn) -> None:
    """For a borrower who forgot: no questionnaire; pay_now's answer (it reads the forgetting in
    the message: the amount to bring the account current, how to pay, a plan if money is tight)."""
    await turn.dispatch.handler(QUICK_PAY_INTENT)(turn.ledger, turn.vault, lambda: turn.today).handle_safely(turn)


class ActionStartHardship(LedgerAction):
    """report_hardship / request_payment_plan / request_fee_waiver: verify, check for an open
    dispute, then start the hardship form."""

    def name(self) -> str:
        return "action_start_hardship"

    async def handle(self, turn: Turn) -> None:
        intent = turn.intent_among(turn.dispatch.intents_of(type(self)))
        auth = turn.require_auth(intent)
        if auth is None:
            return
        status = await load_status(turn, auth)
        dispute = status.get("open_dispute")
        if dispute:
            say_dispute(turn, "dispute_paused", dispute)
            return
        if status.get("closed"):
            turn.say("status_closed", loan_number=status.get("loan_number") or turn.loan_number())
            return
        message = turn.message_for(intent)
        choice = parse_plan_choice(message)
        on_table = turn.slot("awaiting") in ("plan_choice", "plan_confirmation")
        if turn.slot("offered_plans") and (isinstance(choice, str) or (on_table and choice is not None)):
            if await choose_plan(turn):  # a plan named while offers are on the table: choose it
                return
        if intent != "request_fee_waiver" and says_forgot(message):
            await quick_way_to_pay(turn)
            return
        asked = "fee_waiver" if intent == "request_fee_waiver" else parse_plan_choice(message)
        turn.set("requested_plan", asked if isinstance(asked, str) else None)
        for slot in HARDSHIP_SLOTS:
            turn.set(slot, None)
        reason = parse_hardship_reason(message)
        if reason:
            turn.set("hardship_reason", reason)
        for slot in ("offered_plans", "chosen_offer_id", "evaluation_id", "awaiting"):
            turn.set(slot, None)
        turn.say("hardship_start")
        turn.followup(HARDSHIP_FORM)


class ValidateHardshipForm(TurnFormValidation):
    def name(self) -> str:
        return "validate_hardship_form"

    async def _not_read(self, slot: str, turn: Turn, key: str) -> dict[str, Any]:
        confident = turn.latest_confidence >= ESCAPE_CONFIDENCE
        if turn.latest_intent in QUESTIONS_IN_FORM and confident:
            # answer the question in passing; the form then asks its question again
            handler = turn.dispatch.handler(turn.latest_intent)
            await handler(turn.ledger, turn.vault, lambda: turn.today).handle_safely(turn)
            result: dict[str, Any] = {slot: None}
            result.update({e["name"]: e["value"] for e in turn.events if e.get("event") == "slot"})
            return result
        if turn.latest_intent in {"greet", "thank", "bot_challenge", "affirm"} and confident:
            return {slot: None}
        if turn.latest_intent == "change_language":
            return switch_language_in_form(slot, turn)
        if turn.latest_intent in ESCAPE_INTENTS and turn.latest_confidence >= ESCAPE_CONFIDENCE:
            return {slot: None, "requested_slot": None}
        turn.say(key)
        return {slot: None}

    async def validate_hardship_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"hardship_reason": None}
        if value in texts.REASON_NAMES:
            return {"hardship_reason": value}
        turn = self.make_turn(dispatcher, tracker, domain)
        reason = parse_hardship_reason(str(value))
        if reason:
            return {"hardship_reason": reason}
        if says_forgot(str(value)):  # "其实就是忘了还": the quick way to pay, and the form ends
            await quick_way_to_pay(turn)
            result: dict[str, Any] = {e["name"]: e["value"] for e in turn.events if e.get("event") == "slot"}
            return result | {"hardship_reason": None, "requested_slot": None}
        words = str(value).strip()
        meaningful = len(words) >= 2 and not words.startswith("/")
        not_a_reason = (
            ESCAPE_INTENTS | QUESTIONS_IN_FORM | {"change_language", "greet", "thank", "bot_challenge", "affirm"}
        )
        if meaningful and not (turn.latest_intent in not_a_reason and turn.latest_confidence >= ESCAPE_CONFIDENCE):
            return {"hardship_reason": "other"}
        return await self._not_read("hardship_reason", turn, "invalid_hardship_reason")

    async def validate_hardship_duration(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"hardship_duration": None}
        if value in ("temporary", "long_term"):
            return {"hardship_duration": value}
        turn = self.make_turn(dispatcher, tracker, domain)
        chosen = turn.entity("choice")
        duration = chosen if chosen in ("temporary", "long_term") else parse_duration(str(value))
        if duration:
            return {"hardship_duration": duration}
        return await self._not_read("hardship_duration", turn, "invalid_hardship_duration")

    async def _amount(self, slot: str, value: Any, turn: Turn, allow_nothing: bool) -> dict[str, Any]:
        stored = money(value) if isinstance(value, str) else None
        if stored is not None and value == to_money_string(stored):
            return {slot: value}  # already validated
        text = str(value)
        amount = parse_amount_or_nothing(text) if allow_nothing else parse_amount(text)
        if amount is None and slot == "monthly_income" and parse_amount_or_nothing(text) is not None:
            amount = Decimal("0.00")  # "没有收入" / "nothing": income can be zero after a job loss
        if amount is None:
            return await self._not_read(slot, turn, "invalid_amount")
        if amount < 0:
            turn.say("negative_amount")
            return {slot: None}
        if amount > MAX_MONTHLY:
            turn.say("insane_amount")
            return {slot: None}
        return {slot: to_money_string(amount)}

    async def validate_monthly_income(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"monthly_income": None}
        turn = self.make_turn(dispatcher, tracker, domain)
        return await self._amount("monthly_income", value, turn, allow_nothing=False)

    async def validate_essential_expenses(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"essential_expenses": None}
        turn = self.make_turn(dispatcher, tracker, domain)
        return await self._amount("essential_expenses", value, turn, allow_nothing=True)

    async def validate_other_debt_payments(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"other_debt_payments": None}
        turn = self.make_turn(dispatcher, tracker, domain)
        return await self._amount("other_debt_payments", value, turn, allow_nothing=True)


class ActionSubmitHardship(LedgerAction):
    """Runs when the hardship form ends: records the case, evaluates it, shows the plans."""

    def name(self) -> str:
        return "action_submit_hardship"

    async def handle(self, turn: Turn) -> None:
        values = {slot: turn.slot(slot) for slot in HARDSHIP_SLOTS}
        if any(v is None for v in values.values()):
            await self._stopped(turn)
            return
        auth = turn.require_auth("report_hardship")
        if auth is None:
            return
        income, expenses, debts = (money(values[slot]) for slot in HARDSHIP_SLOTS[2:])
        if income is None or expenses is None or debts is None:  # the validators store money strings only
            await self._stopped(turn)
            return
        loan_number = turn.current_loan()
        try:
            case = await call(
                turn.ledger.create_hardship_case(
                    auth,
                    loan_number,
                    reason=values["hardship_reason"],
                    duration=values["hardship_duration"],
                    monthly_income=income,
                    essential_expenses=expenses,
                    other_debt_payments=debts,
                )
            )
            evaluation = await call(turn.ledger.create_evaluation(auth, loan_number, case.get("case_id")))
        except LedgerError as exc:
            if exc.code == "dispute_open":
                turn.say("dispute_exists_plain")
                return
            raise
        turn.set("evaluation_id", evaluation.get("evaluation_id"))
        current = evaluation.get("current_schedule")
        records = [plan_record(p, current) for p in evaluation.get("plans") or []]
        turn.set("offered_plans", records)
        asked = turn.slot("requested_plan")
        asked_record = next((r for r in records if r["plan_type"] == asked), None)
        if asked_record is not None and not asked_record["eligible"]:
            turn.say_raw(not_eligible_reason(turn, asked_record))
        eligible = [r for r in records if r["eligible"]]
        if evaluation.get("needs_human_review") or not eligible:
            await self._human_review(turn)
            return
        show_plans(turn, records)

    async def _human_review(self, turn: Turn) -> None:
        escalation = await escalate(turn, "hardship_review", conversation_summary(turn))
        if escalation.get("escalation_id"):
            turn.say("no_plans", escalation_id=escalation["escalation_id"])
        else:
            turn.say("no_plans_pending")

    async def _stopped(self, turn: Turn) -> None:
        if says_forgot(turn.latest_text):
            return  # the form's validator gave the quick way to pay (quick_way_to_pay)
        intent = turn.latest_intent
        handler = turn.dispatch.handler_for(intent) if intent in HANDLED_AFTER_ESCAPE else None
        if handler is not None:
            await handler(self._ledger, self._vault, self._today).handle_safely(turn)
        elif intent == "goodbye":
            turn.say_response("utter_goodbye")
        else:
            turn.say("hardship_stopped")
