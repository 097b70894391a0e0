"""pay_now (how to pay, amount to bring the account current) and already_paid (what the
ledger shows and what happens next)."""

from __future__ import annotations

from datetime import date, timedelta

from actions import texts
from actions.base import LedgerAction, call
from actions.loan_status import describe_open_items, is_overdue, load_status
from actions.parsing import says_forgot
from actions.turn import Turn

RECENT_DAYS = 14


class ActionPayNow(LedgerAction):
    resets_awaiting = True

    def name(self) -> str:
        return "action_pay_now"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("pay_now")
        if auth is None:
            return
        status = await load_status(turn, auth)
        if status.get("closed"):
            turn.say("status_closed", loan_number=status.get("loan_number") or turn.loan_number())
            return
        asked_here = "pay_now" in (turn.latest_intent, turn.resumed_intent)
        if asked_here and is_overdue(status) and says_forgot(turn.message_for("pay_now")):
            turn.say("pay_forgot")  # "I forgot, how do I pay": no questionnaire, just the way to pay
        turn.say("pay_how", loan_number=status.get("loan_number") or turn.loan_number())
        if is_overdue(status):
            turn.say(
                "pay_bring_current",
                amount=turn.money(status.get("amount_to_bring_current")),
                payoff=turn.money(status.get("payoff_amount")),
            )
        else:
            turn.say("pay_nothing_overdue", payoff=turn.money(status.get("payoff_amount")))
            if status.get("next_due"):
                turn.say(
                    "status_next_due",
                    amount=turn.money(status["next_due"].get("amount")),
                    due_date=turn.date(status["next_due"].get("due_date")),
                )


def _received_on(payment: dict) -> date | None:
    try:
        return date.fromisoformat(str(payment.get("received_on"))[:10])
    except ValueError:
        return None


class ActionCheckPayment(LedgerAction):
    resets_awaiting = True

    def name(self) -> str:
        return "action_check_payment"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("already_paid")
        if auth is None:
            return
        payments = await call(turn.ledger.get_payments(auth, turn.current_loan()))
        cutoff = turn.today - timedelta(days=RECENT_DAYS)
        recent = sorted(
            (p for p in payments or [] if (_received_on(p) or date.min) >= cutoff),
            key=lambda p: _received_on(p) or date.min,
            reverse=True,
        )
        if not recent:
            turn.offer_human("paid_none_seen")
            return
        for payment in recent[:2]:
            channel = payment.get("channel") or ""
            turn.say(
                "paid_seen",
                amount=turn.money(payment.get("amount")),
                date=turn.date(payment.get("received_on")),
                channel=texts.name_of(texts.CHANNEL_NAMES, channel, turn.lang) if channel else "-",
            )
        status = await load_status(turn, auth)
        if status.get("closed"):
            turn.say("status_closed", loan_number=status.get("loan_number") or turn.loan_number())
        elif is_overdue(status):
            turn.say("paid_still_overdue", amount=turn.money(status.get("amount_to_bring_current")))
        else:
            turn.say("paid_now_current")
        describe_open_items(turn, status)
