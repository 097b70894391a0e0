"""Choosing an offered plan: its schedule summary, an explicit yes/no, then the acceptance.

No action of its own: the replies that choose, accept or decline a plan are answered by the
dialogue feature (inform / affirm / deny) and, for a plan named in a new request, by the
hardship feature; both call these steps.
"""

from __future__ import annotations

from actions import texts
from actions.base import call
from actions.ledger_client import BorrowerAuth, LedgerError
from actions.offers import not_eligible_reason, show_plans, show_summary
from actions.parsing import PLAN_TYPES, parse_plan_choice
from actions.turn import Turn

OFFER_ERRORS = {
    "offer_expired": "offer_expired",
    "offer_superseded": "offer_superseded",
    "offer_already_accepted": "offer_already_accepted",
    "offer_not_eligible": "offer_not_eligible",
    "arrangement_exists": "arrangement_exists",
}


def read_choice(turn: Turn) -> int | str | None:
    chosen = turn.entity("choice")
    if chosen in PLAN_TYPES:
        return chosen
    return parse_plan_choice(turn.latest_text)


def choose_plan(turn: Turn) -> bool:
    """Handle a plan choice against the offered plans; False when no offers are on the table."""
    records = turn.slot("offered_plans") or []
    if not records:
        return False
    eligible = [r for r in records if r.get("eligible")]
    choice = read_choice(turn)
    record = None
    if isinstance(choice, int) and eligible:
        index = len(eligible) if choice == -1 else choice
        record = eligible[index - 1] if 1 <= index <= len(eligible) else None
    elif isinstance(choice, str):
        record = next((r for r in records if r.get("plan_type") == choice), None)
        if record is not None and not record.get("eligible"):
            turn.say_raw(not_eligible_reason(turn, record))
            show_plans(turn, records)
            turn.offer_human("refusal_offer_human", awaiting="human_offer_hardship")  # a refusal offers a person
            return True
    if record is None:
        turn.missed("plan_unknown_choice")
        if turn.slot("awaiting") == "human_offer_fallback":
            return True  # the second miss in a row: a person offered instead of the list again
        show_plans(turn, records)
        return True
    show_summary(turn, record)
    return True


async def accept_chosen(turn: Turn) -> None:
    offer_id = turn.slot("chosen_offer_id")
    record = next((r for r in turn.slot("offered_plans") or [] if r.get("offer_id") == offer_id), None)
    if not offer_id or record is None:
        turn.set("awaiting", None)
        turn.say("no_offer_pending")
        return
    auth = turn.require_auth("request_payment_plan")
    if auth is None:
        return
    try:
        arrangement = await call(turn.ledger.accept_offer(auth, offer_id))
    except LedgerError as exc:
        key = OFFER_ERRORS.get(exc.code)
        if key is None:
            raise
        turn.set("awaiting", None)
        turn.set("chosen_offer_id", None)
        if key == "offer_already_accepted" and await restate_accepted(turn, auth, offer_id):
            return
        if key in ("offer_not_eligible", "arrangement_exists"):
            turn.offer_human(key)  # a refusal: a person is offered
        else:
            turn.say(key)
        return
    turn.set("awaiting", None)
    turn.set("offered_plans", None)
    schedule = (arrangement or {}).get("schedule") or record.get("schedule_preview") or [None]
    first = schedule[0]
    if first:
        turn.say("plan_accepted", amount=turn.money(first.get("amount")), due_date=turn.date(first.get("due_date")))
    else:
        turn.say("plan_accepted_plain")


async def restate_accepted(turn: Turn, auth: BorrowerAuth, offer_id: str) -> bool:
    """The offer was accepted before (the borrower never saw the answer, e.g. a slow turn):
    the ledger's 409 carries no terms, so the arrangement is read back (GET arrangements) and
    its terms restated. False when it cannot be found (the plain "already accepted" then)."""
    loan_number = turn.loan_number()
    if not loan_number:
        return False
    arrangements = await call(turn.ledger.get_arrangements(auth, loan_number))
    evaluation_id = turn.slot("evaluation_id")
    arrangement = next((a for a in arrangements if a.get("offer_id") == offer_id), None) or next(
        (a for a in arrangements if evaluation_id and a.get("evaluation_id") == evaluation_id), None
    )
    schedule = (arrangement or {}).get("schedule") or []
    if arrangement is None or not schedule:
        return False
    first = schedule[0]
    turn.set("offered_plans", None)
    turn.say(
        "offer_accepted_terms",
        plan=texts.name_of(texts.PLAN_NAMES, arrangement.get("plan_type"), turn.lang),
        amount=turn.money(first.get("amount")),
        due_date=turn.date(first.get("due_date")),
        count=len(schedule),
        total=turn.money(arrangement.get("total_to_repay")),
    )
    return True


def decline_chosen(turn: Turn) -> None:
    turn.set("chosen_offer_id", None)
    # the person offered with the other plans reviews the case (escalation reason hardship_review)
    turn.set("awaiting", "human_offer_hardship" if turn.slot("offered_plans") else None)
    turn.say("plan_declined", buttons=turn.human_buttons())
