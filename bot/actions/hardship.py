"""Hardship: the form (reason, temporary or long-term, income, expenses, other debts), then
POST hardship-cases -> POST evaluations -> the eligible plans (or a human review)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import readings, texts
from actions.base import (
    ESCAPE_CONFIDENCE,
    ESCAPE_INTENTS,
    HANDLED_AFTER_ESCAPE,
    LedgerAction,
    TurnFormValidation,
    accepts_offered_person,
    call,
    escapes_form,
    has_no_answer,
    refuses_person,
    say_no_answer_in_form,
    slot_changes,
    switch_language_in_form,
)
from actions.budget import FIGURE_SLOTS, MAX_MONTHLY, correct_assessment, correct_reason
from actions.handoff import conversation_summary, escalate, escalation_reference, offer_hardship_review
from actions.ledger_client import LedgerError
from actions.loan_status import load_status, say_dispute, say_dispute_conflict
from actions.loans import name_the_loan, select_loan
from actions.offers import not_eligible_reason, plan_record, show_plans
from actions.parsing import (
    money,
    parse_duration,
    parse_hardship_reason,
    parse_monthly_figures,
    parse_plan_choice,
    says_correction,
    says_forgot,
    says_stop,
    to_money_string,
)
from actions.plans import choose_plan
from actions.slots import HARDSHIP_FORM, HARDSHIP_SLOTS
from actions.turn import Turn

# Questions answered in passing while the hardship form runs (the form then asks again).
QUESTIONS_IN_FORM = {
    "ask_overdue_status",
    "ask_fees",
    "ask_consequences",
    "pay_now",
    "already_paid",
    "bot_challenge",
    "out_of_scope",
}
KIND_OF_SLOT = {slot: kind for kind, slot in FIGURE_SLOTS.items()}


def known_figures(turn: Turn) -> dict[str, str]:
    """The figure slots that already hold a figure (money strings), in the form's order."""
    known = {}
    for slot in FIGURE_SLOTS.values():
        value = turn.slot(slot)
        if isinstance(value, str) and money(value) is not None:
            known[slot] = value
    return known


def read_figures(turn: Turn, asked: str | None) -> tuple[dict[str, Any], str | None]:
    """The figure slots the latest message fills (money strings), and the text key of a figure
    refused (negative, implausible). Each figure goes to the slot it names; an unnamed one to
    the slot `asked`, or, in a correction ("说错了，是四千", "sorry, I meant 4000"), to the
    figure answered last. A figure that replaces a different one is said back."""
    text = turn.latest_text
    asked_kind = KIND_OF_SLOT.get(asked or "")
    found = parse_monthly_figures(text, asked=asked_kind)
    if says_correction(text) and asked_kind in found and not parse_monthly_figures(text):
        answered = [slot for slot in known_figures(turn) if HARDSHIP_SLOTS.index(slot) < HARDSHIP_SLOTS.index(asked)]
        if answered:
            found = {KIND_OF_SLOT[answered[-1]]: found[asked_kind]}
    updates: dict[str, Any] = {}
    problem = None
    for kind, amount in found.items():
        slot = FIGURE_SLOTS[kind]
        if amount < 0:
            problem = "negative_amount"
        elif amount > MAX_MONTHLY:
            problem = "insane_amount"
        else:
            value = to_money_string(amount)
            before = turn.slot(slot)
            if slot != asked and isinstance(before, str) and money(before) is not None and before != value:
                turn.say(
                    "hardship_figure_updated",
                    name=texts.name_of(texts.FIGURE_NAMES, slot, turn.lang),
                    amount=turn.money(amount),
                )
            updates[slot] = value
    return updates, problem


def answered_in_passing(turn: Turn) -> bool:
    """A question answered while the form waits (the form then asks again). A message the NLU
    calls a question about consequences that is not one (readings.asks_about_consequences) is not
    answered with the consequences text."""
    if turn.latest_intent not in QUESTIONS_IN_FORM or turn.latest_confidence < ESCAPE_CONFIDENCE:
        return False
    return turn.latest_intent != "ask_consequences" or readings.asks_about_consequences(turn.latest_text)


def not_a_question(turn: Turn) -> bool:
    """The intent of the message would be a question answered in passing, but it is not answered so."""
    return turn.latest_intent in QUESTIONS_IN_FORM and not answered_in_passing(turn)


# A borrower who simply forgot is told the quick way to pay (this intent's action), not questioned.
QUICK_PAY_INTENT = "pay_now"


async def quick_way_to_pay(turn: Turn) -> None:
    """For a borrower who forgot: no questionnaire; pay_now's answer (it reads the forgetting in
    the message: the amount to bring the account current, how to pay, a plan if money is tight)."""
    await turn.dispatch.handler(QUICK_PAY_INTENT)(turn.ledger, turn.vault, lambda: turn.today).handle_safely(turn)


