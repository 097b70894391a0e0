"""The loan replay as it was before the speed work on the policy lab (commit e292996 of
ledger/domain/account.py, unchanged but for its imports): the golden reference that
test_replay_golden.py compares the optimised replay with, figure by figure. Do not edit it
to follow a change of the accounting model: such a change is checked by test_account.py,
and this file is then replaced by a copy of the new model."""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ledger.domain.account import (
    ArrangementRecord,
    Breakdown,
    InstalmentStatus,
    LoanContract,
    LoanStatus,
    NextDue,
    PaymentRecord,
)
from ledger.domain.money import ZERO, round_fen
from ledger.domain.policy import Policy
from ledger.domain.schedule import ScheduledInstalment

ONE_DAY = timedelta(days=1)


@dataclass(slots=True)
class _Inst:
    number: int
    due: date
    principal: Decimal
    interest: Decimal
    amount: Decimal
    cap_penalty: Decimal
    cap_fee: Decimal
    arrangement_id: str | None
    penalty: Decimal = ZERO
    late_fee: Decimal = ZERO
    paid_fee: Decimal = ZERO
    paid_pen: Decimal = ZERO
    paid_int: Decimal = ZERO
    paid_prin: Decimal = ZERO
    forgiven_int: Decimal = ZERO
    replaced: bool = False
    fully_paid_on: date | None = None
    penalty_from: date = date.min

    @property
    def fee_due(self) -> Decimal:
        return self.late_fee + self.cap_fee - self.paid_fee

    @property
    def pen_due(self) -> Decimal:
        return self.penalty + self.cap_penalty - self.paid_pen

    @property
    def int_due(self) -> Decimal:
        return self.interest - self.paid_int - self.forgiven_int

    @property
    def prin_due(self) -> Decimal:
        return self.principal - self.paid_prin

    @property
    def outstanding(self) -> Decimal:
        return self.fee_due + self.pen_due + self.int_due + self.prin_due

    def pay(self, available: Decimal, *, include_interest: bool = True) -> Decimal:
        """Pay this instalment's parts in waterfall order; return what is left of ``available``."""
        for part in ("fee", "pen", "int", "prin"):
            if available <= 0:
                break
            if part == "int" and not include_interest:
                continue
            due = getattr(self, f"{part}_due")
            take = min(due, available)
            if take > 0:
                setattr(self, f"paid_{part}", getattr(self, f"paid_{part}") + take)
                available -= take
        return available


@dataclass(slots=True)
class _Replay:
    insts: list[_Inst] = field(default_factory=list)
    refund: Decimal = ZERO
    closed_on: date | None = None
    total_paid: Decimal = ZERO

    def active(self) -> list[_Inst]:
        return [i for i in self.insts if not i.replaced]

    def payoff(self, day: date) -> Decimal:
        total = ZERO
        for i in self.insts:
            if not i.replaced:
                total += i.fee_due + i.pen_due + i.prin_due + (i.int_due if i.due <= day else ZERO)
        return total


def _inst(s: ScheduledInstalment, arrangement_id: str | None) -> _Inst:
    return _Inst(
        s.number, s.due_date, s.principal, s.interest, s.amount, s.penalty_interest, s.late_fees, arrangement_id
    )


def arrangement_broken_on(
    arrangement: ArrangementRecord, payments: Iterable[PaymentRecord], as_of: date
) -> date | None:
    """The day the arrangement became broken (the day after a missed due date), or None.

    Broken after due date D when the cumulative amount of its instalments due on or before D
    exceeds the payments received from acceptance up to D (inclusive).
    """
    pays = sorted((p for p in payments if p.received_on >= arrangement.accepted_on), key=lambda p: p.received_on)
    due_cum = ZERO
    for inst in sorted(arrangement.schedule, key=lambda s: (s.due_date, s.number)):
        if inst.due_date >= as_of:
            break
        due_cum += inst.amount
        paid_cum = sum((p.amount for p in pays if p.received_on <= inst.due_date), ZERO)
        if due_cum > paid_cum:
            return inst.due_date + ONE_DAY
    return None


