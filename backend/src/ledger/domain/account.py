"""The loan account: replaying a contract, its payments and its arrangements into a status.

Accounting model
================
Nothing here is stored. A loan's state on any day is *derived* by replaying three
append-only inputs from the disbursement date up to ``as_of`` (inclusive):

* the contract: principal, APR, term and its annuity schedule (``schedule.build_schedule``);
* the payments: exact amounts with the calendar day they were received;
* the accepted arrangements (relief plans), each replacing some instalments by its own.

Every day is processed in this order:

1. arrangements accepted that day take effect: the instalments they replace stop being owed
   (state ``replaced``; what was already paid on them stays paid) and the arrangement's own
   instalments become owed. Charges accrued on the replaced instalments up to acceptance are
   either captured in the arrangement's schedule (its ``penalty_interest`` / ``late_fees``
   parts) or waived; the arrangement's ``waived_*`` fields record what was waived.
2. payments of the day are allocated (before that day's accrual) by the waterfall of
   docs/policy.md: a payment of at least the payoff amount closes the loan (interest
   of instalments not yet due is not owed) and the excess becomes ``refund_owed``; otherwise
   instalments are paid in due order (oldest first) and within an instalment late fee, then
   penalty interest, then interest, then principal. Money left after every overdue and
   currently due amount pays the next instalments in due order (interest before principal).
3. the day's charges accrue, by the policy's ``charges`` rules. An instalment is overdue
   from the day after its due date; penalty interest starts ``grace_days`` later. Penalty
   interest (罚息) accrues for every calendar day past due on the unpaid principal part of
   each overdue instalment at min(APR * penalty_rate_multiplier, penalty_rate_cap) /
   day_count, each day's amount rounded half-up to the fen. A late fee (违约金) is charged
   once per instalment on the day it reaches ``late_fee_at_dpd`` days past due if it is not
   fully paid then: ``late_fee_rate`` of the instalment amount (principal + interest) clamped
   to [``late_fee_min``, ``late_fee_max``].

Between days with an event (payment, acceptance, late-fee day, ``as_of``) the unpaid
principal is constant, so the replay accrues whole spans at once: n days * the rounded daily
amount, which is exactly the day-by-day result.

Arrangements
------------
An arrangement is *kept* when all its instalments are paid and *broken* when, after any of
its due dates D (that is, from the day after D), the cumulative amount of its instalments due
on or before D exceeds the cumulative payments received from its acceptance to D. A broken
arrangement is void: the status is recomputed from the original contract with all payments,
and every charge it had set aside is reinstated (the borrower is told this when accepting:
``Policy.texts.arrangement_terms``). Services allow one active arrangement at a time, so the
replaced instalments are always instalments in effect at acceptance.

Derived figures
---------------
* DPD = days since the due date of the oldest instalment not fully paid (0 if none is past
  due); the bucket comes from the policy's ``buckets``.
* overdue / amount_to_bring_current: everything owed on instalments due before ``as_of``,
  charges included.
* payoff_amount: all charges outstanding + unpaid interest of instalments due on or before
  ``as_of`` + all unpaid principal (no interest for periods not yet due).
Payments are idempotent by external reference; that is the services' job, not the replay's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import InvalidAmount
from .money import ZERO, to_money
from .policy import ChargeRules, Policy
from .schedule import ScheduledInstalment, build_schedule

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, init=False)
class LoanContract:
    """The signed loan: its terms and its original schedule."""

    loan_number: str
    principal: Decimal
    apr: Decimal
    term: int
    disbursed_on: date
    schedule: tuple[ScheduledInstalment, ...]

    def __init__(
        self,
        loan_number: str,
        principal: Decimal,
        apr: Decimal,
        term: int,
        disbursed_on: date,
        schedule: tuple[ScheduledInstalment, ...],
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "loan_number", loan_number)
        object.__setattr__(self, "principal", principal)
        object.__setattr__(self, "apr", apr)
        object.__setattr__(self, "term", term)
        object.__setattr__(self, "disbursed_on", disbursed_on)
        object.__setattr__(self, "schedule", schedule)

    @classmethod
    def create(
        cls,
        loan_number: str,
        principal: Decimal,
        apr: Decimal,
        term: int,
        disbursed_on: date,
        *,
        due_day: int | None = None,
    ) -> LoanContract:
        """A contract whose annuity schedule starts one month after ``disbursed_on``."""
        principal = to_money(principal)
        return cls(
            loan_number,
            principal,
            Decimal(apr),
            term,
            disbursed_on,
            build_schedule(principal, Decimal(apr), term, disbursed_on, due_day=due_day),
        )


@dataclass(frozen=True)
class PaymentRecord:
    """Money received for the loan on a calendar day (Asia/Shanghai)."""

    external_ref: str
    amount: Decimal
    received_on: date


@dataclass(frozen=True)
class ArrangementRecord:
    """An accepted relief plan: replaces instalments ``replaces`` by ``schedule`` from ``accepted_on``."""

    arrangement_id: str
    plan_type: str
    accepted_on: date
    replaces: tuple[int, ...]
    schedule: tuple[ScheduledInstalment, ...]
    waived_late_fees: Decimal = ZERO
    waived_penalty_interest: Decimal = ZERO
    waived_interest: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((i.amount for i in self.schedule), ZERO)


def arrangement_from_row(row: Sequence[Any]) -> ArrangementRecord:
    """An arrangement as the ledger's read queries give it (the policy lab's and the contact
    planner's): (id, plan type, accepted on, replaces, waived late fees, waived penalty
    interest, waived interest, the schedule's rows)."""
    aid, plan_type, accepted_on, replaces, late_fees, penalty, interest, schedule = row
    return ArrangementRecord(
        arrangement_id=aid,
        plan_type=plan_type,
        accepted_on=accepted_on,
        replaces=replaces,
        schedule=tuple(ScheduledInstalment(*s) for s in schedule),
        waived_late_fees=late_fees,
        waived_penalty_interest=penalty,
        waived_interest=interest,
    )


