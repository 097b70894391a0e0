"""inform / affirm / deny outside forms: what they mean depends on what the assistant is
waiting for (slot `awaiting`): a plan choice, a plan confirmation, promise details, a
channel, budget figures, or the answer to an offer of a human.

The reply to a question another feature asked (promise details, a channel, budget figures) goes
to that feature's action, found in the dispatch (REPLY_HANDLERS of actions/__init__.py); so does
accepting an offered person (the action that answers request_human). Offered plans are chosen,
accepted and declined by actions/plans.py."""

from __future__ import annotations

from actions.base import LedgerAction
from actions.budget import answer_budget, parse_budget
from actions.plans import accept_chosen, choose_plan, decline_chosen
from actions.turn import Turn

# Accepting an offered person is answered as asking for one.
HUMAN_INTENT = "request_human"


def offers_human(awaiting: str | None) -> bool:
    return (awaiting or "").startswith("human_offer")


class ActionHandleInform(LedgerAction):
    def name(self) -> str:
        return "action_handle_inform"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting")
        delegate = turn.dispatch.reply_handler_for(awaiting)
        if delegate is not None:
            await delegate(self._ledger, self._vault, self._today).handle(turn)
            return
        if awaiting in ("plan_choice", "plan_confirmation") or turn.slot("offered_plans"):
            if choose_plan(turn):
                return
        figures = parse_budget(turn.latest_text)
        if "income" in figures and "expenses" in figures:
            answer_budget(turn)
            return
        turn.say("clarify")


class ActionHandleAffirm(LedgerAction):
    def name(self) -> str:
        return "action_handle_affirm"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting")
        if awaiting == "plan_confirmation":
            await accept_chosen(turn)
        elif offers_human(awaiting):
            await turn.dispatch.handler(HUMAN_INTENT)(self._ledger, self._vault, self._today).handle(turn)
        else:
            turn.say("ok_noted")


class ActionHandleDeny(LedgerAction):
    def name(self) -> str:
        return "action_handle_deny"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting")
        if awaiting == "plan_confirmation":
            decline_chosen(turn)
            return
        if turn.dispatch.reply_handler_for(awaiting) is not None or offers_human(awaiting):
            turn.set("awaiting", None)  # the question asked is dropped
        turn.say("ok_noted")
