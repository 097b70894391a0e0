"""inform / affirm / deny outside forms: what they mean depends on what the assistant is
waiting for (slot `awaiting`): a plan choice, a plan confirmation, promise details, a
channel, budget figures, or the answer to an offer of a human.

The reply to a question another feature asked (promise details, a channel, budget figures) goes
to that feature's action, found in the dispatch (REPLY_HANDLERS of actions/__init__.py); so does
accepting an offered person (the action that answers request_human). Offered plans are chosen,
accepted and declined by actions/plans.py. The yes or no to the confirmation of a consequential act
(actions/confirm.py) goes to the act's own action, or drops it."""

from __future__ import annotations

from actions import confirm, readings
from actions.base import LedgerAction
from actions.budget import answer_budget, correct_assessment, parse_budget
from actions.corrections import asks_withdrawal, withdraw_last_record
from actions.handoff import offer_hardship_review
from actions.loans import LOAN_CHOICE, answer_loan_question
from actions.plans import accept_chosen, choose_plan, decline_chosen, read_choice
from actions.turn import Turn

# Accepting an offered person is answered as asking for one.
HUMAN_INTENT = "request_human"
# Questions that a "no" answers instead of dropping ("do you have the transfer reference?" "no").
DENY_ANSWERS = ("payment_claim",)


def offers_human(awaiting: str | None) -> bool:
    return (awaiting or "").startswith("human_offer")


class ActionHandleInform(LedgerAction):
    def name(self) -> str:
        return "action_handle_inform"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting")
        if await answer_loan_question(turn, reask=True):
            return
        delegate = turn.dispatch.reply_handler_for(awaiting)
        if delegate is not None:
            await delegate(self._ledger, self._vault, self._today).handle(turn)
            return
        if correct_assessment(turn):  # "不对，收入其实是4000" after the plans: assessed again
            return
        if awaiting in ("plan_choice", "plan_confirmation") or turn.slot("offered_plans"):
            ref = read_choice(turn)
            if (
                turn.slot("offered_plans")
                and (ref is None or ref.is_empty())
                and readings.says_cannot_afford(turn.latest_text)
            ):
                offer_hardship_review(turn)  # "I don't have that much": the plans do not fit
                return
            if await choose_plan(turn):
                return
        figures = parse_budget(turn.latest_text)
        if "income" in figures and "expenses" in figures:
            answer_budget(turn)
            return
        turn.missed("clarify")


class ActionHandleAffirm(LedgerAction):
    def name(self) -> str:
        return "action_handle_affirm"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting")
        act = confirm.pending(turn)
        if act is not None:  # yes to the confirmation: the act's own action records it
            turn.set("awaiting", confirm.CONFIRMED)
            await turn.dispatch.handler(act.intent)(self._ledger, self._vault, self._today).handle_safely(turn)
        elif awaiting == "plan_confirmation":
            await accept_chosen(turn)
        elif await answer_loan_question(turn, reask=True):
            return
        elif offers_human(awaiting):
            await turn.dispatch.handler(HUMAN_INTENT)(self._ledger, self._vault, self._today).handle(turn)
        else:
            turn.say("ok_noted")


class ActionHandleDeny(LedgerAction):
    def name(self) -> str:
        return "action_handle_deny"

    async def handle(self, turn: Turn) -> None:
        if asks_withdrawal(turn):  # the one-tap "filed by mistake? withdraw", or "撤回" / "cancel that"
            await withdraw_last_record(turn)
            return
        awaiting = turn.slot("awaiting")
        act = confirm.pending(turn) or (confirm.STOP_CONTACT if awaiting == "contact_channel" else None)
        if act is not None:  # no to the confirmation, or to "which contact to stop?": nothing recorded
            confirm.decline(turn, act)
            return
        if awaiting == "plan_confirmation":
            decline_chosen(turn)
            return
        if awaiting == "plan_choice" and turn.slot("offered_plans"):
            offer_hardship_review(turn, "plans_declined_review")  # none of the plans: a review, not a dead end
            return
        delegate = turn.dispatch.reply_handler_for(awaiting)
        if awaiting in DENY_ANSWERS and delegate is not None:
            await delegate(self._ledger, self._vault, self._today).handle(turn)
            return
        if turn.dispatch.reply_handler_for(awaiting) is not None or offers_human(awaiting):
            turn.set("awaiting", None)  # the question asked is dropped
        if awaiting == LOAN_CHOICE:  # "which loan?" is dropped with the request that waited on it
            turn.set("awaiting", None)
            turn.set("pending_intent", None)
        turn.say("ok_noted")
