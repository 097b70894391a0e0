"""Promise to pay: amount and date read from the text, checked by the ledger's policy."""

from __future__ import annotations

from datetime import date, timedelta

from actions.base import LedgerAction, call
from actions.ledger_client import LedgerError
from actions.loan_status import is_overdue, load_status, say_dispute
from actions.parsing import money, parse_amount, parse_date, says_in_full, to_money_string
from actions.turn import Turn

REJECTION_KEYS = {
    "amount_out_of_range": "promise_amount_out_of_range",
    "open_promise_exists": "promise_open_promise_exists",
    "dispute_open": "promise_dispute_open",
    "too_many_broken_promises": "promise_too_many_broken_promises",
}


def latest_promise_date(turn: Turn, extra: dict) -> date | None:
    """The latest date the ledger would take (its 422 names it; else today + max_days), or None."""
    try:
        return date.fromisoformat(str(extra["latest_date"])[:10])
    except (KeyError, ValueError):
        pass
    max_days = extra.get("max_days")
    return turn.today + timedelta(days=max_days) if isinstance(max_days, int) and max_days >= 0 else None


class ActionPromiseToPay(LedgerAction):
    def name(self) -> str:
        return "action_promise_to_pay"

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("promise_to_pay")
        if auth is None:
            return
        continuing = turn.slot("awaiting") == "promise_details"
        text = turn.latest_text if continuing else turn.message_for("promise_to_pay")
        if not continuing:
            turn.set("promise_amount", None)
            turn.set("promise_date", None)
        status = await load_status(turn, auth)
        dispute = status.get("open_dispute")
        if dispute:
            turn.set("awaiting", None)
            say_dispute(turn, "dispute_paused", dispute)
            return
        amount = parse_amount(text) or money(turn.slot("promise_amount"))
        if amount is None and says_in_full(text):
            # "月底前还清": the amount the ledger says brings the account current (or pays it off)
            amount = money(status.get("amount_to_bring_current") if is_overdue(status) else status.get("payoff_amount"))
        promised = parse_date(text, turn.today)
        if promised is None and turn.slot("promise_date"):
            promised = date.fromisoformat(turn.slot("promise_date"))
        if promised is not None and promised < turn.today:
            turn.say("promise_past_date")
            promised = None
        turn.set("promise_amount", to_money_string(amount) if amount is not None else None)
        turn.set("promise_date", promised.isoformat() if promised else None)
        if amount is None or promised is None:
            turn.set("awaiting", "promise_details")
            if amount is None and promised is None:
                turn.say("promise_ask")
            else:
                turn.say("promise_ask_amount" if amount is None else "promise_ask_date")
            return
        turn.set("awaiting", None)
        try:
            await call(turn.ledger.create_promise(auth, turn.current_loan(), amount, promised))
        except LedgerError as exc:
            if exc.code != "promise_rejected":
                raise
            self._rejected(turn, exc, status)
            return
        turn.set("promise_amount", None)
        turn.set("promise_date", None)
        turn.say("promise_ok", amount=turn.money(amount), date=turn.date(promised))

    @staticmethod
    def _rejected(turn: Turn, exc: LedgerError, status: dict) -> None:
        reason = exc.extra.get("reason")
        turn.set("promise_date", None)
        if reason == "date_out_of_window":
            # the amount stays: only a new date is asked for, and the latest allowed one is said
            latest = latest_promise_date(turn, exc.extra)
            if latest is not None:
                turn.say("promise_date_out_of_window", latest=turn.date(latest))
            else:
                turn.say("promise_date_out_of_window_plain")
            turn.set("awaiting", "promise_details")
            return
        turn.set("promise_amount", None)
        key = REJECTION_KEYS.get(reason or "", "promise_rejected")
        if key == "promise_too_many_broken_promises":
            turn.offer_human(key)
        elif key == "promise_amount_out_of_range":
            turn.say(key, payoff=turn.money(status.get("payoff_amount")))
            turn.set("awaiting", "promise_details")
        else:
            turn.say(key)
