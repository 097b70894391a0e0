"""Low-confidence messages and out-of-scope requests."""

from __future__ import annotations

from actions import texts
from actions.base import LedgerAction
from actions.turn import Turn

MISSES_BEFORE_HUMAN = 2


class ActionClarify(LedgerAction):
    """nlu_fallback: a clarifying question; after two misses in a row, the offer of a human."""

    allowed_in_groups = True

    def name(self) -> str:
        return "action_clarify"

    async def handle(self, turn: Turn) -> None:
        if turn.slot("third_party"):  # what a third party can be told: how the borrower reaches us
            turn.say("third_party_contact", buttons=[texts.button("human", "/request_human", turn.lang)])
            return
        misses = int(turn.slot("fallback_count") or 0) + 1
        turn.set("fallback_count", float(misses))
        if misses >= MISSES_BEFORE_HUMAN:
            turn.offer_human("clarify_offer_human", awaiting="human_offer_fallback")
        else:
            turn.say("clarify")


class ActionHandleOutOfScope(LedgerAction):
    allowed_in_groups = True

    def name(self) -> str:
        return "action_handle_out_of_scope"

    async def handle(self, turn: Turn) -> None:
        if turn.slot("third_party"):  # not the list of account services: how the borrower reaches us
            turn.say("third_party_contact", buttons=[texts.button("human", "/request_human", turn.lang)])
        else:
            turn.say("out_of_scope")
