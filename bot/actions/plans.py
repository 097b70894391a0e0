"""Choosing an offered plan: its schedule summary, the broken-arrangement rule, an explicit
yes/no, then the acceptance.

No action of its own: the replies that choose, accept or decline a plan are answered by the
dialogue feature (inform / affirm / deny) and, for a plan named in a new request, by the
hardship feature; both call these steps. With offers on screen, any message that names or
numbers a plan reaches the inform handler whatever intent the NLU read in it (actions/base.py).

Which offered plan a message means (``resolve``): a plan named ("the rate cut one", "按季度那个"),
a position among the eligible plans as shown ("the 2nd one", "第二个", "the last one"), or a
figure ("月供最低的那个": the lowest regular payment a month; "the cheapest": the lowest total)
must all point at the same plan, else the borrower is asked which; a plan named that is not on
offer is explained. Only then does how it is paid decide ("分期那个", "the one-off one"): the
one plan of that kind, or of several the first of KIND_PREFERENCE.
"""

from __future__ import annotations

from decimal import Decimal

from actions import texts
from actions.base import call
from actions.ledger_client import BorrowerAuth, LedgerError
from actions.offers import not_eligible_reason, show_plans, show_summary
from actions.parsing import PLAN_TYPES, PlanReference, money, parse_plan_reference
from actions.turn import Turn

OFFER_ERRORS = {
    "offer_expired": "offer_expired",
    "offer_superseded": "offer_superseded",
    "offer_already_accepted": "offer_already_accepted",
    "offer_not_eligible": "offer_not_eligible",
    "arrangement_exists": "arrangement_exists",
}


# Of several offered plans paid that way, the one a borrower most likely means.
KIND_PREFERENCE = {
    "instalments": ("term_extension", "reduced_rate", "deferral", "quarterly"),
    "monthly": ("term_extension", "reduced_rate", "deferral"),
    "once": ("settlement", "fee_waiver"),
}


def read_choice(turn: Turn) -> PlanReference | None:
    chosen = turn.entity("choice")
    if chosen in PLAN_TYPES:
        return PlanReference(plan_types=(chosen,))
    return parse_plan_reference(turn.latest_text)


def _figure(record: dict, key: str) -> Decimal | None:
    value = (record.get("comparison") or {}).get(key) or record.get(key)
    return money(value) if isinstance(value, str) else None


def _per_month(record: dict) -> Decimal | None:
    c = record.get("comparison") or {}
    regular = money(c.get("later_payment_amount") or "") or _figure(record, "payment_amount")
    if regular is None:
        return None
    return regular / 3 if record.get("payment_frequency") == "quarterly" else regular


def _lowest(records: list[dict], figure) -> dict | None:
    known = [(v, i) for i, r in enumerate(records) if (v := figure(r)) is not None]
    return records[min(known)[1]] if known else None


def _by_figure(kind: str, eligible: list[dict]) -> dict | None:
    if kind == "lowest_payment":
        regular = [r for r in eligible if r.get("payment_frequency") != "once"] or eligible
        return _lowest(regular, _per_month)
    if kind == "lowest_total":
        return _lowest(eligible, lambda r: _figure(r, "total_to_repay"))
    return None


def _by_kind(kind: str, eligible: list[dict]) -> dict | None:
    if kind == "instalments":
        matching = [r for r in eligible if r.get("payment_frequency") != "once"]
    elif kind in ("monthly", "once"):
        matching = [r for r in eligible if r.get("payment_frequency") == kind]
    else:
        return None
    if len(matching) <= 1:
        return matching[0] if matching else None
    order = KIND_PREFERENCE[kind]
    return min(matching, key=lambda r: order.index(r["plan_type"]) if r["plan_type"] in order else len(order))


def resolve(ref: PlanReference, records: list[dict]) -> tuple[str, dict | None]:
    """('chosen', plan) | ('not_offered', plan named but not on offer) | ('unclear', None)."""
    eligible = [r for r in records if r.get("eligible")]
    pointed: list[dict] = []
    not_offered = None
    for plan_type in ref.plan_types:
        record = next((r for r in records if r.get("plan_type") == plan_type), None)
        if record is not None and record.get("eligible"):
            pointed.append(record)
        else:
            not_offered = not_offered or record or {"plan_type": plan_type, "reasons": [], "eligible": False}
    for position in ref.positions:
        index = len(eligible) if position == -1 else position
        if not 1 <= index <= len(eligible):
            return "unclear", None
        pointed.append(eligible[index - 1])
    pointed += [r for kind in ref.kinds if (r := _by_figure(kind, eligible)) is not None]
    distinct = {r.get("offer_id") for r in pointed}
    if len(distinct) > 1 or (pointed and not_offered is not None):
        return "unclear", None
    if pointed:
        return "chosen", pointed[0]
    if not_offered is not None:
        return "not_offered", not_offered
    for kind in ref.kinds:
        record = _by_kind(kind, eligible)
        if record is not None:
            return "chosen", record
    return "unclear", None


async def choose_plan(turn: Turn) -> bool:
    """Handle a plan choice against the offered plans; False when no offers are on the table.

    While a chosen plan waits for its yes (awaiting plan_confirmation), naming that same plan
    with a yes accepts it, with a no declines it; naming another plan chooses that one instead."""
    records = turn.slot("offered_plans") or []
    if not records:
        return False
    ref = read_choice(turn)
    outcome, record = resolve(ref, records) if ref is not None and not ref.is_empty() else ("unclear", None)
    if outcome == "not_offered" and record is not None:
        turn.say_raw(not_eligible_reason(turn, record))
        show_plans(turn, records)
        turn.offer_human("refusal_offer_human", awaiting="human_offer_hardship")  # a refusal offers a person
        return True
    if record is None:
        several = ref is not None and len(ref.plan_types) + len(ref.positions) + len(ref.kinds) > 1
        if several:
            turn.say("plan_which")
        else:
            turn.missed("plan_unknown_choice")
            if turn.slot("awaiting") == "human_offer_fallback":
                return True  # the second miss in a row: a person offered instead of the list again
        show_plans(turn, records)
        return True
    confirming = turn.slot("awaiting") == "plan_confirmation"
    if confirming and record.get("offer_id") == turn.slot("chosen_offer_id"):
        if turn.latest_intent == "affirm":
            await accept_chosen(turn)
            return True
        if turn.latest_intent == "deny":
            decline_chosen(turn)
            return True
    await show_summary(turn, record)
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
