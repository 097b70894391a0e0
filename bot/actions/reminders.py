"""The conversation that follows a reminder (docs/outbound.md): a chat opened from a reminder's
link carries its reference in the gateway's message metadata (``reminder_ref``). Right after
verification the bot starts from that reminder: which loan, which instalment or promise, when,
and the amount as the ledger states it now. Before verification nothing is said about it (the
reference opens nothing by itself), and only a reminder delivered to the verified borrower is
named (the ledger lists those only).

A web chat opened without a link shows the newest reminder the dispatcher delivered to the web
channel (the web chat's notice, shown when the borrower next opens it): a verified borrower
cannot be told apart before verification, so the notice is said at the same point.
"""

from __future__ import annotations

import re
from typing import Any

from actions.base import call
from actions.ledger_client import BorrowerAuth, LedgerError, LedgerUnavailable
from actions.turn import Turn

REF = re.compile(r"r[0-9a-z]{1,12}")


def _metadata(turn: Turn) -> dict[str, Any]:
    metadata = (turn.tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def reminder_ref(turn: Turn) -> str | None:
    """The reference of the reminder whose link opened the chat (latest message's metadata)."""
    ref = _metadata(turn).get("reminder_ref")
    return ref if isinstance(ref, str) and REF.fullmatch(ref) else None


def _followed(listed: list[Any], ref: str | None) -> dict[str, Any] | None:
    """The reminder the chat follows: the one its link named, or with no link the newest web
    notice (the ledger lists the newest first)."""
    reminders = [r for r in listed if isinstance(r, dict)]
    if ref is not None:
        return next((r for r in reminders if r.get("ref") == ref), None)
    return next((r for r in reminders if r.get("channel") == "web"), None)


async def open_from_reminder(turn: Turn, auth: BorrowerAuth, borrower_id: str | None) -> bool:
    """Say which reminder the borrower received, with the ledger's figures; False when the chat
    follows no reminder of theirs (nothing said). A ledger failure here says nothing either: the
    conversation goes on as if no reminder were known."""
    ref = reminder_ref(turn)
    if not borrower_id or (ref is None and _metadata(turn).get("channel") != "web"):
        return False
    try:
        listed = await call(turn.ledger.get_recent_reminders(auth, borrower_id))
    except (LedgerError, LedgerUnavailable):
        return False
    reminder = _followed(listed if isinstance(listed, list) else [], ref)
    if reminder is None:
        return False
    loan_number = str(reminder.get("loan_number") or "")
    try:
        status = await call(turn.ledger.get_loan_status(auth, loan_number))
    except (LedgerError, LedgerUnavailable):
        return False
    turn.set("loan_number", loan_number)
    key, figures = _opening(turn, str(reminder.get("reason")), reminder.get("subject") or {}, status)
    turn.say(key, None, tail=loan_number[-4:], **figures)
    return True


def _opening(turn: Turn, reason: str, subject: dict[str, Any], status: dict) -> tuple[str, dict[str, Any]]:
    """The text key and figures of the opening for a reminder of ``reason`` about ``subject``."""
    if reason in ("before_due", "due_today", "dpd_milestone", "arrangement_instalment_due"):
        number = str(subject.get("instalment") or "")
        due = str(subject.get("due_date") or "")
        figures = {"instalment": number, "due_date": turn.date(due)}
        if reason == "dpd_milestone":
            return "reminder_opening_overdue", {
                **figures,
                "days_past_due": str(status.get("days_past_due", "")),
                "amount": turn.money(status.get("amount_to_bring_current")),
            }
        if reason == "arrangement_instalment_due":
            return "reminder_opening_plan", figures
        return "reminder_opening_instalment", {**figures, "amount": turn.money(_instalment_due(status, number, due))}
    if reason in ("promise_due_tomorrow", "promise_broken"):
        promise = status.get("open_promise") or {}
        amount = promise.get("amount") if promise.get("promised_date") == subject.get("promised_date") else None
        return "reminder_opening_promise", {
            "promised_date": turn.date(subject.get("promised_date")),
            "amount": turn.money(amount) if amount else "",
        }
    return "reminder_opening_offer", {"expires_at": turn.date(subject.get("expires_at"))}


def _instalment_due(status: dict, number: str, due: str) -> Any:
    """What the ledger says is to pay for the instalment: its next-due amount when it is the
    next one due, else the instalment's amount."""
    next_due = status.get("next_due") or {}
    if next_due.get("due_date") == due and next_due.get("amount") is not None:
        return next_due["amount"]
    for row in status.get("instalments") or []:
        if str(row.get("number")) == number:
            return row.get("amount")
    return None
