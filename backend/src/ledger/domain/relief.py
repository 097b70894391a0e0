"""The relief policy engine: which plans a borrower in hardship may have, why, and on what terms.

``evaluate_relief`` returns every plan of docs/policy.md (fee_waiver, deferral,
term_extension, reduced_rate, quarterly, settlement), each with eligible yes/no, the reasons
for and against in plain Chinese and English, and concrete terms when eligible. It never
raises for an ineligible plan: that is a decision with reasons.

Figures (all from the ``LoanStatus`` as of the evaluation day):
* balance to re-amortise B = all unpaid principal + unpaid interest of instalments due on or
  before as_of (= payoff amount - charges);
* remaining term m = number of unpaid instalments due after as_of.
* Disposable income = income - essential expenses - other debt payments; affordability limit
  = ``relief.affordability_ratio`` of it (rounded half-up). A monthly plan is affordable when
  every instalment of its schedule is at most that limit; the quarterly plan when each
  quarterly payment is at most ``plans.quarterly.max_payment_to_disposable`` times the
  monthly disposable income.

Concrete choices where the policy gives a range (documented decisions); every number named
below is a key of the plan's ``plans.<plan>`` section:
* deferral: the shortest holiday the policy allows (``min_holiday_months``): a longer holiday
  only shortens the re-amortisation period and raises every later payment. B is re-amortised
  at the contract rate over the remaining term m - holiday (at least 1 instalment), keeping
  the original maturity; no interest accrues during the holiday. Charges accrued so far are
  not waived (the policy does not say so for deferral): they are added to the first
  instalment after the holiday.
* term_extension: the smallest extension e in 1..``max_extension_months`` (contract term + e
  <= ``max_total_term_months``) whose every payment is affordable and at most today's
  instalment; B over m + e instalments at the contract rate; late fees and penalty interest
  waived.
* reduced_rate: as term_extension at min(APR, max(APR * apr_factor, min_apr)), from e = 0 (the
  lower rate is the relief); the interest saved against the contract rate over the same
  schedule is reported as waived interest.
* quarterly: B over ceil(m / period_months) instalments (at least 1), one every
  ``period_months``, at the period rate APR * period_months / 12; charges added to the first
  instalment like the deferral.
* fee_waiver: waives ``late_fee_waiver_share`` of late fees and ``penalty_waiver_share_m1``
  (up to the end of the second bucket, M1) or ``penalty_waiver_share_later`` of penalty
  interest; the rest of the overdue amount is one payment due ``pay_within_days`` after
  acceptance.
* settlement: all unpaid principal + ``overdue_interest_share`` of the overdue interest in one
  payment due ``pay_within_days`` after acceptance; every other charge and interest waived.
Schedules start one period after as_of (after the holiday for the deferral), on as_of's day
of month; arrangement instalments are numbered after the highest existing number. An offer's
headline ``payment_amount`` is its first payment (for the deferral and the quarterly plan
the first payment carries the charges so far).

Never worse off (docs/policy.md): every eligible plan also carries an ``OfferComparison``
against today's schedule (``CurrentSchedule``: the amount due now, then every instalment to
come), and a plan that would leave the borrower worse off is not offered, with a reason: a
term extension that extends nothing or whose monthly payment is above today's instalment
(no_extension_possible, no_lower_payment); a reduced rate that is not lower than the
contract's or whose payment is above today's instalment (no_lower_rate, no_lower_payment); a
fee waiver that waives nothing (nothing_waived); a settlement that is not below today's total
(no_saving); a deferral or quarterly plan whose first payment is not later than today's next
instalment (no_holiday).

Over all plans: an open dispute makes every plan ineligible (reason dispute_open); at most
``max_restructures`` restructures in ``restructure_window_months`` (a broken one counts),
refused with a reason naming the date; with no disposable income nothing is affordable and
the case needs a human (hardship review), as it does when no plan is eligible.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from .account import ArrangementRecord, InstalmentStatus, LoanContract, LoanStatus
from .money import ZERO, format_money, round_fen
from .policy import Policy
from .schedule import ScheduledInstalment, add_months, annuity_payments, build_schedule, period_rate

PLAN_TYPES = ("fee_waiver", "deferral", "term_extension", "reduced_rate", "quarterly", "settlement")
HARDSHIP_REASONS = (
    "job_loss",
    "illness",
    "income_drop",
    "business_failure",
    "family_emergency",
    "irregular_income",
    "other",
)
DURATIONS = ("temporary", "long_term")
RATIO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class HardshipFacts:
    """What the borrower told about their hardship (monthly CNY amounts)."""

    reason: str
    duration: str  # temporary | long_term
    monthly_income: Decimal
    essential_expenses: Decimal
    other_debt_payments: Decimal

    def __post_init__(self) -> None:
        if self.duration not in DURATIONS:
            raise ValueError(f"duration must be one of {DURATIONS}")
        for name in ("monthly_income", "essential_expenses", "other_debt_payments"):
            if isinstance(getattr(self, name), float):
                raise TypeError(f"{name}: float is not money")

    @property
    def disposable_income(self) -> Decimal:
        """income - essential expenses - other debt payments (may be negative)."""
        return round_fen(self.monthly_income - self.essential_expenses - self.other_debt_payments)


@dataclass(frozen=True, init=False)
class ReliefHistory:
    """Past relief on the loan: accepted restructures (broken ones included) and fee waivers."""

    restructure_dates: tuple[date, ...] = ()
    fee_waiver_dates: tuple[date, ...] = ()
    open_dispute: bool = False
    highest_instalment_number: int = 0  # across all arrangements, broken ones included (they are not in the status)

    def __init__(
        self,
        restructure_dates: tuple[date, ...] = (),
        fee_waiver_dates: tuple[date, ...] = (),
        open_dispute: bool = False,
        highest_instalment_number: int = 0,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "restructure_dates", restructure_dates)
        object.__setattr__(self, "fee_waiver_dates", fee_waiver_dates)
        object.__setattr__(self, "open_dispute", open_dispute)
        object.__setattr__(self, "highest_instalment_number", highest_instalment_number)


class Reason:
    """A reason for or against a plan: its code and its text in Chinese and English.

    Texts made from the loan's figures are given as ``make`` (a function returning (zh, en)),
    run the first time a text is read: the API reads every text, the policy lab only codes
    (formatting the texts of every reason was a fifth of the lab's work)."""

    __slots__ = ("code", "_zh", "_en", "_make")

    def __init__(self, code: str, zh: str = "", en: str = "", *, make: Callable[[], tuple[str, str]] | None = None):
        self.code = code
        self._zh = zh
        self._en = en
        self._make = make

    def _texts(self) -> tuple[str, str]:
        if self._make is not None:
            self._zh, self._en = self._make()
            self._make = None
        return self._zh, self._en

    @property
    def zh(self) -> str:
        return self._texts()[0]

    @property
    def en(self) -> str:
        return self._texts()[1]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reason):
            return NotImplemented
        return self.code == other.code and self._texts() == other._texts()

    def __hash__(self) -> int:
        return hash((self.code, *self._texts()))

    def __repr__(self) -> str:
        zh, en = self._texts()
        return f"Reason(code={self.code!r}, zh={zh!r}, en={en!r})"


