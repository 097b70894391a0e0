"""Relief: evaluating a hardship case into stored offers, and accepting one atomically.

Exactly one arrangement per evaluation, whatever the concurrency: the loan row is locked
(SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE), the
offer is re-read under that lock (so a supersession or expiry meanwhile is seen), and
the database's UNIQUE(arrangements.evaluation_id) and UNIQUE(arrangements.offer_id) are the
backstop should two acceptances ever get past the checks together.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..db import models as m
from ..db import repositories as repo
from ..db.errors import DuplicateRow
from ..domain.account import derive_status
from ..domain.errors import (
    ArrangementExists,
    DisputeOpen,
    HardshipCaseMissing,
    NotFound,
    OfferAlreadyAccepted,
    OfferExpired,
    OfferNotEligible,
    OfferSuperseded,
)
from ..domain.relief import (
    CurrentSchedule,
    HardshipFacts,
    OfferComparison,
    OfferTerms,
    ReliefHistory,
    Waived,
    build_arrangement,
    evaluate_relief,
)
from ..domain.schedule import ScheduledInstalment
from .context import Ledger
from .records import arrangement_instalments, load_records
from .verification import Caller, authorize, borrower_loan
from .views import arrangement_view, money, schedule_rows


def _schedule_payload(schedule: tuple[ScheduledInstalment, ...]) -> list[dict[str, Any]]:
    return [
        {
            "number": s.number,
            "due_date": s.due_date.isoformat(),
            "amount": money(s.amount),
            "principal": money(s.principal),
            "interest": money(s.interest),
            "penalty_interest": money(s.penalty_interest),
            "late_fees": money(s.late_fees),
        }
        for s in schedule
    ]


def terms_payload(t: OfferTerms) -> dict[str, Any]:
    """OfferTerms as JSON (amounts as strings) so the accepted offer is exactly the offered one."""
    return {
        "plan_type": t.plan_type,
        "payment_amount": money(t.payment_amount),
        "payment_frequency": t.payment_frequency,
        "total_to_repay": money(t.total_to_repay),
        "waived": {
            "late_fees": money(t.waived.late_fees),
            "penalty_interest": money(t.waived.penalty_interest),
            "interest": money(t.waived.interest),
            "total": money(t.waived.total),
        },
        "schedule": _schedule_payload(t.schedule),
        "payment_to_disposable_income": None
        if t.payment_to_disposable_income is None
        else format(t.payment_to_disposable_income, "f"),
        "holiday_months": t.holiday_months,
        "replaces": list(t.replaces),
        "valid_days": t.valid_days,
        "apr": format(t.apr, "f"),
        "first_payment_amount": money(t.first_payment_amount),
        "largest_payment": money(t.largest_payment),
    }


def terms_from_payload(d: dict[str, Any]) -> OfferTerms:
    w = d["waived"]
    return OfferTerms(
        plan_type=d["plan_type"],
        payment_amount=Decimal(d["payment_amount"]),
        payment_frequency=d["payment_frequency"],
        total_to_repay=Decimal(d["total_to_repay"]),
        waived=Waived(
            Decimal(w["late_fees"]), Decimal(w["penalty_interest"]), Decimal(w["interest"]), Decimal(w["total"])
        ),
        schedule=tuple(
            ScheduledInstalment(
                s["number"],
                date.fromisoformat(s["due_date"]),
                Decimal(s["principal"]),
                Decimal(s["interest"]),
                Decimal(s["amount"]),
                Decimal(s["penalty_interest"]),
                Decimal(s["late_fees"]),
            )
            for s in d["schedule"]
        ),
        payment_to_disposable_income=None
        if d["payment_to_disposable_income"] is None
        else Decimal(d["payment_to_disposable_income"]),
        holiday_months=d["holiday_months"],
        replaces=tuple(d["replaces"]),
        valid_days=d["valid_days"],
        apr=Decimal(d["apr"]),
        first_payment_amount=Decimal(d["first_payment_amount"]),
        largest_payment=Decimal(d["largest_payment"]),
    )


def comparison_view(c: OfferComparison) -> dict[str, Any]:
    return {
        "payment_amount": money(c.payment_amount),
        "payment_frequency": c.payment_frequency,
        "later_payment_amount": None if c.later_payment_amount is None else money(c.later_payment_amount),
        "payment_count": c.payment_count,
        "first_payment_date": c.first_payment_date.isoformat(),
        "last_payment_date": c.last_payment_date.isoformat(),
        "total_to_repay": money(c.total_to_repay),
        "payment_change": None if c.payment_change is None else money(c.payment_change),
        "total_change": money(c.total_change),
    }


def current_schedule_view(c: CurrentSchedule | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "payment_amount": money(c.payment_amount),
        "payment_frequency": c.payment_frequency,
        "amount_due_now": money(c.amount_due_now),
        "payment_count": c.payment_count,
        "first_payment_date": c.first_payment_date.isoformat(),
        "next_instalment_date": c.next_instalment_date.isoformat(),
        "last_payment_date": c.last_payment_date.isoformat(),
        "total_to_repay": money(c.total_to_repay),
    }


def _history(
    arrangements: list[m.Arrangement] | Any, restructure_plans: tuple[str, ...], dispute: bool
) -> ReliefHistory:
    return ReliefHistory(
        restructure_dates=tuple(a.accepted_on for a in arrangements if a.plan_type in restructure_plans),
        fee_waiver_dates=tuple(a.accepted_on for a in arrangements if a.plan_type == "fee_waiver"),
        open_dispute=dispute,
    )


async def evaluate(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    loan_number: str,
    hardship_case_id: str | None,
    desk_caller: Caller | None = None,
) -> dict[str, Any]:
    """Evaluate the loan's plans on a hardship case into stored offers. ``desk_caller``: an agent
    evaluates for a borrower verified in the conversation (the audit's actor is the agent);
    ``hardship_case_id`` None then means the loan's newest hardship case."""
    today = ledger.today()
    now = ledger.now()
    async with ledger.sessions() as session, session.begin():
        caller = desk_caller or await authorize(ledger, session, token, conversation_id)
        loan = await borrower_loan(session, caller, loan_number, lock=True)
        if hardship_case_id is None:
            case = await repo.newest_hardship_case(session, loan.id)
            if case is None:
                raise HardshipCaseMissing(
                    "no hardship case for this loan yet: the borrower's hardship answers are needed"
                )
        else:
            case = await repo.hardship_case(session, hardship_case_id, loan.id)
        if case is None:
            raise NotFound("no such hardship case for this loan")
        records = await load_records(session, loan)
        status = derive_status(
            records.contract, records.payment_records, records.arrangement_records, today, ledger.policy
        )
        facts = HardshipFacts(
            case.reason, case.duration, case.monthly_income, case.essential_expenses, case.other_debt_payments
        )
        history = _history(records.arrangements, ledger.policy.relief.restructure_plans, records.dispute is not None)
        result = evaluate_relief(records.contract, status, facts, history, today, ledger.policy)
        evaluation = m.Evaluation(loan_id=loan.id, hardship_case_id=case.id, as_of=today, created_at=now, payload={})
        session.add(evaluation)
        await session.flush()
        await repo.supersede_open_offers(session, loan.id, now)
        expires_at = now + timedelta(hours=ledger.policy.relief.offer_expiry_hours)
        plans: list[dict[str, Any]] = []
        offer_ids: list[str] = []
        for plan in result.plans:
            offer_view = None
            if plan.eligible and plan.offer is not None and plan.comparison is not None:
                offer = m.Offer(
                    evaluation_id=evaluation.id,
                    loan_id=loan.id,
                    plan_type=plan.plan_type,
                    created_at=now,
                    expires_at=expires_at,
                    payload=terms_payload(plan.offer),
                )
                session.add(offer)
                await session.flush()
                offer_ids.append(offer.id)
                t = plan.offer
                offer_view = {
                    "offer_id": offer.id,
                    "expires_at": expires_at.isoformat(),
                    "payment_amount": money(t.payment_amount),
                    "payment_frequency": t.payment_frequency,
                    "total_to_repay": money(t.total_to_repay),
                    "waived": {
                        "late_fees": money(t.waived.late_fees),
                        "penalty_interest": money(t.waived.penalty_interest),
                        "interest": money(t.waived.interest),
                        "total": money(t.waived.total),
                    },
                    "payment_to_disposable_income": None
                    if t.payment_to_disposable_income is None
                    else format(t.payment_to_disposable_income, "f"),
                    "holiday_months": t.holiday_months,
                    "schedule": schedule_rows(t.schedule),
                    "comparison": comparison_view(plan.comparison),
                }
            plans.append(
                {
                    "plan_type": plan.plan_type,
                    "eligible": plan.eligible,
                    "reasons": [{"code": r.code, "zh": r.zh, "en": r.en} for r in plan.reasons],
                    "offer": offer_view,
                }
            )
        payload = {
            "evaluation_id": evaluation.id,
            "loan_number": loan.loan_number,
            "as_of": today.isoformat(),
            "disposable_income": money(result.disposable_income),
            "affordability_limit": money(result.affordability_limit),
            "needs_human_review": result.needs_human_review,
            "current_schedule": current_schedule_view(result.current),
            "plans": plans,
        }
        evaluation.payload = payload
        await repo.add_audit(
            session,
            at=now,
            actor=caller.actor,
            action="offers_made",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail={
                "conversation_id": caller.conversation_id,
                "evaluation_id": evaluation.id,
                "hardship_case_id": case.id,
                "offer_ids": offer_ids,
                "eligible": [p["plan_type"] for p in plans if p["eligible"]],
                "needs_human_review": result.needs_human_review,
            },
        )
    return payload


async def _still_eligible(ledger: Ledger, session: Any, offer: m.Offer, records: Any, status: Any, today: date) -> None:
    """Raise OfferNotEligible unless the offer's plan is still eligible today, evaluated on the
    hardship case its evaluation used (the loan, its payments and arrangements as they are now)."""
    evaluation = await session.get(m.Evaluation, offer.evaluation_id)
    case = await repo.hardship_case(session, evaluation.hardship_case_id, offer.loan_id) if evaluation else None
    if case is None:  # pragma: no cover - an evaluation always has its case (foreign key)
        raise OfferNotEligible("the hardship case of this offer is gone")
    facts = HardshipFacts(
        case.reason, case.duration, case.monthly_income, case.essential_expenses, case.other_debt_payments
    )
    history = _history(records.arrangements, ledger.policy.relief.restructure_plans, records.dispute is not None)
    result = evaluate_relief(records.contract, status, facts, history, today, ledger.policy)
    plan = next((p for p in result.plans if p.plan_type == offer.plan_type), None)
    if plan is None or not plan.eligible:
        why = "; ".join(r.en for r in plan.reasons) if plan is not None else "the plan is no longer offered"
        raise OfferNotEligible(f"{offer.plan_type} is no longer eligible: {why}")


async def accept(
    ledger: Ledger,
    *,
    token: str | None,
    conversation_id: str | None,
    offer_id: str,
    desk_caller: Caller | None = None,
    recheck: bool = False,
) -> dict[str, Any]:
    """Accept an offer into an arrangement. ``desk_caller``: the borrower accepts a plan card an
    agent sent (verified in that conversation). ``recheck``: the plan is evaluated again on the
    same hardship case as of now, and refused (OfferNotEligible) if the rules no longer allow it."""
    async with ledger.sessions() as session, session.begin():
        caller = desk_caller or await authorize(ledger, session, token, conversation_id)
        offer = await repo.offer_by_id(session, offer_id)
        if offer is None:
            raise NotFound("no such offer")
        loan = await repo.loan_by_id(session, offer.loan_id)
        if loan is None or loan.borrower_id != caller.borrower_id:
            raise NotFound("no such offer")
        await repo.lock_loan(session, loan.id)
        # Everything below is decided under the loan lock: the offer is read again (a new
        # evaluation may have superseded it while this transaction waited for the lock) and
        # its expiry is judged at the time the lock was obtained.
        offer = await repo.offer_by_id(session, offer_id, refresh=True)
        if offer is None:
            raise NotFound("no such offer")
        today = ledger.today()
        now = ledger.now()
        if await repo.arrangement_for_evaluation(session, offer.evaluation_id) is not None:
            raise OfferAlreadyAccepted("this offer (or another of the same evaluation) was already accepted")
        if offer.superseded_at is not None:
            raise OfferSuperseded("a newer evaluation replaced this offer; please use the latest offers")
        if offer.expires_at <= now:
            raise OfferExpired(f"the offer expired at {offer.expires_at.isoformat()}")
        records = await load_records(session, loan)
        if records.dispute is not None:
            raise DisputeOpen(case_number=records.dispute.case_number, reply_due_by=records.dispute.reply_due_by)
        status = derive_status(
            records.contract, records.payment_records, records.arrangement_records, today, ledger.policy
        )
        if status.active_arrangement_id is not None:
            raise ArrangementExists("the loan already has an active arrangement")
        if recheck:
            await _still_eligible(ledger, session, offer, records, status, today)
        terms = terms_from_payload(offer.payload)
        arrangement_id = m.new_id()
        record = build_arrangement(terms, offer.plan_type, arrangement_id, today)
        arrangement = m.Arrangement(
            id=arrangement_id,
            loan_id=loan.id,
            offer_id=offer.id,
            evaluation_id=offer.evaluation_id,
            plan_type=offer.plan_type,
            accepted_at=now,
            accepted_on=today,
            replaces=list(record.replaces),
            payment_frequency=terms.payment_frequency,
            total_to_repay=record.total,
            waived_late_fees=record.waived_late_fees,
            waived_penalty_interest=record.waived_penalty_interest,
            waived_interest=record.waived_interest,
            holiday_months=terms.holiday_months,
            record={"offer": offer.payload},
            instalments=arrangement_instalments(record.schedule),
        )
        try:
            await repo.add_in_savepoint(session, arrangement)
        except DuplicateRow:
            raise OfferAlreadyAccepted("this offer (or another of the same evaluation) was already accepted") from None
        await repo.add_audit(
            session,
            at=now,
            actor=caller.actor,
            action="offer_accepted",
            borrower_id=caller.borrower_id,
            loan_id=loan.id,
            detail={
                "conversation_id": caller.conversation_id,
                "offer_id": offer.id,
                "evaluation_id": offer.evaluation_id,
                "arrangement_id": arrangement_id,
                "plan_type": offer.plan_type,
                "total_to_repay": money(record.total),
            },
        )
        payments = records.payment_records
    return arrangement_view(arrangement, loan.loan_number, payments, today)