@dataclass(frozen=True, init=False)
class Breakdown:
    principal: Decimal
    interest: Decimal
    penalty_interest: Decimal
    late_fees: Decimal
    total: Decimal

    def __init__(
        self, principal: Decimal, interest: Decimal, penalty_interest: Decimal, late_fees: Decimal, total: Decimal
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "principal", principal)
        object.__setattr__(self, "interest", interest)
        object.__setattr__(self, "penalty_interest", penalty_interest)
        object.__setattr__(self, "late_fees", late_fees)
        object.__setattr__(self, "total", total)


@dataclass(frozen=True, init=False)
class NextDue:
    due_date: date
    amount: Decimal

    def __init__(self, due_date: date, amount: Decimal) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "due_date", due_date)
        object.__setattr__(self, "amount", amount)


@dataclass(frozen=True, init=False)
class InstalmentStatus:
    """One instalment in effect (or replaced) on ``as_of``.

    ``amount`` is the scheduled amount (principal + interest + charges captured by an
    arrangement); ``penalty_interest`` and ``late_fee`` are the charges accrued on it;
    ``paid`` is everything paid to it, charges included; ``outstanding`` what is still owed
    (interest of a not-yet-due instalment stops being owed when the loan is paid off).
    """

    number: int
    due_date: date
    amount: Decimal
    principal: Decimal
    interest: Decimal
    paid: Decimal
    state: str  # paid | overdue | due | upcoming | replaced
    days_past_due: int
    penalty_interest: Decimal
    late_fee: Decimal
    is_arrangement: bool
    arrangement_id: str | None = None
    outstanding: Decimal = ZERO
    unpaid_principal: Decimal = ZERO
    unpaid_interest: Decimal = ZERO
    unpaid_charges: Decimal = ZERO
    fully_paid_on: date | None = None

    def __init__(
        self,
        number: int,
        due_date: date,
        amount: Decimal,
        principal: Decimal,
        interest: Decimal,
        paid: Decimal,
        state: str,
        days_past_due: int,
        penalty_interest: Decimal,
        late_fee: Decimal,
        is_arrangement: bool,
        arrangement_id: str | None = None,
        outstanding: Decimal = ZERO,
        unpaid_principal: Decimal = ZERO,
        unpaid_interest: Decimal = ZERO,
        unpaid_charges: Decimal = ZERO,
        fully_paid_on: date | None = None,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "number", number)
        object.__setattr__(self, "due_date", due_date)
        object.__setattr__(self, "amount", amount)
        object.__setattr__(self, "principal", principal)
        object.__setattr__(self, "interest", interest)
        object.__setattr__(self, "paid", paid)
        object.__setattr__(self, "state", state)
        object.__setattr__(self, "days_past_due", days_past_due)
        object.__setattr__(self, "penalty_interest", penalty_interest)
        object.__setattr__(self, "late_fee", late_fee)
        object.__setattr__(self, "is_arrangement", is_arrangement)
        object.__setattr__(self, "arrangement_id", arrangement_id)
        object.__setattr__(self, "outstanding", outstanding)
        object.__setattr__(self, "unpaid_principal", unpaid_principal)
        object.__setattr__(self, "unpaid_interest", unpaid_interest)
        object.__setattr__(self, "unpaid_charges", unpaid_charges)
        object.__setattr__(self, "fully_paid_on", fully_paid_on)