@dataclass(frozen=True, init=False)
class Waived:
    late_fees: Decimal
    penalty_interest: Decimal
    interest: Decimal
    total: Decimal

    def __init__(self, late_fees: Decimal, penalty_interest: Decimal, interest: Decimal, total: Decimal) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "late_fees", late_fees)
        object.__setattr__(self, "penalty_interest", penalty_interest)
        object.__setattr__(self, "interest", interest)
        object.__setattr__(self, "total", total)


@dataclass(frozen=True, init=False)
class OfferTerms:
    """Concrete terms of an eligible plan. Amounts are exact; schedule sums to total_to_repay.

    ``valid_days``: for one-off plans (fee_waiver, settlement), the days after acceptance
    within which the payment is due (the schedule's date is re-based on acceptance by
    ``build_arrangement``); None for instalment plans, whose dates stand as offered.
    """

    plan_type: str
    payment_amount: Decimal
    payment_frequency: str  # monthly | quarterly | once
    total_to_repay: Decimal
    waived: Waived
    schedule: tuple[ScheduledInstalment, ...]
    payment_to_disposable_income: Decimal | None
    holiday_months: int
    replaces: tuple[int, ...]
    valid_days: int | None
    apr: Decimal
    first_payment_amount: Decimal
    largest_payment: Decimal

    def __init__(
        self,
        plan_type: str,
        payment_amount: Decimal,
        payment_frequency: str,
        total_to_repay: Decimal,
        waived: Waived,
        schedule: tuple[ScheduledInstalment, ...],
        payment_to_disposable_income: Decimal | None,
        holiday_months: int,
        replaces: tuple[int, ...],
        valid_days: int | None,
        apr: Decimal,
        first_payment_amount: Decimal,
        largest_payment: Decimal,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "plan_type", plan_type)
        object.__setattr__(self, "payment_amount", payment_amount)
        object.__setattr__(self, "payment_frequency", payment_frequency)
        object.__setattr__(self, "total_to_repay", total_to_repay)
        object.__setattr__(self, "waived", waived)
        object.__setattr__(self, "schedule", schedule)
        object.__setattr__(self, "payment_to_disposable_income", payment_to_disposable_income)
        object.__setattr__(self, "holiday_months", holiday_months)
        object.__setattr__(self, "replaces", replaces)
        object.__setattr__(self, "valid_days", valid_days)
        object.__setattr__(self, "apr", apr)
        object.__setattr__(self, "first_payment_amount", first_payment_amount)
        object.__setattr__(self, "largest_payment", largest_payment)


@dataclass(frozen=True, init=False)
class CurrentSchedule:
    """Today's schedule, the basis every offer is compared with: the amount due now (everything
    overdue or due today, charges included) as one payment today, then every instalment still
    to come on its date.

    ``payment_amount`` is today's instalment: principal + interest of the next instalment to
    come; when none is to come (the loan has matured) it is the amount due now.
    ``next_instalment_date``: the due date of that instalment (today when none is to come).
    """

    payment_amount: Decimal
    payment_frequency: str  # monthly
    amount_due_now: Decimal
    payment_count: int
    first_payment_date: date
    next_instalment_date: date
    last_payment_date: date
    total_to_repay: Decimal

    def __init__(
        self,
        payment_amount: Decimal,
        payment_frequency: str,
        amount_due_now: Decimal,
        payment_count: int,
        first_payment_date: date,
        next_instalment_date: date,
        last_payment_date: date,
        total_to_repay: Decimal,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "payment_amount", payment_amount)
        object.__setattr__(self, "payment_frequency", payment_frequency)
        object.__setattr__(self, "amount_due_now", amount_due_now)
        object.__setattr__(self, "payment_count", payment_count)
        object.__setattr__(self, "first_payment_date", first_payment_date)
        object.__setattr__(self, "next_instalment_date", next_instalment_date)
        object.__setattr__(self, "last_payment_date", last_payment_date)
        object.__setattr__(self, "total_to_repay", total_to_repay)


@dataclass(frozen=True)
class OfferComparison:
    """An offer's figures on the basis of today's schedule: every payment from today until the
    loan is repaid under the plan (for a fee waiver: its one payment, then the instalments it
    does not replace), so that plans can be compared with each other and with today.

    ``payment_amount`` is the headline: the plan's first payment. ``later_payment_amount`` is
    the regular amount of the payments after it when that differs (charges carried into the
    first payment, or today's instalments continuing after a fee waiver), else None.
    ``payment_change``: the plan's regular payment minus what today's schedule asks for the
    same period (today's instalment for a monthly plan, ``period_months`` of them for the
    quarterly plan; the amount due now when no instalment is to come); None for one-off plans.
    ``total_change``: ``total_to_repay`` minus today's schedule's total (negative = saves).
    """

    payment_amount: Decimal
    payment_frequency: str
    later_payment_amount: Decimal | None
    payment_count: int
    first_payment_date: date
    last_payment_date: date
    total_to_repay: Decimal
    payment_change: Decimal | None
    total_change: Decimal