# How long the hardship will last, in so many words. "暂时还不上" / "can't pay for now" say when the
# borrower cannot pay, and "一直没法工作" what has been: neither says how long it will last.
_DURATION_STATED = re.compile(
    r"长期|永久|好不了|不知道什么时候(?:能)?好|暂时的|临时的|短期|几个月(?:就|会|后)|"
    r"long[- ]?term|permanent|indefinite|won'?t get better|no idea when|temporar|short[- ]?term|"
    r"a few (?:months|weeks)|couple of months",
    re.I,
)


def duration_stated(message: str) -> str | None:
    """The duration an opening message states ("失业了，估计是长期的"), or None (the form asks)."""
    return parse_duration(message) if _DURATION_STATED.search(message) else None


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
        # with plans on the table, a plan named or asked for again is about their loan
        if not await select_loan(turn, auth, intent, continuing=bool(turn.slot("offered_plans"))):
            return
        status = await load_status(turn, auth)
        dispute = status.get("open_dispute")
        if dispute:
            say_dispute(turn, "dispute_paused", dispute)
            turn.offer_human()  # a refusal: a person is offered
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
        if turn.slot("offered_plans") and choice is None and readings.says_cannot_afford(message):
            offer_hardship_review(turn)  # "both options are too much": a review, not the questionnaire again
            return
        if correct_assessment(turn):  # "说错了，收入一般是五千" after an assessment: assessed again
            return
        if intent != "request_fee_waiver" and says_forgot(message):
            await quick_way_to_pay(turn)
            return
        asked = "fee_waiver" if intent == "request_fee_waiver" else parse_plan_choice(message)
        turn.set("requested_plan", asked if isinstance(asked, str) else None)
        kept = known_figures(turn)  # figures given earlier in the conversation are not asked again
        for slot in HARDSHIP_SLOTS:
            if slot not in kept:
                turn.set(slot, None)
        reason = parse_hardship_reason(message)
        if reason:
            turn.set("hardship_reason", reason)
            duration = duration_stated(message)  # "I lost my job and it will be long term"
            if duration:
                turn.set("hardship_duration", duration)
        given = {FIGURE_SLOTS[kind]: v for kind, v in parse_monthly_figures(message).items() if 0 <= v <= MAX_MONTHLY}
        for slot, amount in given.items():
            turn.set(slot, to_money_string(amount))
        for slot in ("offered_plans", "chosen_offer_id", "evaluation_id", "awaiting"):
            turn.set(slot, None)
        turn.say("hardship_start")
        kept = {slot: value for slot, value in kept.items() if slot not in given}
        if kept:
            said = [f"{texts.name_of(texts.FIGURE_NAMES, slot, turn.lang)} {turn.money(v)}" for slot, v in kept.items()]
            turn.say("hardship_known_figures", figures=("，" if turn.lang == "zh" else ", ").join(said))
        turn.followup(HARDSHIP_FORM)


