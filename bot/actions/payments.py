"""pay_now (how to pay, amount to bring the account current) and already_paid (what the
ledger shows and what happens next).

A borrower who simply forgot ("我忘了还了，怎么还", "I forgot, how do I pay") gets the quick
way to pay, never the hardship questionnaire, whichever of pay_now, already_paid,
report_hardship or request_payment_plan the NLU read (the hardship feature hands such a
message to pay_now's action)."""

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
        # the message this answers: pay_now's own, or the one another intent's action handed over
        answered = turn.message_for(turn.resumed_intent or turn.latest_intent or "pay_now")
        forgot = is_overdue(status) and says_forgot(answered)
        if forgot:
            turn.say("pay_forgot")  # "I forgot, how do I pay": no questionnaire, just the way to pay
        turn.say("pay_how", loan_number=status.get("loan_number") or turn.loan_number())
        if is_overdue(status):
            turn.say(
                "pay_bring_current",
                amount=turn.money(status.get("amount_to_bring_current")),
                payoff=turn.money(status.get("payoff_amount")),
            )
            if forgot:
                turn.say("pay_forgot_more")
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
        if says_forgot(turn.message_for("already_paid")):  # "我忘了还了": not paid, the quick way to pay
            await ActionPayNow(self._ledger, self._vault, self._today).handle(turn)
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