@dataclass(frozen=True, init=False)
class PlanDecision:
    plan_type: str
    eligible: bool
    reasons: tuple[Reason, ...]
    offer: OfferTerms | None
    comparison: OfferComparison | None = None

    def __init__(
        self,
        plan_type: str,
        eligible: bool,
        reasons: tuple[Reason, ...],
        offer: OfferTerms | None,
        comparison: OfferComparison | None = None,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "plan_type", plan_type)
        object.__setattr__(self, "eligible", eligible)
        object.__setattr__(self, "reasons", reasons)
        object.__setattr__(self, "offer", offer)
        object.__setattr__(self, "comparison", comparison)


@dataclass(frozen=True, init=False)
class ReliefEvaluation:
    disposable_income: Decimal
    affordability_limit: Decimal
    needs_human_review: bool
    plans: tuple[PlanDecision, ...]
    review_reasons: tuple[Reason, ...] = ()
    current: CurrentSchedule | None = None

    def __init__(
        self,
        disposable_income: Decimal,
        affordability_limit: Decimal,
        needs_human_review: bool,
        plans: tuple[PlanDecision, ...],
        review_reasons: tuple[Reason, ...] = (),
        current: CurrentSchedule | None = None,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "disposable_income", disposable_income)
        object.__setattr__(self, "affordability_limit", affordability_limit)
        object.__setattr__(self, "needs_human_review", needs_human_review)
        object.__setattr__(self, "plans", plans)
        object.__setattr__(self, "review_reasons", review_reasons)
        object.__setattr__(self, "current", current)

    def plan(self, plan_type: str) -> PlanDecision:
        return next(p for p in self.plans if p.plan_type == plan_type)


def _m(d: Decimal) -> str:
    return format_money(d)


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


@dataclass(frozen=True, init=False)
class StatusFigures:
    """Figures of the status shared by all plans (and by both policies of the policy lab when
    they derive the same status: ``status_figures``)."""

    dpd: int
    bucket: str
    unpaid: tuple[InstalmentStatus, ...]
    overdue_numbers: tuple[int, ...]
    unpaid_principal: Decimal
    due_interest: Decimal
    overdue_interest: Decimal
    penalty: Decimal
    late_fees: Decimal
    remaining_term: int
    first_number: int
    current: CurrentSchedule

    def __init__(
        self,
        dpd: int,
        bucket: str,
        unpaid: tuple[InstalmentStatus, ...],
        overdue_numbers: tuple[int, ...],
        unpaid_principal: Decimal,
        due_interest: Decimal,
        overdue_interest: Decimal,
        penalty: Decimal,
        late_fees: Decimal,
        remaining_term: int,
        first_number: int,
        current: CurrentSchedule,
    ) -> None:
        # Each field in order, written out: mypyc compiles this into a native constructor
        # (docs/policy-lab.md, Speed; tests/domain/test_record_inits.py keeps it in step).
        object.__setattr__(self, "dpd", dpd)
        object.__setattr__(self, "bucket", bucket)
        object.__setattr__(self, "unpaid", unpaid)
        object.__setattr__(self, "overdue_numbers", overdue_numbers)
        object.__setattr__(self, "unpaid_principal", unpaid_principal)
        object.__setattr__(self, "due_interest", due_interest)
        object.__setattr__(self, "overdue_interest", overdue_interest)
        object.__setattr__(self, "penalty", penalty)
        object.__setattr__(self, "late_fees", late_fees)
        object.__setattr__(self, "remaining_term", remaining_term)
        object.__setattr__(self, "first_number", first_number)
        object.__setattr__(self, "current", current)


def _current(unpaid: tuple[InstalmentStatus, ...], as_of: date) -> CurrentSchedule:
    due_now = [i for i in unpaid if i.due_date <= as_of]
    to_come = sorted((i for i in unpaid if i.due_date > as_of), key=lambda i: (i.due_date, i.number))
    amount_due_now = sum((i.outstanding for i in due_now), ZERO)
    instalment = to_come[0].principal + to_come[0].interest if to_come else amount_due_now
    next_date = to_come[0].due_date if to_come else as_of
    return CurrentSchedule(
        payment_amount=instalment,
        payment_frequency="monthly",
        amount_due_now=amount_due_now,
        payment_count=(1 if due_now else 0) + len(to_come),
        first_payment_date=as_of if due_now else next_date,
        next_instalment_date=next_date,
        last_payment_date=to_come[-1].due_date if to_come else as_of,
        total_to_repay=sum((i.outstanding for i in unpaid), ZERO),
    )


def status_figures(status: LoanStatus, as_of: date, history: ReliefHistory) -> StatusFigures:
    unpaid = tuple(i for i in status.instalments if i.state in ("overdue", "due", "upcoming"))
    return StatusFigures(
        dpd=status.days_past_due,
        bucket=status.bucket,
        unpaid=unpaid,
        overdue_numbers=tuple(i.number for i in unpaid if i.state == "overdue"),
        unpaid_principal=sum((i.unpaid_principal for i in unpaid), ZERO),
        due_interest=sum((i.unpaid_interest for i in unpaid if i.due_date <= as_of), ZERO),
        overdue_interest=status.overdue.interest,
        penalty=status.overdue.penalty_interest,
        late_fees=status.overdue.late_fees,
        remaining_term=sum(1 for i in unpaid if i.due_date > as_of),
        # status.highest_number: a lean status lists only the unpaid instalments.
        first_number=max(
            status.highest_number,
            max((i.number for i in status.instalments), default=0),
            history.highest_instalment_number,
        )
        + 1,
        current=_current(unpaid, as_of),
    )


def _ratio(payment: Decimal, disposable: Decimal) -> Decimal | None:
    if disposable <= 0:
        return None
    return (payment / disposable).quantize(RATIO_PLACES)


def _with_charges(
    schedule: tuple[ScheduledInstalment, ...], penalty: Decimal, late_fees: Decimal
) -> tuple[ScheduledInstalment, ...]:
    if penalty == 0 and late_fees == 0:
        return schedule
    first = schedule[0]
    first = ScheduledInstalment(  # dataclasses.replace, written out (it inspects the fields each time)
        first.number,
        first.due_date,
        first.principal,
        first.interest,
        first.amount + penalty + late_fees,
        penalty,
        late_fees,
    )
    return (first,) + schedule[1:]


