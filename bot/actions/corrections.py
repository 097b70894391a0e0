"""Records the borrower can take back: a dispute or a complaint this conversation filed by mistake.

The record this conversation filed last is remembered in the slot `last_record` (its kind and
ids, never its text). The reply that records it offers a one-tap "filed by mistake? withdraw"
button, the payload ``/deny{"choice":"withdraw"}`` (no intent of its own: deny, by context).
Pressing it, or saying so ("撤回", "cancel that complaint", "I didn't mean to open a dispute",
whatever intent the words were read as), withdraws it in the ledger, which keeps it on record
as withdrawn. The ledger takes a withdrawal only from the conversation that filed the record
and within its window (`withdrawals.window_hours`); otherwise a person is offered.
"""

from __future__ import annotations

from typing import Any

from actions import texts
from actions.base import call
from actions.ledger_client import LedgerError
from actions.turn import Turn
from actions.withdrawal_words import KINDS, LAST_RECORD, WITHDRAW_CHOICE, WITHDRAW_PAYLOAD, says_withdraw

__all__ = ["LAST_RECORD", "asks_withdrawal", "offer_withdrawal", "says_withdraw", "withdraw_last_record"]


def asks_withdrawal(turn: Turn) -> bool:
    """The button was pressed, or the message says to withdraw."""
    return turn.entity("choice") == WITHDRAW_CHOICE or says_withdraw(turn.latest_text)


def offer_withdrawal(turn: Turn, kind: str, **ids: Any) -> None:
    """Remember the record just filed and offer to withdraw it in one tap."""
    turn.set(LAST_RECORD, {"kind": kind, **{k: v for k, v in ids.items() if v}})
    turn.say("withdraw_offer", buttons=[texts.button("withdraw", WITHDRAW_PAYLOAD, turn.lang)])


def _reason(turn: Turn) -> str:
    text = turn.latest_text.strip()
    return "withdrawn with the button in the chat" if not text or text.startswith("/") else text[:500]


async def withdraw_last_record(turn: Turn) -> None:
    """Withdraw the record this conversation filed last and say what changed; a person is
    offered when there is none, or when the ledger's window is over."""
    record = turn.slot(LAST_RECORD) or {}
    kind = record.get("kind") if isinstance(record, dict) else None
    turn.set("awaiting", None)
    if kind not in KINDS:
        turn.offer_human("withdraw_nothing")
        return
    what = texts.name_of(texts.RECORD_NAMES, kind, turn.lang)
    try:
        if kind == "dispute":
            auth = turn.auth()
            if auth is None or not record.get("case_number") or not record.get("loan_number"):
                turn.offer_human("withdraw_nothing")
                return
            await call(turn.ledger.withdraw_dispute(auth, record["loan_number"], record["case_number"], _reason(turn)))
            turn.say("dispute_withdrawn", case_number=record["case_number"])
        else:
            complaint_id = record.get("complaint_id")
            if not complaint_id:
                turn.offer_human("withdraw_nothing")
                return
            await call(
                turn.ledger.withdraw_complaint(
                    turn.conversation_id, complaint_id, auth=turn.auth(), reason=_reason(turn)
                )
            )
            turn.say("complaint_withdrawn", complaint_id=complaint_id)
    except LedgerError as exc:
        if exc.code in ("dispute_not_open", "complaint_not_open"):
            turn.say("withdraw_not_open", what=what)
        elif exc.code == "withdrawal_window_closed":
            turn.offer_human("withdraw_window_closed", what=what)
        elif exc.code == "not_found":
            turn.offer_human("withdraw_nothing")
        else:
            raise
    turn.set(LAST_RECORD, None)