def arrangement_state(arrangement: ArrangementRecord, payments: Iterable[PaymentRecord], as_of: date) -> str:
    """ "broken" (see arrangement_broken_on), "kept" (payments since acceptance cover its total) or "active"."""
    payments = tuple(payments)
    if arrangement_broken_on(arrangement, payments, as_of) is not None:
        return "broken"
    paid = sum((p.amount for p in payments if arrangement.accepted_on <= p.received_on <= as_of), ZERO)
    return "kept" if paid >= arrangement.total else "active"


def _accrue(r: _Replay, first: date, last: date, daily_rate: Decimal) -> None:
    """Penalty interest for the days first..last (inclusive) with no event inside the span."""
    if last < first:
        return
    for i in r.insts:
        if i.replaced or i.prin_due <= 0 or i.penalty_from > last:
            continue
        start = max(first, i.penalty_from)
        days = (last - start).days + 1
        if days > 0:
            i.penalty += days * round_fen(i.prin_due * daily_rate)


def _allocate(r: _Replay, amount: Decimal, day: date) -> None:
    r.total_paid += amount
    if r.closed_on is not None:
        r.refund += amount
        return
    payoff = r.payoff(day)
    active = sorted(r.active(), key=lambda i: (i.due, i.number))
    if amount >= payoff:
        for i in active:
            if i.due > day:
                i.forgiven_int += i.int_due
            i.pay(i.outstanding)
        r.refund += amount - payoff
    else:
        left = amount
        for i in active:
            if left <= 0:
                break
            left = i.pay(left)
    for i in active:
        if i.fully_paid_on is None and i.outstanding <= 0:
            i.fully_paid_on = day
    if all(i.outstanding <= 0 for i in active):
        r.closed_on = day


def _replay(
    contract: LoanContract,
    payments: Sequence[PaymentRecord],
    arrangements: Sequence[ArrangementRecord],
    as_of: date,
    policy: Policy,
) -> _Replay:
    ch = policy.charges
    daily_rate = ch.penalty_annual_rate(contract.apr) / ch.day_count
    r = _Replay(insts=[_inst(s, None) for s in contract.schedule])
    by_day_pay: dict[date, list[PaymentRecord]] = {}
    for p in payments:
        if p.received_on <= as_of:
            by_day_pay.setdefault(p.received_on, []).append(p)
    by_day_arr: dict[date, list[ArrangementRecord]] = {}
    for a in arrangements:
        if a.accepted_on <= as_of:
            by_day_arr.setdefault(a.accepted_on, []).append(a)
    fee_days: set[date] = set()
    for s in contract.schedule:
        fee_days.add(s.due_date + timedelta(days=ch.late_fee_at_dpd))
    for a in arrangements:
        for s in a.schedule:
            fee_days.add(s.due_date + timedelta(days=ch.late_fee_at_dpd))
    events = sorted(
        d for d in set(by_day_pay) | set(by_day_arr) | fee_days | {as_of} if contract.disbursed_on <= d <= as_of
    )
    grace = timedelta(days=ch.grace_days + 1)
    for i in r.insts:
        i.penalty_from = i.due + grace
    done = contract.disbursed_on  # charges accrued through this day
    for day in events:
        if r.closed_on is None:
            _accrue(r, done + ONE_DAY, day - ONE_DAY, daily_rate)
        for a in by_day_arr.get(day, ()):
            replaced = set(a.replaces)
            for i in r.insts:
                if i.number in replaced:
                    i.replaced = True
            for s in a.schedule:
                ni = _inst(s, a.arrangement_id)
                ni.penalty_from = ni.due + grace
                r.insts.append(ni)
            if r.closed_on is not None and any(i.outstanding > 0 for i in r.active()):
                r.closed_on = None
        for p in by_day_pay.get(day, ()):
            _allocate(r, p.amount, day)
        if r.closed_on is None:
            if day > done:
                _accrue(r, day, day, daily_rate)
            for i in r.insts:
                if (
                    not i.replaced
                    and i.late_fee == 0
                    and (day - i.due).days == ch.late_fee_at_dpd
                    and i.int_due + i.prin_due > 0
                ):
                    i.late_fee = ch.late_fee(i.principal + i.interest)
        done = max(done, day)
    return r