@dataclass(frozen=True, init=False)
class LoanStatus:
    loan_number: str
    as_of: date
    days_past_due: int
    bucket: str
    overdue: Breakdown
    amount_to_bring_current: Decimal
    payoff_amount: Decimal
    next_due: NextDue | None
    instalments: tuple[InstalmentStatus, ...]
    closed: bool
    refund_owed: Decimal
    arrangement_states: Mapping[str, str]
    active_arrangement_id: str | None
    closed_on: date | None = None
    total_paid: Decimal = ZERO
    unpaid_principal: Decimal = ZERO
    charges_outstanding: Decimal = ZERO
    # The highest instalment number of the status, paid and replaced instalments included: a
    # lean status (``derive_status(..., lean=True)``) lists only the unpaid instalments.
    highest_number: int = field(default=0, repr=False, compare=False)

    def __init__(
        self,
        loan_number: str,
        as_of: date,
        days_past_due: int,
        bucket: str,
        overdue: Breakdown,
        amount_to_bring_current: Decimal,
        payoff_amount: Decimal,
        next_due: NextDue | None,
        instalments: tuple[InstalmentStatus, ...],
        closed: bool,
        refund_owed: Decimal,
        arrangement_states: Mapping[str, str],
        active_arrangement_id: str | None,
        closed_on: date | None = None,
        total_paid: Decimal = ZERO,
        unpaid_principal: Decimal = ZERO,
        charges_outstanding: Decimal = ZERO,
        highest_number: int = 0,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "loan_number", loan_number)
        object.__setattr__(self, "as_of", as_of)
        object.__setattr__(self, "days_past_due", days_past_due)
        object.__setattr__(self, "bucket", bucket)
        object.__setattr__(self, "overdue", overdue)
        object.__setattr__(self, "amount_to_bring_current", amount_to_bring_current)
        object.__setattr__(self, "payoff_amount", payoff_amount)
        object.__setattr__(self, "next_due", next_due)
        object.__setattr__(self, "instalments", instalments)
        object.__setattr__(self, "closed", closed)
        object.__setattr__(self, "refund_owed", refund_owed)
        object.__setattr__(self, "arrangement_states", arrangement_states)
        object.__setattr__(self, "active_arrangement_id", active_arrangement_id)
        object.__setattr__(self, "closed_on", closed_on)
        object.__setattr__(self, "total_paid", total_paid)
        object.__setattr__(self, "unpaid_principal", unpaid_principal)
        object.__setattr__(self, "charges_outstanding", charges_outstanding)
        object.__setattr__(self, "highest_number", highest_number)

    @property
    def active_instalments(self) -> tuple[InstalmentStatus, ...]:
        return tuple(i for i in self.instalments if i.state != "replaced")


# The replay works in integer fen: exact (every amount has at most two decimals, money.to_money),
# and several times cheaper than Decimal in its innermost loops. Amounts go in through ``_fen``
# and come out through ``_money`` (two decimals, as the Decimal sums starting from 0.00 had);
# the schedule's own amounts and a late fee as the policy's rule gives it come out unchanged.


def _fen(amount: Decimal) -> int:
    """``amount`` in whole fen; an amount with more than two decimals is refused (not rounded)."""
    scaled = amount.scaleb(2)
    fen = int(scaled)
    if fen != scaled:
        raise InvalidAmount(f"more than 2 decimals: {amount!r}")
    return fen


def _money(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2) if fen else ZERO  # most parts of a status are 0.00


# A contract instalment in fen: (number, due date, principal, interest, amount).
FenInstalment = tuple[int, date, int, int, int]


