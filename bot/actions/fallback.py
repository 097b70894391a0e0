"""Low-confidence messages and out-of-scope requests."""

from __future__ import annotations

from actions.base import LedgerAction
from actions.turn import Turn

MISSES_BEFORE_HUMAN = 2


class ActionClarify(LedgerAction):
    """nlu_fallback: a clarifying question; after two misses in a row, the offer of a human."""

    allowed_in_groups = True

    def name(self) -> str:
        return "action_clarify"

    async def handle(self, turn: Turn) -> None:
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
        # a third party hears what they can do instead (the borrower's ways to reach the
        # lender), not the list of account services
        turn.say("third_party_contact" if turn.slot("third_party") else "out_of_scope")
