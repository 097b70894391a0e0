"""Translate stored rows into the domain's records (and back)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..db import models as m
from ..db import repositories as repo
from ..db.session import Session
from ..domain.account import ArrangementRecord, LoanContract, PaymentRecord
from ..domain.schedule import ScheduledInstalment


def contract_of(loan: m.Loan, instalments: Iterable[m.Instalment]) -> LoanContract:
    schedule = tuple(
        ScheduledInstalment(i.number, i.due_date, i.principal, i.interest, i.amount)
        for i in sorted(instalments, key=lambda i: i.number)
    )
    return LoanContract(loan.loan_number, loan.principal, loan.apr, loan.term, loan.disbursed_on, schedule)


def payment_record(p: m.Payment) -> PaymentRecord:
    return PaymentRecord(p.external_ref, p.amount, p.received_on)


def arrangement_record(a: m.Arrangement) -> ArrangementRecord:
    return ArrangementRecord(
        arrangement_id=a.id,
        plan_type=a.plan_type,
        accepted_on=a.accepted_on,
        replaces=tuple(int(n) for n in a.replaces),
        schedule=tuple(
            ScheduledInstalment(
                i.number, i.due_date, i.principal, i.interest, i.amount, i.penalty_interest, i.late_fees
            )
            for i in a.instalments
        ),
        waived_late_fees=a.waived_late_fees,
        waived_penalty_interest=a.waived_penalty_interest,
        waived_interest=a.waived_interest,
    )


def instalment_rows(loan_id: str, schedule: Sequence[ScheduledInstalment]) -> list[dict]:
    return [
        {
            "loan_id": loan_id,
            "number": s.number,
            "due_date": s.due_date,
            "amount": s.amount,
            "principal": s.principal,
            "interest": s.interest,
        }
        for s in schedule
    ]


def arrangement_instalments(schedule: Sequence[ScheduledInstalment]) -> list[m.ArrangementInstalment]:
    return [
        m.ArrangementInstalment(
            number=s.number,
            due_date=s.due_date,
            amount=s.amount,
            principal=s.principal,
            interest=s.interest,
            penalty_interest=s.penalty_interest,
            late_fees=s.late_fees,
        )
        for s in schedule
    ]


@dataclass
class LoanRecords:
    """Everything the domain needs about one loan, loaded in one transaction."""

    loan: m.Loan
    contract: LoanContract
    payments: Sequence[m.Payment]
    arrangements: Sequence[m.Arrangement]
    promises: Sequence[m.Promise]
    dispute: m.Dispute | None

    @property
    def payment_records(self) -> tuple[PaymentRecord, ...]:
        return tuple(payment_record(p) for p in self.payments)

    @property
    def arrangement_records(self) -> tuple[ArrangementRecord, ...]:
        return tuple(arrangement_record(a) for a in self.arrangements)


async def load_records(session: Session, loan: m.Loan) -> LoanRecords:
    instalments = await repo.instalments_of_loan(session, loan.id)
    return LoanRecords(
        loan=loan,
        contract=contract_of(loan, instalments),
        payments=await repo.payments_of_loan(session, loan.id),
        arrangements=await repo.arrangements_of_loan(session, loan.id),
        promises=await repo.promises_of_loan(session, loan.id),
        dispute=await repo.open_dispute(session, loan.id),
    )