def _offer(
    plan_type: str,
    schedule: tuple[ScheduledInstalment, ...],
    regular: Decimal,
    frequency: str,
    waived: Waived,
    disposable: Decimal,
    replaces: tuple[int, ...],
    apr: Decimal,
    *,
    holiday: int = 0,
    valid_days: int | None = None,
) -> OfferTerms:
    largest = max(i.amount for i in schedule)
    return OfferTerms(
        plan_type=plan_type,
        payment_amount=regular,
        payment_frequency=frequency,
        total_to_repay=sum((i.amount for i in schedule), ZERO),
        waived=waived,
        schedule=schedule,
        payment_to_disposable_income=_ratio(largest, disposable),
        holiday_months=holiday,
        replaces=replaces,
        valid_days=valid_days,
        apr=apr,
        first_payment_amount=schedule[0].amount,
        largest_payment=largest,
    )


def _waived(late_fees: Decimal, penalty: Decimal, interest: Decimal) -> Waived:
    return Waived(late_fees, penalty, interest, late_fees + penalty + interest)


def _compare(offer: OfferTerms, f: StatusFigures, as_of: date, period_months: int = 1) -> OfferComparison:
    """The offer on the basis of today's schedule (see ``OfferComparison``)."""
    cur = f.current
    kept = [i for i in f.unpaid if i.number not in offer.replaces]  # still owed as today (fee waiver)
    dates = [s.due_date for s in offer.schedule] + [max(i.due_date, as_of) for i in kept]
    sched = offer.schedule
    if kept:
        later = cur.payment_amount if any(i.due_date > as_of for i in kept) else None
    else:
        later = sched[1].amount if len(sched) > 1 and sched[1].amount != sched[0].amount else None
    change = None
    if offer.payment_frequency != "once":
        regular = sched[1].amount if len(sched) > 1 else sched[0].amount
        to_come = cur.next_instalment_date > as_of
        change = regular - cur.payment_amount * (period_months if to_come else 1)
    total = offer.total_to_repay + sum((i.outstanding for i in kept), ZERO)
    return OfferComparison(
        payment_amount=offer.payment_amount,
        payment_frequency=offer.payment_frequency,
        later_payment_amount=later,
        payment_count=len(sched) + len(kept),
        first_payment_date=min(dates),
        last_payment_date=max(dates),
        total_to_repay=total,
        payment_change=change,
        total_change=total - cur.total_to_repay,
    )


def _no_holiday(first_due: date, f: StatusFigures) -> Reason:
    nxt = f.current.next_instalment_date.isoformat()
    return Reason(
        "no_holiday",
        make=lambda: (
            f"这个方案的第一笔还款（{first_due.isoformat()}）并不晚于您目前下一期的还款日（{nxt}），对您没有帮助。",
            f"This plan's first payment ({first_due.isoformat()}) would not come later than your next "
            f"instalment today ({nxt}), so it would not help you.",
        ),
    )


class _Reasons:
    def __init__(self) -> None:
        self.yes: list[Reason] = []
        self.no: list[Reason] = []

    def check(self, ok: bool, yes: Reason, no: Reason) -> bool:
        (self.yes if ok else self.no).append(yes if ok else no)
        return ok

    def all(self) -> tuple[Reason, ...]:
        return tuple(self.no + self.yes)


@lru_cache(maxsize=2048)  # integers in, frozen reasons out: the same texts for every loan
def _dpd_max(dpd: int, limit: int) -> tuple[Reason, Reason]:
    return (
        Reason(
            "dpd_within_limit",
            make=lambda: (
                f"当前逾期{dpd}天，未超过{limit}天的上限。",
                f"You are {dpd} days past due, within the limit of {limit} days.",
            ),
        ),
        Reason(
            "dpd_too_high",
            make=lambda: (
                f"当前逾期{dpd}天，超过了该方案{limit}天的上限。",
                f"You are {dpd} days past due; this plan is for at most {limit} days past due.",
            ),
        ),
    )


@lru_cache(maxsize=2048)
def _dpd_min(dpd: int, limit: int) -> tuple[Reason, Reason]:
    return (
        Reason(
            "dpd_reached",
            make=lambda: (
                f"当前逾期{dpd}天，达到该方案至少{limit}天的条件。",
                f"You are {dpd} days past due, at least the {limit} days this plan needs.",
            ),
        ),
        Reason(
            "dpd_too_low",
            make=lambda: (
                f"当前逾期{dpd}天，该方案需要逾期至少{limit}天。",
                f"You are {dpd} days past due; this plan needs at least {limit} days past due.",
            ),
        ),
    )


@lru_cache(maxsize=64)  # one per window: the same reason for every loan without past relief
def _no_recent_restructure(window_months: int) -> Reason:
    return Reason(
        "no_recent_restructure",
        make=lambda: (
            f"过去{window_months}个月内没有办理过还款计划调整。",
            f"No payment plan change in the last {window_months} months.",
        ),
    )


@lru_cache(maxsize=64)
def _no_recent_fee_waiver(lookback_months: int) -> Reason:
    return Reason(
        "no_recent_fee_waiver",
        make=lambda: (
            f"过去{lookback_months}个月内没有减免过费用。",
            f"No fees waived in the last {lookback_months} months.",
        ),
    )


def _restructure_check(rs: _Reasons, history: ReliefHistory, as_of: date, policy: Policy) -> bool:
    rel = policy.relief
    if not history.restructure_dates and rel.max_restructures > 0:  # the common case, without a sort
        rs.yes.append(_no_recent_restructure(rel.restructure_window_months))
        return True
    recent = sorted(
        d for d in history.restructure_dates if d <= as_of and add_months(d, rel.restructure_window_months) > as_of
    )
    if len(recent) >= rel.max_restructures:
        last = recent[-1]
        nxt = add_months(last, rel.restructure_window_months)
        rs.no.append(
            Reason(
                "restructure_limit",
                make=lambda: (
                    f"这笔贷款已在{last.isoformat()}办理过一次还款计划调整（即使该计划未能履行也计算在内），"
                    f"{rel.restructure_window_months}个月内最多办理{rel.max_restructures}次，最早可在{nxt.isoformat()}再次申请。",
                    f"A payment plan change was already agreed for this loan on {last.isoformat()} (this counts even "
                    f"if that plan was not kept); at most {rel.max_restructures} is allowed in "
                    f"{rel.restructure_window_months} months, so the next one is possible from {nxt.isoformat()}.",
                ),
            )
        )
        return False
    rs.yes.append(_no_recent_restructure(rel.restructure_window_months))
    return True


