"""Promise to pay: amount and date read from the text, checked by the ledger's policy.

With a promise open, a new date or amount replaces it ("I meant Friday next week", "make it
500 instead", "改到下周五"): the ledger records the replacement under the same rules and the
borrower hears what changed (old -> new). Right after a promise is recorded the assistant
listens for such a correction (`awaiting` = promise_correction); a reply there that reads as
no correction is not taken as one. A refused date is answered with the latest date allowed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from actions import readings
from actions.base import LedgerAction, call
from actions.ledger_client import BorrowerAuth, LedgerError
from actions.loan_status import is_overdue, load_status, say_dispute
from actions.loans import select_loan
from actions.parsing import money, normalize, parse_amount, parse_date, says_in_full, to_money_string, to_simplified
from actions.turn import Turn

REJECTION_KEYS = {
    "amount_out_of_range": "promise_amount_out_of_range",
    "open_promise_exists": "promise_open_promise_exists",
    "dispute_open": "promise_dispute_open",
    "too_many_broken_promises": "promise_too_many_broken_promises",
}
CORRECTION = "promise_correction"
# An amount said after a promise is a correction only with words like these; a date always is.
_CORRECTION_CUES = re.compile(
    r"改|换成|换到|推到|挪到|延到|提前到|应该是|其实|我是说|我的意思|不对|不是.{0,8}是|而是|instead|i meant|i mean\b|"
    r"make it|change|move|push|rather|actually|correct|not .{0,12} but|should be|update"
)


# "这周五还不上，改到下周一": the new value follows words like these; read what comes after them.
_NEW_VALUE_CUES = re.compile(
    r"改到|改成|改为|换到|换成|推到|挪到|延到|延后到|推迟到|提前到|而是|应该是|我是说|我的意思是|"
    r"\b(?:move|moved|change|changed|push|pushed|shift|put)(?: it| that| the \w+)? to\b|\bmake it\b|\bi meant\b|"
    r"\bi mean\b|\brather\b|\bshould be\b|\bbut\b",
    re.I,
)


def new_value_part(text: str) -> str:
    """The part of a correction that holds the new value: after its last cue, else all of it."""
    cues = list(_NEW_VALUE_CUES.finditer(text or ""))
    return text[cues[-1].end() :] if cues else text


def _cued(text: str) -> bool:
    return bool(_CORRECTION_CUES.search(to_simplified(normalize(text)).lower()))


def _is_correction(text: str, amount: Decimal | None, promised: date | None) -> bool:
    if promised is not None:
        return True
    return amount is not None and _cued(text)


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

    @classmethod
    def claims_reply(cls, turn: Turn) -> bool:
        """Read as another intent, a message still answers "which day / how much?" when it
        carries a date or an amount, and corrects the promise just made when it also says so
        ("不对，改到后天", "make it 500 instead")."""
        text = turn.latest_text
        said = new_value_part(text)
        has_value = parse_date(said, turn.today) is not None or parse_amount(said) is not None
        if turn.slot("awaiting") == CORRECTION:
            return has_value and _cued(text)
        return has_value

    @staticmethod
    async def _not_a_promise(turn: Turn, text: str) -> bool:
        """A message read as a promise that says a payment was made ("I paid 200 yesterday") is
        a payment claim; one that says the borrower cannot pay, with no day or amount ("I can't
        pay this month"), is hardship. Answers it as that and returns True."""
        day = parse_date(text, turn.today)
        if readings.says_paid(text) and (day is None or day <= turn.today):
            await turn.answer_as("already_paid", "promise_to_pay")
            return True
        if readings.says_cannot_pay(text) and parse_amount(text) is None and day is None:
            await turn.answer_as("report_hardship", "promise_to_pay")
            return True
        return False

    async def handle(self, turn: Turn) -> None:
        auth = turn.require_auth("promise_to_pay")
        if auth is None:
            return
        awaiting = turn.slot("awaiting")
        continuing = awaiting in ("promise_details", CORRECTION)
        text = turn.latest_text if continuing else turn.message_for("promise_to_pay")
        if not continuing and await self._not_a_promise(turn, text):
            return
        if not continuing:
            turn.set("promise_amount", None)
            turn.set("promise_date", None)
        if not await select_loan(turn, auth, "promise_to_pay", continuing=continuing):
            return
        status = await load_status(turn, auth)
        dispute = status.get("open_dispute")
        if dispute:
            turn.set("awaiting", None)
            say_dispute(turn, "dispute_paused", dispute)
            turn.offer_human()  # a refusal: a person is offered
            return
        said = new_value_part(text)
        amount = parse_amount(said) or parse_amount(text) or money(turn.slot("promise_amount"))
        if amount is None and says_in_full(text):
            # "月底前还清": the amount the ledger says brings the account current (or pays it off)
            amount = money(status.get("amount_to_bring_current") if is_overdue(status) else status.get("payoff_amount"))
        promised = parse_date(said, turn.today) or parse_date(text, turn.today)
        if promised is None and turn.slot("promise_date"):
            promised = date.fromisoformat(turn.slot("promise_date"))
        if promised is not None and promised < turn.today:
            turn.say("promise_past_date")
            promised = None
        if (
            awaiting == CORRECTION
            and turn.latest_intent != "promise_to_pay"
            and not _is_correction(text, amount, promised)
        ):
            turn.set("awaiting", None)  # not about the promise after all
            turn.say("clarify")
            return
        open_promise = status.get("open_promise")
        if open_promise and open_promise.get("promise_id"):
            await self._replace(turn, auth, status, open_promise, amount, promised)
            return
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
        turn.set("awaiting", CORRECTION)

    async def _replace(
        self,
        turn: Turn,
        auth: BorrowerAuth,
        status: dict,
        open_promise: dict,
        amount: Decimal | None,
        promised: date | None,
    ) -> None:
        """A new date or amount with a promise open: the open one is replaced (what is not said
        stays as it was), and the borrower hears old -> new."""
        old_amount = money(open_promise.get("amount"))
        try:
            old_date = date.fromisoformat(str(open_promise.get("promised_date"))[:10])
        except ValueError:
            old_date = None
        if amount is None and promised is None:
            turn.set("awaiting", "promise_details")
            turn.say("promise_change_ask", amount=turn.money(old_amount), date=turn.date(old_date))
            return
        new_amount = amount if amount is not None else old_amount
        new_date = promised if promised is not None else old_date
        turn.set("promise_amount", None)
        turn.set("promise_date", None)
        if new_amount is None or new_date is None:
            turn.set("awaiting", None)
            turn.offer_human("promise_rejected")
            return
        if (new_amount, new_date) == (old_amount, old_date):
            turn.set("awaiting", None)
            turn.say("promise_unchanged", amount=turn.money(old_amount), date=turn.date(old_date))
            return
        turn.set("awaiting", None)
        try:
            await call(
                turn.ledger.create_promise(
                    auth, turn.current_loan(), new_amount, new_date, replaces=open_promise["promise_id"]
                )
            )
        except LedgerError as exc:
            if exc.code == "promise_not_open":
                turn.say("promise_not_open")
                return
            if exc.code != "promise_rejected":
                raise
            self._rejected(turn, exc, status)
            return
        turn.say(
            "promise_replaced",
            old_amount=turn.money(old_amount),
            old_date=turn.date(old_date),
            amount=turn.money(new_amount),
            date=turn.date(new_date),
        )
        turn.set("awaiting", CORRECTION)

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
            turn.offer_human(key)  # a refusal: a person is offered
