"""Humans: a person asked for (or accepted when offered), and complaints (actions/handoff.py hands over).
Both only when the borrower clearly means it: otherwise offered or confirmed first (actions/confirm.py)."""

from __future__ import annotations

import logging

from actions import confirm
from actions.base import LedgerAction
from actions.corrections import offer_withdrawal, says_withdraw, withdraw_last_record
from actions.handoff import conversation_summary, escalate, escalation_reference, mask_identity_numbers
from actions.ledger_client import LedgerError, LedgerUnavailable
from actions.turn import Turn

logger = logging.getLogger(__name__)

# Why the human was offered (slot `awaiting`) -> the escalation reason of the contract.
OFFER_REASONS = {
    "human_offer_backend": "backend_unavailable",
    "human_offer_fallback": "fallback",
    "human_offer_complaint": "complaint",
    "human_offer_verification": "verification_locked",
    "human_offer_hardship": "hardship_review",
    # a person asked for while plans are on screen: the plans do not fit, a review of the case
    "plan_choice": "hardship_review",
    "plan_confirmation": "hardship_review",
}


class ActionRequestHuman(LedgerAction):
    def name(self) -> str:
        return "action_request_human"

    async def handle(self, turn: Turn) -> None:
        awaiting = turn.slot("awaiting") or ""
        if await confirm.other_reading(turn, confirm.HANDOFF):
            return
        if not awaiting.startswith("human_offer") and not confirm.is_clear(turn, confirm.HANDOFF):
            confirm.ask(turn, confirm.HANDOFF)  # a hand-off nobody clearly asked for is offered, not done
            return
        reason = OFFER_REASONS.get(awaiting, "request_human")
        turn.set("awaiting", None)
        escalation = await escalate(turn, reason, conversation_summary(turn))
        if escalation.get("escalation_id"):
            turn.say("escalated", reference=escalation_reference(escalation))
        else:
            turn.say("escalated_pending")


class ActionFileComplaint(LedgerAction):
    """complain: recorded through POST /complaints (with the token when verified), then a
    human is offered. When the ledger cannot record it, the complaint goes to a person at once
    (its text in the escalation summary), never "nobody can come"."""

    resets_awaiting = True

    def name(self) -> str:
        return "action_file_complaint"

    async def handle(self, turn: Turn) -> None:
        if says_withdraw(turn.message_for("complain")):
            await withdraw_last_record(turn)  # "cancel that complaint": never a new one
            return
        if await confirm.other_reading(turn, confirm.COMPLAINT) or not confirm.go_ahead(turn, confirm.COMPLAINT):
            return
        text = mask_identity_numbers(turn.message_for("complain"))[:2000]
        try:
            complaint = await turn.ledger.create_complaint(turn.conversation_id, text, auth=turn.auth())
        except (LedgerUnavailable, LedgerError) as exc:
            logger.warning(
                "complaint of %s not recorded (%s): handed to a person", turn.conversation_id, type(exc).__name__
            )
            turn.set("awaiting", None)
            turn.say("complaint_handoff")
            await escalate(turn, "complaint", conversation_summary(turn))
            return
        turn.say("complaint_recorded", complaint_id=complaint.get("complaint_id"))
        offer_withdrawal(turn, "complaint", complaint_id=complaint.get("complaint_id"))
        turn.offer_human(awaiting="human_offer_complaint")