def _afford_reasons(
    payment: Decimal, limit: Decimal, disposable: Decimal, what_zh: str, what_en: str
) -> tuple[Reason, Reason]:
    if disposable <= 0:
        no = Reason(
            "no_disposable_income",
            make=lambda: (
                f"按您提供的收入和支出，每月没有可用于还款的余额（可支配收入{_m(disposable)}元），无法确定可负担的还款额。",
                f"With the income and expenses you gave, nothing is left each month (disposable income "
                f"CNY {_m(disposable)}), so no payment is affordable.",
            ),
        )
    else:
        no = Reason(
            "not_affordable",
            make=lambda: (
                f"{what_zh}{_m(payment)}元，超过了可负担上限{_m(limit)}元。",
                f"{what_en} CNY {_m(payment)} is more than the affordable limit of CNY {_m(limit)}.",
            ),
        )
    yes = Reason(
        "affordable",
        make=lambda: (
            f"{what_zh}{_m(payment)}元，不超过可负担上限{_m(limit)}元。",
            f"{what_en} CNY {_m(payment)} is within the affordable limit of CNY {_m(limit)}.",
        ),
    )
    return yes, no


def _fee_waiver(
    f: StatusFigures, history: ReliefHistory, disposable: Decimal, as_of: date, policy: Policy
) -> PlanDecision:
    rule = policy.plans.fee_waiver
    rs = _Reasons()
    ok = rs.check(f.dpd >= rule.min_dpd, *_dpd_min(f.dpd, rule.min_dpd))
    recent = (
        sorted(d for d in history.fee_waiver_dates if d <= as_of and add_months(d, rule.lookback_months) > as_of)
        if history.fee_waiver_dates
        else []
    )
    if recent:
        ok = False
        rs.no.append(
            Reason(
                "recent_fee_waiver",
                make=lambda: (
                    f"这笔贷款已在{recent[-1].isoformat()}减免过费用，{rule.lookback_months}个月内只能减免一次。",
                    f"Fees on this loan were already waived on {recent[-1].isoformat()}; this is possible "
                    f"once in {rule.lookback_months} months.",
                ),
            )
        )
    else:
        rs.yes.append(_no_recent_fee_waiver(rule.lookback_months))
    if f.dpd >= rule.min_dpd:
        ok = (
            rs.check(
                f.penalty + f.late_fees > 0,
                Reason(
                    "charges_to_waive",
                    make=lambda: (
                        f"目前有罚息{_m(f.penalty)}元、违约金{_m(f.late_fees)}元。",
                        f"There is CNY {_m(f.penalty)} penalty interest and CNY {_m(f.late_fees)} in late fees.",
                    ),
                ),
                Reason(
                    "no_charges", "目前没有罚息或违约金可以减免。", "There is no penalty interest or late fee to waive."
                ),
            )
            and ok
        )
    if not ok:
        return PlanDecision("fee_waiver", False, rs.all(), None)
    share = rule.penalty_waiver_share_m1 if policy.in_first_overdue_bucket(f.dpd) else rule.penalty_waiver_share_later
    w_fee = round_fen(f.late_fees * rule.late_fee_waiver_share)
    w_pen = round_fen(f.penalty * share)
    if w_fee + w_pen <= 0:
        rs.no.append(
            Reason(
                "nothing_waived",
                "按目前的政策，这笔贷款没有可以减免的费用，这个方案对您没有帮助。",
                "Under the current policy nothing on this loan would be waived, so this plan would not help you.",
            )
        )
        return PlanDecision("fee_waiver", False, rs.all(), None)
    principal = sum((i.unpaid_principal for i in f.unpaid if i.state == "overdue"), ZERO)
    inst = ScheduledInstalment(
        f.first_number,
        as_of + timedelta(days=rule.pay_within_days),
        principal,
        f.overdue_interest,
        principal + f.overdue_interest + (f.penalty - w_pen) + (f.late_fees - w_fee),
        penalty_interest=f.penalty - w_pen,
        late_fees=f.late_fees - w_fee,
    )
    rs.yes.append(
        Reason(
            "fee_waiver_terms",
            make=lambda: (
                f"如在{rule.pay_within_days}天内还清其余逾期款项{_m(inst.amount)}元，可减免违约金{_m(w_fee)}元和罚息{_m(w_pen)}元。",
                f"If you pay the rest of the overdue amount, CNY {_m(inst.amount)}, within "
                f"{rule.pay_within_days} days, CNY {_m(w_fee)} in late fees and CNY {_m(w_pen)} penalty "
                f"interest are waived.",
            ),
        )
    )
    offer = _offer(
        "fee_waiver",
        (inst,),
        inst.amount,
        "once",
        _waived(w_fee, w_pen, ZERO),
        disposable,
        f.overdue_numbers,
        ZERO,
        valid_days=rule.pay_within_days,
    )
    return PlanDecision("fee_waiver", True, rs.all(), offer)


