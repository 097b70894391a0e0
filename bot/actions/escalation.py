"""Humans: escalations with a summary of the conversation, and complaints."""

from __future__ import annotations

import logging
import re

from actions.common import LedgerAction, Turn
from actions.ledger_client import LedgerError, LedgerUnavailable
from actions.outbox import record_escalation
from actions.verification import IDENTITY_SLOTS

logger = logging.getLogger(__name__)

SUMMARY_MESSAGES = 6
# Why the human was offered (slot `awaiting`) -> the escalation reason of the contract.
OFFER_REASONS = {"human_offer_backend": "backend_unavailable", "human_offer_fallback": "fallback",
                 "human_offer_complaint": "complaint", "human_offer_verification": "verification_locked"}
_IDENTITY_LIKE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)|\d{17}[\dXx]|\d{6}(?:19|20)\d{6}")


def conversation_summary(turn: Turn) -> str:
    """A short account of the conversation for the agent: what was asked and the figures the
    borrower gave. Identity answers are never included (those turns are skipped and any
    phone or ID-shaped number is masked)."""
    intents: list[str] = []
    messages: list[str] = []
    requested = None
    for event in turn.tracker.events or []:
        if event.get("event") == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent and (not intents or intents[-1] != intent):
            intents.append(intent)
        text = event.get("text") or ""
        if requested in IDENTITY_SLOTS or text.startswith("/"):
            continue
        messages.append(_IDENTITY_LIKE.sub("[redacted]", text)[:200])
    parts = [
        f"language={turn.lang}",
        f"verified={'yes' if turn.slot('verified') else 'no'}",
    ]
    if turn.slot("verified") and turn.loan_number():
        parts.append(f"loan={turn.loan_number()}")
    if turn.slot("hardship_reason"):
        parts.append(
            "hardship: reason={} duration={} income={} expenses={} other_debts={}".format(
                turn.slot("hardship_reason"), turn.slot("hardship_duration"), turn.slot("monthly_income"),
                turn.slot("essential_expenses"), turn.slot("other_debt_payments"),
            )
        )
    if intents:
        parts.append("intents: " + " > ".join(intents[-10:]))
    if messages:
        parts.append("last messages: " + " | ".join(messages[-SUMMARY_MESSAGES:]))
    return "; ".join(parts)


async def escalate(turn: Turn, reason: str, summary: str) -> dict:
    """Hands the conversation to a person: the custom payload the conversation gateway switches
    on (docs/architecture.md; other channels ignore it) is always sent, and `escalated` set.
    The escalation is recorded in the ledger for the desk; when the ledger cannot be reached the
    record is queued (actions/outbox.py) instead of leaving the borrower with nobody. Returns
    the escalation, whose escalation_id is None while it waits in the queue."""
    escalation: dict = {"escalation_id": None}
    try:
        escalation = await record_escalation(turn.ledger, turn.conversation_id, reason, summary, turn.lang,
                                             turn.auth())
    except LedgerUnavailable as exc:
        logger.warning("escalation of %s queued: %s", turn.conversation_id, exc)
        turn.outbox.add(turn.conversation_id, reason, summary, turn.lang, turn.auth())
    except LedgerError as exc:
        logger.error("escalation of %s refused by the ledger (%s); hand-off sent anyway", turn.conversation_id,
                     exc.code)
    turn.dispatcher.utter_message(json_message={"handoff": {"reason": reason,
                                                            "escalation_id": escalation.get("escalation_id")}})
    turn.set("escalated", True)
    return escalation


class ActionRequestHuman(LedgerAction):
    intents = ("request_human",)

    def name(self) -> str:
        return "action_request_human"

    async def handle(self, turn: Turn) -> None:
        reason = OFFER_REASONS.get(turn.slot("awaiting") or "", "request_human")
        turn.set("awaiting", None)
        escalation = await escalate(turn, reason, conversation_summary(turn))
        if escalation.get("escalation_id"):
            turn.say("escalated", escalation_id=escalation["escalation_id"])
        else:
            turn.say("escalated_pending")


class ActionFileComplaint(LedgerAction):
    """complain: recorded through POST /complaints (with the token when verified), then a
    human is offered. When the ledger cannot record it, the complaint goes to a person at once
    (its text in the escalation summary), never "nobody can come"."""

    intents = ("complain",)
    resets_awaiting = True

    def name(self) -> str:
        return "action_file_complaint"

    async def handle(self, turn: Turn) -> None:
        text = _IDENTITY_LIKE.sub("[redacted]", turn.message_for("complain"))[:2000]
        try:
            complaint = await turn.ledger.create_complaint(turn.conversation_id, text, auth=turn.auth())
        except (LedgerUnavailable, LedgerError) as exc:
            logger.warning("complaint of %s not recorded (%s): handed to a person", turn.conversation_id,
                           type(exc).__name__)
            turn.set("awaiting", None)
            turn.say("complaint_handoff")
            await escalate(turn, "complaint", conversation_summary(turn))
            return
        turn.say("complaint_recorded", complaint_id=complaint.get("complaint_id"))
        turn.offer_human(awaiting="human_offer_complaint")