class ValidateHardshipForm(TurnFormValidation):
    """Each answer may give more than the question asked: a reason with figures, several figures
    at once, a correction of an earlier figure; every figure goes to its slot and the form asks
    only what is still missing. A side question is answered and the question asked again; a
    plain "算了" / "never mind" leaves the form (action_submit_hardship says so)."""

    def name(self) -> str:
        return "validate_hardship_form"

    async def _side_question(self, slot: str, turn: Turn) -> dict[str, Any] | None:
        """The answer to a confident side question (the form then asks its question again), or None."""
        intent = turn.latest_intent
        if intent is None or not answered_in_passing(turn):
            return None
        if parse_monthly_figures(turn.latest_text):  # "收入3000" is an answer, whatever the intent
            return None
        handler = turn.dispatch.handler(intent)
        await handler(turn.ledger, turn.vault, lambda: turn.today).handle_safely(turn)
        return {slot: None, **slot_changes(turn)}

    async def _not_read(self, slot: str, turn: Turn, key: str) -> dict[str, Any]:
        answered = await self._side_question(slot, turn)
        if answered is not None:
            return answered
        confident = turn.latest_confidence >= ESCAPE_CONFIDENCE
        if refuses_person(turn):
            return {slot: None}
        if accepts_offered_person(turn):
            return {slot: None, "requested_slot": None}
        if turn.latest_intent in {"greet", "thank", "bot_challenge", "affirm"} and confident:
            return {slot: None}
        if turn.latest_intent == "change_language":
            return switch_language_in_form(slot, turn)
        if escapes_form(turn):
            return {slot: None, "requested_slot": None}
        if has_no_answer(turn):
            return {slot: None, **say_no_answer_in_form(turn)}
        turn.missed(key, in_form=True)
        return {slot: None, **slot_changes(turn)}

    @staticmethod
    def _leaving(slot: str, turn: Turn) -> dict[str, Any] | None:
        """Every answer is first checked for a plain "算了" / "never mind": the form is left."""
        return {slot: None, "requested_slot": None} if says_stop(turn.latest_text) else None

    async def validate_hardship_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"hardship_reason": None}
        if value in texts.REASON_NAMES:
            return {"hardship_reason": value}
        turn = self.make_turn(dispatcher, tracker, domain)
        leaving = self._leaving("hardship_reason", turn)
        if leaving is not None:
            return leaving
        figures, _ = read_figures(turn, None)
        reason = parse_hardship_reason(str(value))
        # "我失业了，是长期的": the duration given with the reason is kept too
        duration = {"hardship_duration": d} if (d := parse_duration(str(value))) else {}
        if reason:  # "我被裁员了，现在一共欠多少": the reason kept, the question answered too
            answered = await self._side_question("hardship_reason", turn) or {}
            return {**answered, "hardship_reason": reason, **duration, **figures}
        if duration:  # "long term" answered to the reason: kept, and the reason asked again
            return {"hardship_reason": None, **duration, **figures}
        if says_forgot(str(value)):  # "其实就是忘了还": the quick way to pay, and the form ends
            await quick_way_to_pay(turn)
            result: dict[str, Any] = {e["name"]: e["value"] for e in turn.events if e.get("event") == "slot"}
            return result | {"hardship_reason": None, "requested_slot": None}
        if figures:  # figures are no reason: kept, and the reason asked again
            return {"hardship_reason": None, **figures}
        words = str(value).strip()
        meaningful = len(words) >= 2 and not words.startswith("/")
        # an unusual reason is easily read as out_of_scope: a meaningful answer is a reason unless
        # it is a question with no answer here
        not_a_reason = (
            ESCAPE_INTENTS | QUESTIONS_IN_FORM | {"change_language", "greet", "thank", "bot_challenge", "affirm"}
        ) - {"out_of_scope"}
        asked = turn.latest_intent in not_a_reason and turn.latest_confidence >= ESCAPE_CONFIDENCE
        no_answer_here = readings.asks_what_has_no_answer(words) and readings.is_question(words)
        if meaningful and not no_answer_here and (not asked or not_a_question(turn)):
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
        if chosen in ("temporary", "long_term"):
            return {"hardship_duration": chosen}
        leaving = self._leaving("hardship_duration", turn)
        if leaving is not None:
            return leaving
        fixed = correct_reason(turn)  # "不是失业，是生病了": the reason replaced, said back
        figures, _ = read_figures(turn, None)
        duration = parse_duration(str(value))
        if duration:
            return {"hardship_duration": duration, **figures, **fixed}
        if figures or fixed:
            return {"hardship_duration": None, **figures, **fixed}
        return await self._not_read("hardship_duration", turn, "invalid_hardship_duration")

    async def _amount(self, slot: str, value: Any, turn: Turn) -> dict[str, Any]:
        stored = money(value) if isinstance(value, str) else None
        if stored is not None and value == to_money_string(stored):
            return {slot: value}  # already validated
        first = self._leaving(slot, turn) or await self._side_question(slot, turn)  # "我已经还了500" is no income
        if first is not None:
            return first
        fixed = correct_reason(turn)  # "说错了，不是失业，是生意亏了": the reason replaced, said back
        figures, problem = read_figures(turn, slot)
        if slot in figures:
            return {**figures, **fixed}
        if problem:
            turn.say(problem)
            return {slot: None, **figures, **fixed}
        if figures or fixed:  # another figure or the reason given or corrected: kept, this question asked again
            return {slot: None, **figures, **fixed}
        return await self._not_read(slot, turn, "invalid_amount")

    async def validate_monthly_income(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"monthly_income": None}
        return await self._amount("monthly_income", value, self.make_turn(dispatcher, tracker, domain))

    async def validate_essential_expenses(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"essential_expenses": None}
        return await self._amount("essential_expenses", value, self.make_turn(dispatcher, tracker, domain))

    async def validate_other_debt_payments(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # an empty slot set by an action, not an answer
            return {"other_debt_payments": None}
        return await self._amount("other_debt_payments", value, self.make_turn(dispatcher, tracker, domain))


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
                await say_dispute_conflict(turn, auth, exc.extra)
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
        name_the_loan(turn)
        show_plans(turn, records)
        if asked_record is not None and not asked_record["eligible"]:
            turn.offer_human("refusal_offer_human", awaiting="human_offer_hardship")  # a refusal offers a person

    async def _human_review(self, turn: Turn) -> None:
        escalation = await escalate(turn, "hardship_review", conversation_summary(turn))
        if escalation.get("escalation_id"):
            turn.say("no_plans", reference=escalation_reference(escalation))
        else:
            turn.say("no_plans_pending")

    async def _stopped(self, turn: Turn) -> None:
        if says_forgot(turn.latest_text):
            return  # the form's validator gave the quick way to pay (quick_way_to_pay)
        """The form was left: a request of its own (a person, a complaint...) is answered; a plain
        stop ("算了", "never mind", even when read as another intent) hears that nothing was
        recorded and is offered a person, since they came asking for help."""
        intent = "request_human" if accepts_offered_person(turn) else turn.latest_intent
        plain = says_stop(turn.latest_text) or intent not in HANDLED_AFTER_ESCAPE | {"goodbye"}
        handler = turn.dispatch.handler_for(intent) if intent in HANDLED_AFTER_ESCAPE and not plain else None
        if handler is not None:
            await handler(self._ledger, self._vault, self._today).handle_safely(turn)
        elif intent == "goodbye" and not plain:
            turn.say_goodbye()
        else:
            turn.offer_human("hardship_stopped")