def _settlement(f: StatusFigures, disposable: Decimal, as_of: date, policy: Policy) -> PlanDecision:
    rule = policy.plans.settlement
    rs = _Reasons()
    if not rs.check(f.dpd >= rule.min_dpd, *_dpd_min(f.dpd, rule.min_dpd)):
        return PlanDecision("settlement", False, rs.all(), None)
    kept_interest = round_fen(f.overdue_interest * rule.overdue_interest_share)
    amount = f.unpaid_principal + kept_interest
    if amount >= f.current.total_to_repay:
        rs.no.append(
            Reason(
                "no_saving",
                make=lambda: (
                    f"一次性结清需要{_m(amount)}元，并不少于按目前计划还清的{_m(f.current.total_to_repay)}元，这个方案对您没有帮助。",
                    f"Settling would take CNY {_m(amount)}, no less than the CNY {_m(f.current.total_to_repay)} "
                    f"your current schedule asks in all, so this plan would not help you.",
                ),
            )
        )
        return PlanDecision("settlement", False, rs.all(), None)
    inst = ScheduledInstalment(
        f.first_number, as_of + timedelta(days=rule.pay_within_days), f.unpaid_principal, kept_interest, amount
    )
    waived = _waived(f.late_fees, f.penalty, f.due_interest - kept_interest)
    rs.yes.append(
        Reason(
            "settlement_terms",
            make=lambda: (
                f"在{rule.pay_within_days}天内一次性还款{_m(amount)}元即可结清贷款，其余{_m(waived.total)}元全部减免。",
                f"One payment of CNY {_m(amount)} within {rule.pay_within_days} days closes the loan; "
                f"the other CNY {_m(waived.total)} is waived.",
            ),
        )
    )
    offer = _offer(
        "settlement",
        (inst,),
        amount,
        "once",
        waived,
        disposable,
        tuple(i.number for i in f.unpaid),
        ZERO,
        valid_days=rule.pay_within_days,
    )
    return PlanDecision("settlement", True, rs.all(), offer)


def _search_extension(
    balance: Decimal,
    apr: Decimal,
    f: StatusFigures,
    extensions: range,
    cap: Decimal,
    as_of: date,
) -> tuple[tuple[ScheduledInstalment, ...] | None, Decimal]:
    """The smallest extension whose every payment is at most ``cap``: (schedule, its largest
    payment), or (None, the payment over the longest extension tried)."""
    payment = annuity_payments(balance, period_rate(apr))
    if cap <= 0:  # nothing is at most cap: only the payment over the longest extension matters
        longest = [ext for ext in extensions if f.remaining_term + ext >= 1][-1:]
        return None, payment(f.remaining_term + longest[0]) if longest else balance
    terms = [f.remaining_term + ext for ext in extensions if f.remaining_term + ext >= 1]
    if not terms:
        return None, balance
    # The annuity payment does not rise with the term (docs/policy-lab.md, Speed): when even
    # the longest term's payment is above cap no term qualifies, and otherwise the first term
    # whose payment is at most cap is found by bisection; from there every payment is at most
    # cap and each term's schedule is checked in order, as a linear search would.
    last = payment(terms[-1])
    if last > cap:
        return None, last
    lo, hi = 0, len(terms) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if payment(terms[mid]) <= cap:
            hi = mid
        else:
            lo = mid + 1
    for n in terms[lo:]:
        if payment(n) <= cap:
            sched = build_schedule(balance, apr, n, as_of, first_number=f.first_number)
            largest = max(i.amount for i in sched)
            if largest <= cap:
                return sched, largest
    return None, last


def _lower_payment_reasons(payment: Decimal, f: StatusFigures, longest: int) -> tuple[Reason, Reason]:
    now = f.current.payment_amount
    yes = Reason(
        "lower_payment",
        make=lambda: (
            f"每月还款{_m(payment)}元，低于您目前每期的{_m(now)}元。",
            f"The monthly payment of CNY {_m(payment)} is below your current instalment of CNY {_m(now)}.",
        ),
    )
    no = Reason(
        "no_lower_payment",
        make=lambda: (
            f"即使分到政策允许的最长{longest}期，每月还款{_m(payment)}元也不低于您目前每期的{_m(now)}元，这个方案对您没有帮助。",
            f"Even over the longest term allowed ({longest} payments), the monthly payment of CNY {_m(payment)} "
            f"would not be below your current instalment of CNY {_m(now)}, so this plan would not help you.",
        ),
    )
    return yes, no


