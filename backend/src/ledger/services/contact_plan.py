"""The contact plan of the whole portfolio at one clock: read it set-based (ledger.db.contact_queries),
derive each loan's state for its borrower's local day, run the pure planner
(ledger.domain.contact_plan) and shape the result as JSON. Sends nothing, writes nothing
(``record_plan`` is the separate step a dispatcher takes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ..db import contact_queries as q
from ..db import lab_queries
from ..db.session import Engine, create_session_factory
from ..domain.account import LoanContract, PaymentRecord, arrangement_from_row
from ..domain.contact_plan import (
    BorrowerInput,
    Cadence,
    ContactEvent,
    ContactPlan,
    LoanInput,
    OfferFact,
    PromiseRecord,
    due_state,
    local_today,
    plan_contacts,
    trigger_dates,
)
from ..domain.policy import Policy
from ..domain.schedule import ScheduledInstalment

# The channels the ledger knows to be a borrower's own: the phone on file (sms, phone) and the
# borrower's verified web chat (a notice shown when they next open it); and the chat channels
# the borrower bound (borrower_channels: a WeChat openid, a Telegram chat id). E-mail and app
# addresses are not kept by the ledger, so they are not (yet) the borrower's channels.
LEDGER_CHANNELS = frozenset({"sms", "phone", "web"})


async def build_plan(
    engine: Engine,
    policy: Policy,
    cadence: Cadence,
    now: datetime,
    *,
    screen: bool = True,
    loan_ids: set[str] | None = None,
    delivered_only: bool = False,
) -> ContactPlan:
    """The plan at ``now`` (aware) over every loan of the database (``screen=False``: every loan
    is read and derived, even those that cannot have a reminder due; the tests compare both).
    ``loan_ids``: only these loans (the dispatcher's check at send time); ``delivered_only``:
    the caps count delivered contacts only, not pending ones (the dispatcher checks each pending
    contact against what was actually delivered)."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    async with engine.connect() as conn:
        borrower_rows = await q.borrowers(conn, sorted(loan_ids) if loan_ids is not None else None)
        bound = await q.bound_channels(conn, [r[0] for r in borrower_rows] if loan_ids is not None else None)
        # the dispatcher's check of a batch reads its loans' records only
        only = sorted(loan_ids) if loan_ids is not None else None
        arrangements = await lab_queries.arrangements(conn, only)
        promises = await q.promises(conn, (now - timedelta(days=3)).date(), only)
        offers = await q.open_offers(conn, now, only)
        disputes = await q.loans_with_open_dispute(conn, only)
        contacts = await q.recent_contacts(conn, now - timedelta(days=8), delivered_only=delivered_only, loan_ids=only)
        if loan_ids is not None:
            ids = set(loan_ids)
        else:
            # Only loans that can have a reminder due are read further (domain.trigger_dates).
            zones = {tz or policy.contact.timezone for _, tz, *_ in borrower_rows}
            dates = trigger_dates(cadence, {local_today(now, zone) for zone in zones})
            ids = await q.loans_due_on(conn, sorted(dates)) if screen else await q.all_loan_ids(conn)
            ids |= set(arrangements) | set(promises) | set(offers)
        loan_rows = await q.loans_with_records(conn, ids)
    borrowers: dict[str, BorrowerInput] = {}
    for bid, tz, language, stop_all, opted_out in borrower_rows:
        borrowers[bid] = BorrowerInput(
            borrower_id=bid,
            timezone=tz or policy.contact.timezone,
            language=language,
            channels=LEDGER_CHANNELS | bound[bid] if bid in bound else LEDGER_CHANNELS,
            stop_all=bool(stop_all),
            opted_out=frozenset(opted_out or ()),
        )
    days: dict[str, Any] = {}
    # Frozen records: a row object the read shares between loans (equal records of one product,
    # contact_queries.loans_with_records) makes one instalment, looked up by identity (hashing a
    # tuple of Decimals and dates for each of a plan's instalments costs more than the rest).
    made: dict[int, ScheduledInstalment] = {}
    loans: list[LoanInput] = []
    history: dict[str, list[ContactEvent]] = {}
    for loan_id, number, borrower_id, principal, apr, term, disbursed_on, instalments, payments in loan_rows:
        b = borrowers[borrower_id]
        today = days.get(b.timezone)
        if today is None:
            today = days[b.timezone] = local_today(now, b.timezone)
        schedule = tuple(
            made.get(id(row)) or made.setdefault(id(row), ScheduledInstalment(*row)) for row in instalments
        )
        contract = LoanContract(number, principal, apr, term, disbursed_on, schedule)
        state = due_state(
            contract,
            [PaymentRecord(ref, amount, on) for ref, amount, on in payments],
            [arrangement_from_row(a) for a in arrangements.get(loan_id, ())],
            today,
            policy,
            [PromiseRecord(*p) for p in promises.get(loan_id, ())],
        )
        loans.append(
            LoanInput(
                number,
                borrower_id,
                state,
                dispute_open=loan_id in disputes,
                offers=tuple(OfferFact(oid, exp, True) for oid, exp in offers.get(loan_id, ())),
            )
        )
        if loan_id in contacts:
            history[number] = [ContactEvent(number, ch, at, key, st) for key, ch, at, st in contacts[loan_id]]
    return plan_contacts(loans, borrowers, history, cadence, policy.contact, now)


def plan_json(plan: ContactPlan) -> dict[str, Any]:
    """The plan as the CLI prints it (times ISO 8601 with the borrower's offset)."""
    return {
        "contacts": [
            {
                "loan_number": c.loan_number,
                "borrower_id": c.borrower_id,
                "reason": c.reason,
                "channel": c.channel,
                "send_after": c.send_after.isoformat(),
                "send_before": c.send_before.isoformat(),
                "template": c.template,
                "language": c.language,
                "text": c.text,
                "subject": dict(c.subject),
                "skipped_channels": [{"channel": ch, "rule": rule} for ch, rule in c.skipped_channels],
                "idempotency_key": c.idempotency_key,
            }
            for c in plan.contacts
        ],
        "held": [
            {
                "loan_number": h.loan_number,
                "borrower_id": h.borrower_id,
                "reason": h.reason,
                "rule": h.rule,
                "channel": h.channel,
                "detail": h.detail,
                "idempotency_key": h.idempotency_key,
            }
            for h in plan.held
        ],
    }


async def record_plan(engine: Engine, plan: ContactPlan, loan_ids: dict[str, str], now: datetime) -> int:
    """Record the planned contacts in the contact history (status planned, one row per
    idempotency key; a key already there is left alone). For a dispatcher; the CLI never calls it."""
    rows = [
        {
            "idempotency_key": c.idempotency_key,
            "borrower_id": c.borrower_id,
            "loan_id": loan_ids[c.loan_number],
            "reason": c.reason,
            "channel": c.channel,
            "template": c.template,
            "language": c.language,
            "subject": dict(c.subject),
            "status": "planned",
            "send_after": c.send_after.astimezone(UTC),
            "send_before": c.send_before.astimezone(UTC),
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for c in plan.contacts
    ]
    async with create_session_factory(engine)() as session, session.begin():
        return await q.record_planned(session, rows)