def derive_status(
    contract: LoanContract,
    payments: Iterable[PaymentRecord],
    arrangements: Iterable[ArrangementRecord],
    as_of: date,
    policy: Policy,
) -> LoanStatus:
    """The loan's state at the end of ``as_of`` (see the module docstring for the model)."""
    payments = tuple(sorted(payments, key=lambda p: p.received_on))
    arrangements = tuple(
        sorted(
            (a for a in arrangements if a.accepted_on <= as_of), key=lambda a: (a.accepted_on, str(a.arrangement_id))
        )
    )
    broken = {a.arrangement_id for a in arrangements if arrangement_broken_on(a, payments, as_of) is not None}
    effective = tuple(a for a in arrangements if a.arrangement_id not in broken)
    r = _replay(contract, payments, effective, as_of, policy)

    ordered = sorted(r.insts, key=lambda i: (i.due, i.number))
    views: list[InstalmentStatus] = []
    o_prin = o_int = o_pen = o_fee = ZERO
    unpaid_principal = charges = ZERO
    oldest_unpaid: date | None = None
    next_due: NextDue | None = None
    for i in ordered:
        out = i.outstanding
        if i.replaced:
            state = "replaced"
        elif out <= 0:
            state = "paid"
        elif i.due < as_of:
            state = "overdue"
        elif i.due == as_of:
            state = "due"
        else:
            state = "upcoming"
        dpd = (as_of - i.due).days if state == "overdue" else 0
        views.append(
            InstalmentStatus(
                number=i.number,
                due_date=i.due,
                amount=i.amount,
                principal=i.principal,
                interest=i.interest,
                paid=i.paid_fee + i.paid_pen + i.paid_int + i.paid_prin,
                state=state,
                days_past_due=dpd,
                penalty_interest=i.penalty,
                late_fee=i.late_fee,
                is_arrangement=i.arrangement_id is not None,
                arrangement_id=i.arrangement_id,
                outstanding=ZERO if i.replaced else out,
                unpaid_principal=i.prin_due,
                unpaid_interest=i.int_due,
                unpaid_charges=i.fee_due + i.pen_due,
                fully_paid_on=i.fully_paid_on,
            )
        )
        if i.replaced:
            continue
        unpaid_principal += i.prin_due
        charges += i.fee_due + i.pen_due
        if state == "overdue":
            o_prin += i.prin_due
            o_int += i.int_due
            o_pen += i.pen_due
            o_fee += i.fee_due
            if oldest_unpaid is None:
                oldest_unpaid = i.due
        elif state in ("due", "upcoming") and next_due is None:
            next_due = NextDue(i.due, out)
    overdue_total = o_prin + o_int + o_pen + o_fee
    dpd = (as_of - oldest_unpaid).days if oldest_unpaid is not None else 0
    closed = r.closed_on is not None
    states: dict[str, str] = {}
    active_id: str | None = None
    for a in arrangements:
        if a.arrangement_id in broken:
            states[a.arrangement_id] = "broken"
            continue
        mine = [i for i in r.insts if i.arrangement_id == a.arrangement_id and not i.replaced]
        if closed or all(i.outstanding <= 0 for i in mine):
            states[a.arrangement_id] = "kept"
        else:
            states[a.arrangement_id] = "active"
            active_id = a.arrangement_id
    return LoanStatus(
        loan_number=contract.loan_number,
        as_of=as_of,
        days_past_due=dpd,
        bucket=policy.bucket_for(dpd),
        overdue=Breakdown(o_prin, o_int, o_pen, o_fee, overdue_total),
        amount_to_bring_current=overdue_total,
        payoff_amount=ZERO if closed else r.payoff(as_of),
        next_due=next_due,
        instalments=tuple(views),
        closed=closed,
        refund_owed=r.refund,
        arrangement_states=states,
        active_arrangement_id=active_id,
        closed_on=r.closed_on,
        total_paid=r.total_paid,
        unpaid_principal=unpaid_principal,
        charges_outstanding=charges,
    )