def _term_plan(
    plan: str,
    f: StatusFigures,
    contract: LoanContract,
    facts: HardshipFacts,
    history: ReliefHistory,
    disposable: Decimal,
    limit: Decimal,
    as_of: date,
    policy: Policy,
) -> PlanDecision:
    rs = _Reasons()
    if plan == "term_extension":
        rule = policy.plans.term_extension
        ok = rs.check(f.dpd <= rule.max_dpd, *_dpd_max(f.dpd, rule.max_dpd))
        apr = contract.apr
        max_ext, max_total = rule.max_extension_months, rule.max_total_term_months
    else:
        rule_r = policy.plans.reduced_rate
        long_term = facts.duration == "long_term" and facts.reason in policy.relief.long_term_reasons
        ok = rs.check(
            long_term,
            Reason(
                "long_term_hardship",
                "您的困难属于长期困难（如失业、重病、经营失败）。",
                "Your hardship is long-term (such as job loss, serious illness or business failure).",
            ),
            Reason(
                "not_long_term",
                "减息方案只适用于失业、重病、经营失败等长期困难。",
                "A reduced rate is only for long-term hardship: job loss, serious illness or business failure.",
            ),
        )
        ok = rs.check(f.dpd >= rule_r.min_dpd, *_dpd_min(f.dpd, rule_r.min_dpd)) and ok
        ok = rs.check(f.dpd <= rule_r.max_dpd, *_dpd_max(f.dpd, rule_r.max_dpd)) and ok
        apr = min(contract.apr, max(contract.apr * rule_r.apr_factor, rule_r.min_apr))
        max_ext, max_total = rule_r.max_extension_months, rule_r.max_total_term_months
    ok = _restructure_check(rs, history, as_of, policy) and ok
    top = max(0, min(max_ext, max_total - contract.term))
    min_ext = 1 if plan == "term_extension" else 0
    if plan == "term_extension" and top < min_ext:
        ok = False
        rs.no.append(
            Reason(
                "no_extension_possible",
                make=lambda: (
                    f"这笔贷款的期限已经是政策允许的最长{max_total}个月，不能再延长。",
                    f"This loan already runs for the longest term allowed ({max_total} months), "
                    "so it cannot be extended.",
                ),
            )
        )
    if plan == "reduced_rate" and apr >= contract.apr:
        ok = False
        rs.no.append(
            Reason(
                "no_lower_rate",
                make=lambda: (
                    f"按政策可给的利率{_pct(apr)}并不低于您目前的利率{_pct(contract.apr)}，这个方案对您没有帮助。",
                    f"The rate the policy allows, {_pct(apr)}, is not below your current rate of "
                    f"{_pct(contract.apr)}, so this plan would not help you.",
                ),
            )
        )
    if not ok:
        return PlanDecision(plan, False, rs.all(), None)
    balance = f.unpaid_principal + f.due_interest
    cap = min(limit, f.current.payment_amount)
    sched, payment = _search_extension(balance, apr, f, range(min_ext, top + 1), cap, as_of)
    if sched is None:
        unaffordable = _afford_reasons(payment, limit, disposable, "每月还款", "The monthly payment of")[1]
        not_lower = _lower_payment_reasons(payment, f, f.remaining_term + top)[1]
        failed = [unaffordable] if disposable <= 0 or payment > limit else []
        failed += [not_lower] if payment > f.current.payment_amount else []
        rs.no.extend(failed or [not_lower if cap == f.current.payment_amount else unaffordable])
        return PlanDecision(plan, False, rs.all(), None)
    yes, _ = _afford_reasons(payment, limit, disposable, "每月还款", "The monthly payment of")
    rs.yes.append(yes)
    rs.yes.append(_lower_payment_reasons(payment, f, f.remaining_term + top)[0])
    interest_waived = ZERO
    if plan == "reduced_rate":
        at_contract = build_schedule(balance, contract.apr, len(sched), as_of, first_number=f.first_number)
        interest_waived = sum((i.interest for i in at_contract), ZERO) - sum((i.interest for i in sched), ZERO)
    ext = len(sched) - f.remaining_term
    rs.yes.append(
        Reason(
            f"{plan}_terms",
            make=lambda: (
                f"剩余{_m(balance)}元分{len(sched)}期按年利率{_pct(apr)}重新计算，每月还款约{_m(sched[0].amount)}元"
                f"（期限延长{ext}个月），已产生的罚息和违约金全部减免。",
                f"The remaining CNY {_m(balance)} is spread over {len(sched)} monthly payments of about "
                f"CNY {_m(sched[0].amount)} at {_pct(apr)} a year (term extended by {ext} months); "
                f"penalty interest and late fees so far are waived.",
            ),
        )
    )
    offer = _offer(
        plan,
        sched,
        sched[0].amount,
        "monthly",
        _waived(f.late_fees, f.penalty, interest_waived),
        disposable,
        tuple(i.number for i in f.unpaid),
        apr,
    )
    return PlanDecision(plan, True, rs.all(), offer)


def _deferral(
    f: StatusFigures,
    contract: LoanContract,
    facts: HardshipFacts,
    history: ReliefHistory,
    disposable: Decimal,
    limit: Decimal,
    as_of: date,
    policy: Policy,
) -> PlanDecision:
    rule = policy.plans.deferral
    rs = _Reasons()
    ok = rs.check(
        facts.duration in rule.durations,
        Reason(
            "temporary_hardship",
            "您的困难是暂时的，适合先暂停还款一段时间。",
            "Your hardship is temporary, so a payment holiday fits.",
        ),
        Reason("not_temporary", "延期还款只适用于暂时性困难。", "A payment holiday is only for temporary hardship."),
    )
    ok = rs.check(f.dpd <= rule.max_dpd, *_dpd_max(f.dpd, rule.max_dpd)) and ok
    ok = _restructure_check(rs, history, as_of, policy) and ok
    if not ok:
        return PlanDecision("deferral", False, rs.all(), None)
    holiday = rule.min_holiday_months
    n = max(1, f.remaining_term - holiday)
    balance = f.unpaid_principal + f.due_interest
    sched = build_schedule(
        balance, contract.apr, n, add_months(as_of, holiday), first_number=f.first_number, due_day=as_of.day
    )
    sched = _with_charges(sched, f.penalty, f.late_fees)
    largest = max(i.amount for i in sched)
    yes, no = _afford_reasons(
        largest, limit, disposable, "暂停后每月最高还款", "The largest monthly payment after the holiday,"
    )
    if not rs.check(limit > 0 and largest <= limit, yes, no):
        return PlanDecision("deferral", False, rs.all(), None)
    if sched[0].due_date <= f.current.next_instalment_date:
        rs.no.append(_no_holiday(sched[0].due_date, f))
        return PlanDecision("deferral", False, rs.all(), None)
    regular = sched[1].amount if len(sched) > 1 else sched[0].amount
    rs.yes.append(
        Reason(
            "deferral_terms",
            make=lambda: (
                f"暂停还款{holiday}个月，之后剩余{_m(balance)}元分{n}期按原利率还款：第一期{_m(sched[0].amount)}元"
                f"（含已产生的罚息和违约金{_m(f.penalty + f.late_fees)}元），之后每月约{_m(regular)}元。",
                f"No payments for {holiday} month(s); then the remaining CNY {_m(balance)} is paid in {n} "
                f"monthly payments at the contract rate: the first CNY {_m(sched[0].amount)} (with the charges so far, "
                f"CNY {_m(f.penalty + f.late_fees)}), then about CNY {_m(regular)} a month.",
            ),
        )
    )
    offer = _offer(
        "deferral",
        sched,
        sched[0].amount,
        "monthly",
        _waived(ZERO, ZERO, ZERO),
        disposable,
        tuple(i.number for i in f.unpaid),
        contract.apr,
        holiday=holiday,
    )
    return PlanDecision("deferral", True, rs.all(), offer)