@dataclass(frozen=True, slots=True)
class FenLoan:
    """A loan's contract schedule and payments in whole fen, for ``derive_status(..., fen=...)``:
    the policy lab parses PostgreSQL's text (always two decimals) straight into fen, without
    Decimal records. Every amount must have two decimals as text: its Decimal view in the
    status is ``_money(fen)`` (exponent -2, as the text's Decimal would have)."""

    schedule: tuple[FenInstalment, ...]
    payments: tuple[tuple[date, int], ...]  # (received on, amount), in the order received


@dataclass(slots=True, init=False)
class _Inst:
    """An instalment during the replay; every amount in fen."""

    source: ScheduledInstalment | None  # None: an instalment given in fen (``amount`` holds its amount)
    number: int
    due: date
    principal: int
    interest: int
    cap_penalty: int
    cap_fee: int
    arrangement_id: str | None
    penalty: int = 0
    late_fee: int = 0
    late_fee_amount: Decimal = ZERO  # the late fee as the policy's rule gave it (its exponent kept)
    paid_fee: int = 0
    paid_pen: int = 0
    paid_int: int = 0
    paid_prin: int = 0
    forgiven_int: int = 0
    replaced: bool = False
    fully_paid_on: date | None = None
    penalty_from: date = date.min
    amount: int = 0  # the scheduled amount, for an instalment given in fen (source None)

    def __init__(
        self,
        source: ScheduledInstalment | None,
        number: int,
        due: date,
        principal: int,
        interest: int,
        cap_penalty: int,
        cap_fee: int,
        arrangement_id: str | None,
        penalty: int = 0,
        late_fee: int = 0,
        late_fee_amount: Decimal = ZERO,
        paid_fee: int = 0,
        paid_pen: int = 0,
        paid_int: int = 0,
        paid_prin: int = 0,
        forgiven_int: int = 0,
        replaced: bool = False,
        fully_paid_on: date | None = None,
        penalty_from: date = date.min,
        amount: int = 0,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        self.source = source
        self.number = number
        self.due = due
        self.principal = principal
        self.interest = interest
        self.cap_penalty = cap_penalty
        self.cap_fee = cap_fee
        self.arrangement_id = arrangement_id
        self.penalty = penalty
        self.late_fee = late_fee
        self.late_fee_amount = late_fee_amount
        self.paid_fee = paid_fee
        self.paid_pen = paid_pen
        self.paid_int = paid_int
        self.paid_prin = paid_prin
        self.forgiven_int = forgiven_int
        self.replaced = replaced
        self.fully_paid_on = fully_paid_on
        self.penalty_from = penalty_from
        self.amount = amount

    @property
    def fee_due(self) -> int:
        return self.late_fee + self.cap_fee - self.paid_fee

    @property
    def pen_due(self) -> int:
        return self.penalty + self.cap_penalty - self.paid_pen

    @property
    def int_due(self) -> int:
        return self.interest - self.paid_int - self.forgiven_int

    @property
    def prin_due(self) -> int:
        return self.principal - self.paid_prin

    @property
    def outstanding(self) -> int:
        """fee_due + pen_due + int_due + prin_due, written out (the replay's hottest figure)."""
        return (
            self.late_fee
            + self.cap_fee
            - self.paid_fee
            + self.penalty
            + self.cap_penalty
            - self.paid_pen
            + self.interest
            - self.paid_int
            - self.forgiven_int
            + self.principal
            - self.paid_prin
        )

    def pay(self, available: int, *, include_interest: bool = True) -> int:
        """Pay this instalment's parts in waterfall order (late fee, penalty interest, interest,
        principal); return what is left of ``available``. Written out part by part: this is the
        replay's innermost loop (the policy lab replays every loan of the portfolio)."""
        if available <= 0:
            return available
        due = self.late_fee + self.cap_fee - self.paid_fee
        if due > 0:
            take = available if available < due else due
            self.paid_fee += take
            available -= take
            if available <= 0:
                return available
        due = self.penalty + self.cap_penalty - self.paid_pen
        if due > 0:
            take = available if available < due else due
            self.paid_pen += take
            available -= take
            if available <= 0:
                return available
        if include_interest:
            due = self.interest - self.paid_int - self.forgiven_int
            if due > 0:
                take = available if available < due else due
                self.paid_int += take
                available -= take
                if available <= 0:
                    return available
        due = self.principal - self.paid_prin
        if due > 0:
            take = available if available < due else due
            self.paid_prin += take
            available -= take
        return available


@dataclass(slots=True)
class _Replay:
    daily_rate: Decimal  # penalty interest per day per unit of unpaid principal
    insts: list[_Inst] = field(default_factory=list)
    refund: int = 0
    closed_on: date | None = None
    total_paid: int = 0
    ordered: list[_Inst] | None = None  # active() by (due, number); None after an arrangement changes them
    daily: dict[int, int] = field(default_factory=dict)  # unpaid principal -> one day's penalty, in fen
    paid_ahead: int = 0  # ordered[:paid_ahead] are paid (paid stays paid); 0 when ordered is rebuilt

    def active(self) -> list[_Inst]:
        return [i for i in self.insts if not i.replaced]

    def active_ordered(self) -> list[_Inst]:
        """The active instalments by (due date, number), kept between payments: only an
        arrangement (``ordered = None``) changes which instalments are active."""
        if self.ordered is None:
            self.ordered = sorted(self.active(), key=lambda i: (i.due, i.number))
            self.paid_ahead = 0
        return self.ordered

    def daily_penalty(self, unpaid: int) -> int:
        """One day's penalty interest on ``unpaid`` fen of principal, rounded half-up to the fen:
        round_fen(unpaid yuan * daily rate) in fen (the same product, computed once per amount)."""
        fen = self.daily.get(unpaid)
        if fen is None:
            fen = self.daily[unpaid] = int((unpaid * self.daily_rate).quantize(_ONE, rounding=ROUND_HALF_UP))
        return fen

    def payoff(self, day: date) -> int:
        """Every part outstanding, interest only of instalments due by ``day``."""
        total = 0
        # A paid instalment (fully_paid_on set) owes 0.00 and can owe nothing again: no
        # penalty accrues without unpaid principal, no late fee without principal or interest
        # due. The active instalments before paid_ahead are paid: not read again.
        for i in self.active_ordered()[self.paid_ahead :]:
            if i.fully_paid_on is None:
                total += (
                    i.late_fee
                    + i.cap_fee
                    - i.paid_fee
                    + i.penalty
                    + i.cap_penalty
                    - i.paid_pen
                    + i.principal
                    - i.paid_prin
                    + ((i.interest - i.paid_int - i.forgiven_int) if i.due <= day else 0)
                )
        return total


_ONE = Decimal(1)


def _inst(s: ScheduledInstalment, arrangement_id: str | None) -> _Inst:
    return _Inst(
        s,
        s.number,
        s.due_date,
        _fen(s.principal),
        _fen(s.interest),
        _fen(s.penalty_interest) if s.penalty_interest else 0,  # charges: only an arrangement's first
        _fen(s.late_fees) if s.late_fees else 0,
        arrangement_id,
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


def _accrue(r: _Replay, first: date, last: date) -> None:
    """Penalty interest for the days first..last (inclusive) with no event inside the span."""
    if last < first:
        return
    for i in r.insts:
        if i.penalty_from > last or i.replaced:
            continue
        unpaid = i.principal - i.paid_prin
        if unpaid <= 0:
            continue
        start = first if first > i.penalty_from else i.penalty_from
        days = (last - start).days + 1
        if days > 0:
            i.penalty += days * r.daily_penalty(unpaid)


def _allocate(r: _Replay, amount: int, day: date) -> None:
    r.total_paid += amount
    if r.closed_on is not None:
        r.refund += amount
        return
    payoff = r.payoff(day)
    active = r.active_ordered()[r.paid_ahead :]
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
    settled = True
    for i in active:
        if i.fully_paid_on is not None:  # paid stays paid: no charge accrues on it (see payoff)
            continue
        if (  # i.outstanding > 0, written out
            i.late_fee
            + i.cap_fee
            - i.paid_fee
            + i.penalty
            + i.cap_penalty
            - i.paid_pen
            + i.interest
            - i.paid_int
            - i.forgiven_int
            + i.principal
            - i.paid_prin
            > 0
        ):
            settled = False
        else:
            i.fully_paid_on = day
    ahead = r.paid_ahead
    for i in active:
        if i.fully_paid_on is None:
            break
        ahead += 1
    r.paid_ahead = ahead
    if settled:
        r.closed_on = day


def _replay(
    contract: LoanContract,
    payments: Sequence[PaymentRecord],
    arrangements: Sequence[ArrangementRecord],
    as_of: date,
    policy: Policy,
    fen: FenLoan | None = None,
) -> _Replay:
    ch = policy.charges
    daily_rate = ch.penalty_annual_rate(contract.apr) / ch.day_count
    by_day_pay: dict[date, list[int]] = {}
    if fen is None:
        r = _Replay(daily_rate, insts=[_inst(s, None) for s in contract.schedule])
        for p in payments:
            if p.received_on <= as_of:
                by_day_pay.setdefault(p.received_on, []).append(_fen(p.amount))
    else:
        r = _Replay(daily_rate, insts=[_Inst(None, n, d, p, i, 0, 0, None, amount=a) for n, d, p, i, a in fen.schedule])
        for on, amount in fen.payments:
            if on <= as_of:
                by_day_pay.setdefault(on, []).append(amount)
    by_day_arr: dict[date, list[ArrangementRecord]] = {}
    for a in arrangements:
        if a.accepted_on <= as_of:
            by_day_arr.setdefault(a.accepted_on, []).append(a)
    late_fee_after = timedelta(days=ch.late_fee_at_dpd)
    fee_days: set[date] = set()
    # Late-fee day -> the instalments that reach late_fee_at_dpd that day (an arrangement's
    # are added when it takes effect): the day's check reads only those.
    fee_insts: dict[date, list[_Inst]] = {}
    for i in r.insts:
        fee_days.add(i.due + late_fee_after)
        fee_insts.setdefault(i.due + late_fee_after, []).append(i)
    for a in arrangements:
        for s in a.schedule:
            fee_days.add(s.due_date + late_fee_after)
    events = sorted(
        d for d in set(by_day_pay) | set(by_day_arr) | fee_days | {as_of} if contract.disbursed_on <= d <= as_of
    )
    grace = timedelta(days=ch.grace_days + 1)
    for i in r.insts:
        i.penalty_from = i.due + grace
    done = contract.disbursed_on  # charges accrued through this day
    for day in events:
        # A day with no payment and no arrangement changes no principal before its own
        # accrual: the span and the day accrue in one call (the same days times the same
        # rounded daily amount, so exactly the same sums as two calls).
        quiet = day not in by_day_pay and day not in by_day_arr
        if quiet and day != as_of:
            # A late-fee day and nothing else: no principal changes and the late fee does not
            # enter the accrual, so the days up to it accrue with the next event's span (the
            # same days times the same rounded daily amounts); only the late fees are set here.
            if r.closed_on is None:
                _late_fees(r, fee_insts.get(day, ()), ch)
            continue
        if r.closed_on is None:
            _accrue(r, done + ONE_DAY, day if quiet else day - ONE_DAY)
        for a in by_day_arr.get(day, ()):
            replaced = set(a.replaces)
            for i in r.insts:
                if i.number in replaced:
                    i.replaced = True
            for s in a.schedule:
                ni = _inst(s, a.arrangement_id)
                ni.penalty_from = ni.due + grace
                r.insts.append(ni)
                fee_insts.setdefault(ni.due + late_fee_after, []).append(ni)
            r.ordered = None
            if r.closed_on is not None and any(i.outstanding > 0 for i in r.active()):
                r.closed_on = None
        for amount in by_day_pay.get(day, ()):
            _allocate(r, amount, day)
        if r.closed_on is None:
            if day > done and not quiet:
                _accrue(r, day, day)
            _late_fees(r, fee_insts.get(day, ()), ch)
        done = max(done, day)
    return r


def _late_fees(r: _Replay, due: Iterable[_Inst], ch: ChargeRules) -> None:
    """The late fee of each instalment reaching late_fee_at_dpd today, if it is not fully paid."""
    for i in due:
        if not i.replaced and i.late_fee == 0 and i.int_due + i.prin_due > 0:
            i.late_fee_amount = ch.late_fee(_money(i.principal + i.interest))
            i.late_fee = _fen(i.late_fee_amount)


def derive_status(
    contract: LoanContract,
    payments: Iterable[PaymentRecord],
    arrangements: Iterable[ArrangementRecord],
    as_of: date,
    policy: Policy,
    *,
    lean: bool = False,
    fen: FenLoan | None = None,
) -> LoanStatus:
    """The loan's state at the end of ``as_of`` (see the module docstring for the model).

    ``lean``: ``instalments`` lists only the unpaid ones (overdue, due, upcoming), which is all
    the relief engine reads (the policy lab); every other figure is the same.
    ``fen``: the contract's schedule and the payments in fen (the policy lab's rows), read
    instead of ``contract.schedule`` and ``payments``; only for a loan without arrangements.
    Raises InvalidAmount for an amount with more than two decimals (money has two)."""
    if fen is not None:
        if arrangements:
            raise ValueError("a loan given in fen has no arrangements")
        return _status(contract, (), set(), _replay(contract, (), (), as_of, policy, fen), as_of, policy, lean)
    payments = tuple(sorted(payments, key=lambda p: p.received_on))
    arrangements = tuple(
        sorted(
            (a for a in arrangements if a.accepted_on <= as_of), key=lambda a: (a.accepted_on, str(a.arrangement_id))
        )
    )
    broken = {a.arrangement_id for a in arrangements if arrangement_broken_on(a, payments, as_of) is not None}
    effective = tuple(a for a in arrangements if a.arrangement_id not in broken)
    r = _replay(contract, payments, effective, as_of, policy)
    return _status(contract, arrangements, broken, r, as_of, policy, lean)


def _status(
    contract: LoanContract,
    arrangements: tuple[ArrangementRecord, ...],
    broken: set[str],
    r: _Replay,
    as_of: date,
    policy: Policy,
    lean: bool,
) -> LoanStatus:
    ordered = sorted(r.insts, key=lambda i: (i.due, i.number))
    views: list[InstalmentStatus] = []
    o_prin = o_int = o_pen = o_fee = 0
    unpaid_principal = charges = 0
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
        if lean and (i.replaced or out <= 0):
            continue  # a paid instalment owes nothing: no part of it adds to the sums below
        dpd = (as_of - i.due).days if state == "overdue" else 0
        fee_due, pen_due, int_due, prin_due = i.fee_due, i.pen_due, i.int_due, i.prin_due  # each read once
        s = i.source
        if s is None:
            amount, principal, interest = _money(i.amount), _money(i.principal), _money(i.interest)
        else:
            amount, principal, interest = s.amount, s.principal, s.interest
        views.append(
            InstalmentStatus(
                number=i.number,
                due_date=i.due,
                amount=amount,
                principal=principal,
                interest=interest,
                paid=_money(i.paid_fee + i.paid_pen + i.paid_int + i.paid_prin),
                state=state,
                days_past_due=dpd,
                penalty_interest=_money(i.penalty),
                late_fee=i.late_fee_amount,
                is_arrangement=i.arrangement_id is not None,
                arrangement_id=i.arrangement_id,
                outstanding=ZERO if i.replaced else _money(out),
                unpaid_principal=_money(prin_due),
                unpaid_interest=_money(int_due),
                unpaid_charges=_money(fee_due + pen_due),
                fully_paid_on=i.fully_paid_on,
            )
        )
        if i.replaced:
            continue
        unpaid_principal += prin_due
        charges += fee_due + pen_due
        if state == "overdue":
            o_prin += prin_due
            o_int += int_due
            o_pen += pen_due
            o_fee += fee_due
            if oldest_unpaid is None:
                oldest_unpaid = i.due
        elif state in ("due", "upcoming") and next_due is None:
            next_due = NextDue(i.due, _money(out))
    overdue_total = _money(o_prin + o_int + o_pen + o_fee)
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
        overdue=Breakdown(_money(o_prin), _money(o_int), _money(o_pen), _money(o_fee), overdue_total),
        amount_to_bring_current=overdue_total,
        payoff_amount=ZERO if closed else _money(r.payoff(as_of)),
        next_due=next_due,
        instalments=tuple(views),
        closed=closed,
        refund_owed=_money(r.refund),
        arrangement_states=states,
        active_arrangement_id=active_id,
        closed_on=r.closed_on,
        total_paid=_money(r.total_paid),
        unpaid_principal=_money(unpaid_principal),
        charges_outstanding=_money(charges),
        highest_number=max((i.number for i in r.insts), default=0),
    )
