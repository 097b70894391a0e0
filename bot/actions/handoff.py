"""Handing a conversation to a person: the summary the agent reads and the escalation itself.
Used by the escalation feature and by the features that hand over when the bot cannot help (a
hardship case for review, a verification lockout)."""

from __future__ import annotations

import logging

import huanxin_redaction as redaction
from actions import texts
from actions.ledger_client import LedgerError, LedgerUnavailable
from actions.outbox import record_escalation
from actions.slots import BORROWER_LOANS, IDENTITY_SLOTS
from actions.turn import Turn

logger = logging.getLogger(__name__)

SUMMARY_MESSAGES = 6  # the last messages shown (addons/action_events.py sends actions enough of them)
SUMMARY_INTENTS = 10  # the intents of the last runs of one intent shown


def mask_identity_numbers(text: str) -> str:
    """The text with every phone, ID-card or birth-date number masked: the one rule of
    huanxin_redaction (the gateway and the ledger apply the same)."""
    return redaction.mask_identity_numbers(text) or ""


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
        messages.append(mask_identity_numbers(text)[:200])
    parts = [
        f"language={turn.lang}",
        f"verified={'yes' if turn.slot('verified') else 'no'}",
    ]
    if turn.slot("verified") and turn.loan_number():
        parts.append(f"loan={turn.loan_number()}")
    loans = turn.slot(BORROWER_LOANS) or []
    if turn.slot("verified") and len(loans) > 1:  # several loans: the agent sees all of them
        parts.append("loans=" + ",".join(str(r.get("loan_number")) for r in loans if isinstance(r, dict)))
    if turn.slot("hardship_reason"):
        parts.append(
            "hardship: reason={} duration={} income={} expenses={} other_debts={}".format(
                turn.slot("hardship_reason"),
                turn.slot("hardship_duration"),
                turn.slot("monthly_income"),
                turn.slot("essential_expenses"),
                turn.slot("other_debt_payments"),
            )
        )
    if intents:
        parts.append("intents: " + " > ".join(intents[-SUMMARY_INTENTS:]))
    if messages:
        parts.append("last messages: " + " | ".join(messages[-SUMMARY_MESSAGES:]))
    return "; ".join(parts)


def escalation_reference(escalation: dict) -> str:
    """What the borrower is given to quote: the escalation's short case number (ESC-2026-000123),
    the record's id only from a ledger that gives none."""
    return str(escalation.get("case_number") or escalation.get("escalation_id"))


async def escalate(turn: Turn, reason: str, summary: str) -> dict:
    """Hands the conversation to a person: the custom payload the conversation gateway switches
    on (docs/architecture.md; other channels ignore it) is always sent, and `escalated` set.
    The escalation is recorded in the ledger for the desk; when the ledger cannot be reached the
    record is queued (actions/outbox.py) instead of leaving the borrower with nobody. Returns
    the escalation, whose escalation_id is None while it waits in the queue."""
    escalation: dict = {"escalation_id": None}
    try:
        escalation = await record_escalation(turn.ledger, turn.conversation_id, reason, summary, turn.lang, turn.auth())
    except LedgerUnavailable as exc:
        logger.warning("escalation of %s queued: %s", turn.conversation_id, exc)
        turn.outbox.add(turn.conversation_id, reason, summary, turn.lang, turn.auth())
    except LedgerError as exc:
        logger.error(
            "escalation of %s refused by the ledger (%s); hand-off sent anyway", turn.conversation_id, exc.code
        )
    turn.dispatcher.utter_message(
        json_message={"handoff": {"reason": reason, "escalation_id": escalation.get("escalation_id")}}
    )
    turn.set("escalated", True)
    return escalation


def offer_hardship_review(turn: Turn, key: str = "plans_do_not_fit") -> None:
    """The plans on offer do not fit the borrower: a specialist's review is offered (accepted, it is
    an escalation with reason hardship_review; actions/escalation.py). The plans stay on screen."""
    buttons = [texts.button("review", "/request_human", turn.lang), texts.button("no", "/deny", turn.lang)]
    turn.say(key, buttons=buttons)
    turn.set("awaiting", "human_offer_hardship")