def _quarterly(
    f: StatusFigures,
    contract: LoanContract,
    facts: HardshipFacts,
    history: ReliefHistory,
    disposable: Decimal,
    as_of: date,
    policy: Policy,
) -> PlanDecision:
    rule = policy.plans.quarterly
    rs = _Reasons()
    ok = rs.check(
        facts.reason in rule.reasons,
        Reason(
            "irregular_income",
            "您的收入不固定或有季节性，按季还款更适合。",
            "Your income is irregular or seasonal, so paying every quarter fits.",
        ),
        Reason(
            "not_irregular_income",
            "按季还款只适用于收入不固定或有季节性的情况。",
            "Quarterly payments are only for irregular or seasonal income.",
        ),
    )
    ok = rs.check(f.dpd <= rule.max_dpd, *_dpd_max(f.dpd, rule.max_dpd)) and ok
    ok = _restructure_check(rs, history, as_of, policy) and ok
    if not ok:
        return PlanDecision("quarterly", False, rs.all(), None)
    quarters = max(1, -(-f.remaining_term // rule.period_months))
    balance = f.unpaid_principal + f.due_interest
    sched = build_schedule(
        balance, contract.apr, quarters, as_of, first_number=f.first_number, period_months=rule.period_months
    )
    sched = _with_charges(sched, f.penalty, f.late_fees)
    largest = max(i.amount for i in sched)
    limit = round_fen(disposable * rule.max_payment_to_disposable) if disposable > 0 else ZERO
    yes, no = _afford_reasons(largest, limit, disposable, "每季度最高还款", "The largest quarterly payment of")
    if not rs.check(limit > 0 and largest <= limit, yes, no):
        return PlanDecision("quarterly", False, rs.all(), None)
    if sched[0].due_date <= f.current.next_instalment_date:
        rs.no.append(_no_holiday(sched[0].due_date, f))
        return PlanDecision("quarterly", False, rs.all(), None)
    regular = sched[1].amount if len(sched) > 1 else sched[0].amount
    months = rule.period_months
    rs.yes.append(
        Reason(
            "quarterly_terms",
            make=lambda: (
                f"剩余{_m(balance)}元改为每{months}个月还一次，共{quarters}次：第一次{_m(sched[0].amount)}元"
                f"（含已产生的罚息和违约金{_m(f.penalty + f.late_fees)}元），之后每次约{_m(regular)}元。",
                f"The remaining CNY {_m(balance)} is paid every {months} months in {quarters} payments: the first "
                f"CNY {_m(sched[0].amount)} (with the charges so far, CNY {_m(f.penalty + f.late_fees)}), then about "
                f"CNY {_m(regular)} each.",
            ),
        )
    )
    offer = _offer(
        "quarterly",
        sched,
        sched[0].amount,
        "quarterly",
        _waived(ZERO, ZERO, ZERO),
        disposable,
        tuple(i.number for i in f.unpaid),
        contract.apr,
    )
    return PlanDecision("quarterly", True, rs.all(), offer)


def evaluate_relief(
    contract: LoanContract,
    status: LoanStatus,
    facts: HardshipFacts,
    history: ReliefHistory,
    as_of: date,
    policy: Policy,
    *,
    comparisons: bool = True,
    figures: StatusFigures | None = None,
) -> ReliefEvaluation:
    """Every plan with eligible yes/no, reasons (zh + en) and, when eligible, its offer terms
    and (``comparisons``) its comparison with today's schedule. ``figures``: the status's
    ``status_figures`` when the caller has them already (the same status and history)."""
    disposable = facts.disposable_income
    limit = round_fen(disposable * policy.relief.affordability_ratio) if disposable > 0 else ZERO
    if history.open_dispute:
        r = Reason(
            "dispute_open",
            "您有一项争议正在处理中，处理期间暂停催收，也不提供还款方案。",
            "A dispute you raised is being reviewed; collection is paused and no plan is offered until then.",
        )
        plans = tuple(PlanDecision(t, False, (r,), None) for t in PLAN_TYPES)
        return ReliefEvaluation(disposable, limit, False, plans, (r,))
    if status.closed or status.payoff_amount <= 0:
        r = Reason("nothing_owed", "这笔贷款目前没有欠款。", "Nothing is owed on this loan.")
        return ReliefEvaluation(disposable, limit, False, tuple(PlanDecision(t, False, (r,), None) for t in PLAN_TYPES))
    f = status_figures(status, as_of, history) if figures is None else figures
    plans = (
        _fee_waiver(f, history, disposable, as_of, policy),
        _deferral(f, contract, facts, history, disposable, limit, as_of, policy),
        _term_plan("term_extension", f, contract, facts, history, disposable, limit, as_of, policy),
        _term_plan("reduced_rate", f, contract, facts, history, disposable, limit, as_of, policy),
        _quarterly(f, contract, facts, history, disposable, as_of, policy),
        _settlement(f, disposable, as_of, policy),
    )
    if comparisons:
        period = policy.plans.quarterly.period_months
        plans = tuple(
            p
            if p.offer is None
            else dataclasses.replace(
                p, comparison=_compare(p.offer, f, as_of, period if p.plan_type == "quarterly" else 1)
            )
            for p in plans
        )
    review: list[Reason] = []
    if disposable <= 0:
        review.append(
            Reason(
                "no_disposable_income",
                "每月没有可用于还款的余额，需要人工评估困难情况。",
                "Nothing is left each month for payments, so a person will review the hardship.",
            )
        )
    if not any(p.eligible for p in plans):
        review.append(
            Reason(
                "no_plan_eligible",
                "目前没有符合条件的方案，需要人工评估困难情况。",
                "No plan fits right now, so a person will review the hardship.",
            )
        )
    return ReliefEvaluation(disposable, limit, bool(review), plans, tuple(review), f.current)


def build_arrangement(offer: OfferTerms, plan_type: str, arrangement_id: str, accepted_on: date) -> ArrangementRecord:
    """The arrangement an accepted offer creates; one-off plans fall due ``valid_days`` after acceptance."""
    schedule = offer.schedule
    if offer.valid_days is not None:
        due = accepted_on + timedelta(days=offer.valid_days)
        schedule = tuple(dataclasses.replace(i, due_date=due) for i in schedule)
    return ArrangementRecord(
        arrangement_id=arrangement_id,
        plan_type=plan_type,
        accepted_on=accepted_on,
        replaces=offer.replaces,
        schedule=schedule,
        waived_late_fees=offer.waived.late_fees,
        waived_penalty_interest=offer.waived.penalty_interest,
        waived_interest=offer.waived.interest,
    )
