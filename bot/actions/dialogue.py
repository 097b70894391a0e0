"""inform / affirm / deny outside forms: what they mean depends on what the assistant is
waiting for (slot `awaiting`): a plan choice, a plan confirmation, promise details, a
channel, budget figures, or the answer to an offer of a human."""

from __future__ import annotations

from actions.common import LedgerAction, Turn, says_third_party
from actions.contact import ActionStopContact
from actions.escalation import ActionRequestHuman
from actions.plans import accept_chosen, choose_plan, decline_chosen
from actions.promises import ActionPromiseToPay
from actions.tips import ActionFinancialTips, parse_budget


class ActionHandleInform(LedgerAction):
    intents = ("inform",)

    def name(self) -> str:
        return "action_handle_inform"

    async def handle(self, turn: Turn) -> None:
        if says_third_party(turn.latest_text):
            turn.refuse_third_party()
            return
        awaiting = turn.slot("awaiting")
        delegate = {"promise_details": ActionPromiseToPay, "contact_channel": ActionStopContact,
                    "budget_figures": ActionFinancialTips}.get(awaiting)
        if delegate is not None:
            await delegate(self._ledger, self._vault, self._today).handle(turn)
            return
        if awaiting in ("plan_choice", "plan_confirmation") or turn.slot("offered_plans"):
            if choose_plan(turn):
                return
        figures = parse_budget(turn.latest_text)
        if "income" in figures and "expenses" in figures:
            await ActionFinancialTips(self._ledger, self._vault, self._today).budget_only(turn)
            return
        turn.say("clarify")


class ActionHandleAffirm(LedgerAction):
    intents = ("affirm",)

    def name(self) -> str:
        return "action_handle_affirm"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting")
        if awaiting == "plan_confirmation":
            await accept_chosen(turn)
        elif (awaiting or "").startswith("human_offer"):
            await ActionRequestHuman(self._ledger, self._vault, self._today).handle(turn)
        else:
            turn.say("ok_noted")


class ActionHandleDeny(LedgerAction):
    intents = ("deny",)

    def name(self) -> str:
        return "action_handle_deny"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting")
        if awaiting == "plan_confirmation":
            decline_chosen(turn)
            return
        if awaiting in ("promise_details", "contact_channel", "budget_figures") or (awaiting or "").startswith("human_offer"):
            turn.set("awaiting", None)
        turn.say("ok_noted")
