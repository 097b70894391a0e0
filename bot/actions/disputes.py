"""dispute_debt: opens a dispute (collection pauses), gives its case number and reply date. Only when
the borrower clearly means it: otherwise a one-tap confirmation first (actions/confirm.py)."""

from __future__ import annotations

from actions import confirm, readings
from actions.base import LedgerAction, call
from actions.corrections import offer_withdrawal, says_withdraw, withdraw_last_record
from actions.ledger_client import LedgerError
from actions.loan_status import dispute_reply_days, load_status, say_dispute, say_dispute_conflict
from actions.loans import select_loan
from actions.turn import Turn


class ActionOpenDispute(LedgerAction):
    resets_awaiting = True

    def name(self) -> str:
        return "action_open_dispute"

    async def handle(self, turn: Turn) -> None:
        if says_withdraw(turn.message_for("dispute_debt")):
            await withdraw_last_record(turn)  # "I didn't mean to open a dispute": never a new one
            return
        if await confirm.other_reading(turn, confirm.DISPUTE):
            return
        auth = turn.require_auth("dispute_debt")
        if auth is None or not await select_loan(turn, auth, "dispute_debt"):
            return
        status = await load_status(turn, auth)
        existing = status.get("open_dispute")
        if existing:
            confirm.settle(turn)
            say_dispute(turn, "dispute_exists", existing)
            return
        if not (confirm.confirmed(turn, confirm.DISPUTE) or confirm.is_clear(turn, confirm.DISPUTE)):
            # the confirmation says how long the reply takes: the policy's days, from the ledger
            days = await dispute_reply_days(turn)
            key = "confirm_dispute" if days else "confirm_dispute_undated"
            confirm.ask(turn, confirm.DISPUTE, key, loan_number=turn.current_loan(), reply_days=days)
            return
        confirm.settle(turn)
        reason = turn.message_for("dispute_debt").strip()[:500] or "dispute"
        try:
            dispute = await call(turn.ledger.open_dispute(auth, turn.current_loan(), reason))
        except LedgerError as exc:
            if exc.code != "dispute_open":
                raise
            await say_dispute_conflict(turn, auth, exc.extra)
            return
        turn.set("awaiting", None)
        turn.set("offered_plans", None)
        say_dispute(turn, "dispute_opened", dispute)
        offer_withdrawal(
            turn,
            "dispute",
            case_number=dispute.get("case_number"),
            loan_number=dispute.get("loan_number") or turn.loan_number(),
        )
        if readings.says_identity_theft(reason):  # a fraud case needs a person, not only a case number
            turn.offer_human("dispute_identity_theft")
