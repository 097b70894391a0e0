"""The loan's status from the ledger as several features read it: loaded once the speaker is
verified, overdue or not, and the open items (dispute, promise, arrangement) said after it."""

from __future__ import annotations

from actions import texts
from actions.base import call
from actions.ledger_client import BorrowerAuth, LedgerError, LedgerUnavailable
from actions.parsing import money
from actions.turn import Turn


async def load_status(turn: Turn, auth: BorrowerAuth) -> dict:
    return await call(turn.ledger.get_loan_status(auth, turn.current_loan()))


def is_overdue(status: dict) -> bool:
    total = money((status.get("overdue") or {}).get("total"))
    return bool(status.get("days_past_due")) and total is not None and total > 0


def say_dispute(turn: Turn, key: str, dispute: dict) -> None:
    """A text about an open dispute: its case number and the date the lender replies by."""
    turn.say(key, case_number=dispute.get("case_number"), reply_due_by=turn.date(dispute.get("reply_due_by")))


async def say_dispute_conflict(turn: Turn, auth: BorrowerAuth, extra: dict) -> None:
    """The ledger's 409 dispute_open: the open dispute with its case number and reply date, from
    the error or else from the loan's status; a text with no date only when neither has it."""
    dispute = extra if extra.get("case_number") and extra.get("reply_due_by") else None
    if dispute is None:
        dispute = (await load_status(turn, auth)).get("open_dispute")
    if dispute and dispute.get("case_number") and dispute.get("reply_due_by"):
        say_dispute(turn, "dispute_exists", dispute)
    else:
        turn.say("dispute_exists_plain")


async def dispute_reply_days(turn: Turn) -> int | None:
    """The policy's dispute reply time in days (GET /policy/terms), None when the ledger does not say."""
    try:
        terms = await turn.ledger.get_policy_terms()
    except (LedgerError, LedgerUnavailable):  # an older or unreachable ledger: said without it
        return None
    days = terms.get("dispute_reply_days") if isinstance(terms, dict) else None
    return days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else None


def describe_open_items(turn: Turn, status: dict) -> None:
    dispute = status.get("open_dispute")
    if dispute:
        say_dispute(turn, "status_dispute", dispute)
    promise = status.get("open_promise")
    if promise:
        turn.say(
            "status_promise",
            amount=turn.money(promise.get("amount")),
            promised_date=turn.date(promise.get("promised_date")),
        )
    arrangement = status.get("active_arrangement")
    if arrangement:
        plan = texts.name_of(texts.PLAN_NAMES, arrangement.get("plan_type", ""), turn.lang)
        turn.say("status_arrangement", plan=plan)
