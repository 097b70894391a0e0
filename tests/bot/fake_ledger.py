"""An in-memory ledger that speaks the contract (docs/contracts.md) for action tests.

It holds a few demo-like borrowers with fixed LoanStatus documents (the figures are test
data, written out here; the bot must only pass them through). It enforces what the bot
relies on: verification with attempts and lockout, tokens bound to a conversation, the
D7 open dispute (no promises, no evaluations), the promise window, offers accepted once.
D8 has two loans (Loan): every call that names a loan is recorded with its number (loan_calls).
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from actions.ledger_client import BorrowerAuth, LedgerError, LedgerUnavailable

TODAY = date(2026, 11, 25)


def _status(
    loan_number: str,
    dpd: int,
    bucket: str,
    overdue: dict | None,
    bring_current: str,
    payoff: str,
    next_due: dict | None,
    instalments: list,
    open_dispute: dict | None = None,
) -> dict:
    zero = {"principal": "0.00", "interest": "0.00", "penalty_interest": "0.00", "late_fees": "0.00", "total": "0.00"}
    return {
        "loan_number": loan_number,
        "product": "fenfu",
        "currency": "CNY",
        "as_of": TODAY.isoformat(),
        "principal": "12000.00",
        "apr": "0.18",
        "term": 12,
        "disbursed_on": "2026-07-10",
        "days_past_due": dpd,
        "bucket": bucket,
        "overdue": overdue or zero,
        "amount_to_bring_current": bring_current,
        "payoff_amount": payoff,
        "next_due": next_due,
        "instalments": instalments,
        "open_dispute": open_dispute,
        "open_promise": None,
        "active_arrangement": None,
        "closed": False,
        "refund_owed": "0.00",
    }


@dataclass
class Loan:
    """A further loan of a borrower (the first is the Borrower's own loan_number, status, plans)."""

    loan_number: str
    status: dict
    plans: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    current_schedule: dict | None = None  # the evaluation's today's schedule (docs/contracts.md)


@dataclass
class Borrower:
    borrower_id: str
    name: str
    language: str
    phone: str
    dob: str
    id_last4: str
    loan_number: str
    status: dict
    plans: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    failures: int = 0
    locked: bool = False
    current_schedule: dict | None = None  # the evaluation's today's schedule (docs/contracts.md)
    contact_preferences: dict = field(default_factory=lambda: {"stop_all": False, "opted_out_channels": []})
    more_loans: list[Loan] = field(default_factory=list)

    def loans(self) -> list[Borrower | Loan]:
        return [self, *self.more_loans]


def _comparison(
    payment: str,
    frequency: str,
    later: str | None,
    count: int,
    first: str,
    last: str,
    total: str,
    payment_change: str | None,
    total_change: str,
) -> dict:
    """An offer's figures on the basis of today's schedule, as the ledger gives them (test data)."""
    return {
        "payment_amount": payment,
        "payment_frequency": frequency,
        "later_payment_amount": later,
        "payment_count": count,
        "first_payment_date": first,
        "last_payment_date": last,
        "total_to_repay": total,
        "payment_change": payment_change,
        "total_change": total_change,
    }


def _offer(
    offer_id: str,
    payment: str,
    frequency: str,
    total: str,
    schedule: list,
    holiday: int = 0,
    comparison: dict | None = None,
) -> dict:
    offer = {
        "offer_id": offer_id,
        "expires_at": "2026-11-28T10:00:00+08:00",
        "payment_amount": payment,
        "payment_frequency": frequency,
        "total_to_repay": total,
        "waived": {"late_fees": "0.00", "penalty_interest": "0.00", "interest": "0.00", "total": "0.00"},
        "payment_to_disposable_income": "0.40",
        "holiday_months": holiday,
        "schedule": schedule,
    }
    if comparison is not None:
        offer["comparison"] = comparison
    return offer


def _schedule(amount: str, n: int, first: date) -> list:
    return [
        {
            "number": i + 1,
            "due_date": (first + timedelta(days=30 * i)).isoformat(),
            "amount": amount,
            "principal": amount,
            "interest": "0.00",
        }
        for i in range(n)
    ]


def demo_borrowers() -> dict[str, Borrower]:
    d1_overdue = {
        "principal": "1010.50",
        "interest": "90.00",
        "penalty_interest": "11.37",
        "late_fees": "50.00",
        "total": "1161.87",
    }
    d1 = Borrower(
        "b-d1",
        "王芳",
        "zh",
        "13800000001",
        "1990-03-15",
        "4321",
        "HX0000000001",
        _status(
            "HX0000000001",
            15,
            "M1",
            d1_overdue,
            "1161.87",
            "9321.40",
            {"due_date": "2026-12-10", "amount": "1100.40"},
            [
                {"number": 4, "due_date": "2026-11-10", "amount": "1100.40", "state": "overdue"},
                {"number": 5, "due_date": "2026-12-10", "amount": "1100.40", "state": "upcoming"},
            ],
        ),
        plans=[
            {
                "plan_type": "fee_waiver",
                "eligible": True,
                "reasons": [],
                "offer": _offer(
                    "off-fw",
                    "1100.50",
                    "once",
                    "1100.50",
                    _schedule("1100.50", 1, TODAY + timedelta(days=7)),
                    comparison=_comparison(
                        "1100.50", "once", "1100.40", 9, "2026-12-02", "2027-07-10", "9903.70", None, "-61.37"
                    ),
                ),
            },
            {
                "plan_type": "deferral",
                "eligible": True,
                "reasons": [],
                "offer": _offer(
                    "off-def",
                    "905.20",
                    "monthly",
                    "9957.20",
                    _schedule("905.20", 11, date(2027, 1, 25)),
                    holiday=2,
                    comparison=_comparison(
                        "905.20", "monthly", None, 11, "2027-01-25", "2027-11-21", "9957.20", "-195.20", "-7.87"
                    ),
                ),
            },
            {
                "plan_type": "term_extension",
                "eligible": True,
                "reasons": [],
                "offer": _offer(
                    "off-ext",
                    "512.80",
                    "monthly",
                    "10769.00",
                    _schedule("512.80", 21, date(2026, 12, 25)),
                    comparison=_comparison(
                        "512.80", "monthly", None, 21, "2026-12-25", "2028-08-16", "10769.00", "-587.60", "803.93"
                    ),
                ),
            },
            {
                "plan_type": "reduced_rate",
                "eligible": False,
                "reasons": [
                    {
                        "code": "dpd_below_31",
                        "zh": "减息方案需要逾期 31 到 180 天",
                        "en": "a reduced rate needs 31 to 180 days past due",
                    }
                ],
                "offer": None,
            },
            {
                "plan_type": "quarterly",
                "eligible": False,
                "reasons": [
                    {
                        "code": "income_not_irregular",
                        "zh": "按季还款适用于收入不固定或季节性的情况",
                        "en": "quarterly payments are for irregular or seasonal income",
                    }
                ],
                "offer": None,
            },
        ],
        current_schedule={
            "payment_amount": "1100.40",
            "payment_frequency": "monthly",
            "amount_due_now": "1161.87",
            "payment_count": 9,
            "first_payment_date": "2026-11-25",
            "next_instalment_date": "2026-12-10",
            "last_payment_date": "2027-07-10",
            "total_to_repay": "9965.07",
        },
    )
    d4 = Borrower(
        "b-d4",
        "Emily Chen",
        "en",
        "13800000004",
        "1992-06-21",
        "3456",
        "HX0000000004",
        _status(
            "HX0000000004",
            20,
            "M1",
            {
                "principal": "650.00",
                "interest": "60.80",
                "penalty_interest": "7.21",
                "late_fees": "35.54",
                "total": "753.55",
            },
            "753.55",
            "2900.10",
            {"due_date": "2026-12-05", "amount": "710.80"},
            [{"number": 6, "due_date": "2026-11-05", "amount": "710.80", "state": "overdue"}],
        ),
        plans=[
            {
                "plan_type": "term_extension",
                "eligible": True,
                "reasons": [],
                "offer": _offer(
                    "off-d4",
                    "300.10",
                    "monthly",
                    "3301.10",
                    _schedule("300.10", 11, date(2026, 12, 25)),
                    comparison=_comparison(
                        "300.10", "monthly", None, 11, "2026-12-25", "2027-10-21", "3301.10", "-410.70", "325.15"
                    ),
                ),
            }
        ],
        current_schedule={
            "payment_amount": "710.80",
            "payment_frequency": "monthly",
            "amount_due_now": "753.55",
            "payment_count": 4,
            "first_payment_date": "2026-11-25",
            "next_instalment_date": "2026-12-05",
            "last_payment_date": "2027-02-05",
            "total_to_repay": "2975.95",
        },
    )
    d5 = Borrower(
        "b-d5",
        "陈静",
        "zh",
        "13800000005",
        "1995-01-09",
        "7890",
        "HX0000000005",
        _status(
            "HX0000000005",
            0,
            "M0",
            None,
            "0.00",
            "4105.33",
            {"due_date": "2026-12-05", "amount": "1053.15"},
            [{"number": 3, "due_date": "2026-12-05", "amount": "1053.15", "state": "upcoming"}],
        ),
    )
    d6 = Borrower(
        "b-d6",
        "刘洋",
        "zh",
        "13800000006",
        "1988-09-18",
        "2468",
        "HX0000000006",
        _status(
            "HX0000000006",
            35,
            "M2",
            {
                "principal": "1700.00",
                "interest": "133.00",
                "penalty_interest": "40.00",
                "late_fees": "50.00",
                "total": "1923.00",
            },
            "1923.00",
            "14000.00",
            {"due_date": "2026-12-01", "amount": "1833.00"},
            [{"number": 5, "due_date": "2026-10-21", "amount": "1833.00", "state": "overdue"}],
        ),
        plans=[
            {
                "plan_type": p,
                "eligible": False,
                "reasons": [
                    {
                        "code": "restructure_limit",
                        "zh": "过去 12 个月内已有过一次重组安排。",
                        "en": "a restructure was already agreed in the last 12 months.",
                    },
                    {
                        "code": "dpd_within_limit",
                        "zh": "当前逾期35天，未超过60天的上限。",
                        "en": "You are 35 days past due, within the limit of 60 days.",
                    },
                ],
                "offer": None,
            }
            for p in ("deferral", "term_extension", "reduced_rate", "quarterly")
        ],
    )
    d7 = Borrower(
        "b-d7",
        "Michael Brown",
        "en",
        "13800000007",
        "1980-12-05",
        "1357",
        "HX0000000007",
        _status(
            "HX0000000007",
            30,
            "M1",
            {
                "principal": "800.00",
                "interest": "88.00",
                "penalty_interest": "5.00",
                "late_fees": "44.00",
                "total": "937.00",
            },
            "937.00",
            "8000.00",
            None,
            [{"number": 4, "due_date": "2026-10-26", "amount": "888.00", "state": "overdue"}],
            open_dispute={"case_number": "DSP-2026-0007", "reply_due_by": "2026-12-05"},
        ),
    )
    return {b.borrower_id: b for b in (d1, d4, d5, d6, d7, d8())}


def d8() -> Borrower:
    """Two loans: (a) 分付 HX0000000008, 10 days past due; (b) cash loan HX0000000009, current."""
    fenfu = _status(
        "HX0000000008",
        10,
        "M1",
        {
            "principal": "595.36",
            "interest": "36.53",
            "penalty_interest": "3.90",
            "late_fees": "31.59",
            "total": "667.38",
        },
        "667.38",
        "2507.57",
        {"due_date": "2026-12-15", "amount": "631.89"},
        [
            {"number": 3, "due_date": "2026-11-15", "amount": "631.89", "state": "overdue"},
            {"number": 4, "due_date": "2026-12-15", "amount": "631.89", "state": "upcoming"},
        ],
    )
    fenfu.update(principal="3600.00", term=6, disbursed_on="2026-08-15")
    cash = _status(
        "HX0000000009",
        0,
        "M0",
        None,
        "0.00",
        "9027.62",
        {"due_date": "2026-11-30", "amount": "1356.71"},
        [{"number": 6, "due_date": "2026-11-30", "amount": "1356.71", "state": "upcoming"}],
    )
    cash.update(product="cash_loan", principal="15000.00", apr="0.154", term=12, disbursed_on="2026-05-30")
    return Borrower(
        "b-d8",
        "赵敏",
        "zh",
        "13800000008",
        "1993-04-12",
        "6802",
        "HX0000000008",
        fenfu,
        plans=[
            {
                "plan_type": "fee_waiver",
                "eligible": True,
                "reasons": [],
                "offer": _offer(
                    "off-d8a-fw", "631.89", "once", "631.89", _schedule("631.89", 1, TODAY + timedelta(days=7))
                ),
            }
        ],
        more_loans=[
            Loan(
                "HX0000000009",
                cash,
                plans=[
                    {
                        "plan_type": "term_extension",
                        "eligible": True,
                        "reasons": [],
                        "offer": _offer(
                            "off-d8b-ext", "880.40", "monthly", "10564.80", _schedule("880.40", 12, date(2026, 12, 30))
                        ),
                    }
                ],
            )
        ],
    )


class FakeLedger:
    """Implements actions.ledger_client.LedgerApi in memory."""

    def __init__(self) -> None:
        self.borrowers = demo_borrowers()
        self.tokens: dict[str, tuple[str, str]] = {}
        self.down = False
        self.calls: list[str] = []
        self.loan_calls: list[tuple[str, str]] = []  # (call, loan number) of every call that names a loan
        self.omit_latest_date = False  # True: a promise refusal carries only its reason (an older ledger)
        self.hardship_cases: list[dict] = []
        self.promises: list[dict] = []
        self.disputes: list[dict] = []
        self.dispute_reply_days = 15  # the policy's disputes.reply_days (GET /policy/terms)
        # the policy's contact.channels
        self.contact_channels = ["sms", "phone", "wechat", "telegram", "email", "app", "web"]
        # a dispute opened by another channel after the bot read the status: the next dispute or
        # evaluation meets the ledger's 409 (with the dispute's case number and reply date, unless
        # conflict_without_details: an older ledger)
        self.dispute_opened_elsewhere: dict | None = None
        self.conflict_without_details = False
        self.without_policy_terms = False  # an older ledger: GET /policy/terms answers 404
        self.escalations: list[dict] = []
        self.complaints: list[dict] = []
        self.accepted: list[str] = []
        self.arrangements: list[dict] = []
        self.client_refs: list[str | None] = []  # client_ref of each verification call
        self.withdrawals: list[dict] = []  # disputes and complaints withdrawn, as asked
        self.traces: list[dict] = []  # payment traces opened, as asked
        self.withdraw_refusal: str | None = None  # a 409 code every withdrawal answers, when set
        self.rate_limited = False  # the ledger's per-client_ref limit: 429
        self.reminders: dict[str, list[dict]] = {}  # borrower id -> reminders delivered (GET .../reminders)
        self._ids = itertools.count(1)

    # ---- helpers
    def _check(self, name: str) -> None:
        self.calls.append(name)
        if self.down:
            raise LedgerUnavailable(f"{name}: connection refused")

    def _borrower(self, auth: BorrowerAuth | None) -> Borrower:
        if auth is None or auth.token not in self.tokens or self.tokens[auth.token][1] != auth.conversation_id:
            raise LedgerError(401, "verification_required", "verify first")
        return self.borrowers[self.tokens[auth.token][0]]

    def _loan(self, auth: BorrowerAuth, loan_number: str) -> Borrower | Loan:
        self.loan_calls.append((self.calls[-1], loan_number))
        borrower = self._borrower(auth)
        loan = next((x for x in borrower.loans() if x.loan_number == loan_number), None)
        if loan is None:
            raise LedgerError(404, "not_found", "no such loan")
        return loan

    def loans_used(self, call: str) -> list[str]:
        """The loan numbers the calls named `call` were made for, in order."""
        return [number for name, number in self.loan_calls if name == call]

    def token_for(self, conversation_id: str, borrower_id: str = "b-d1") -> str:
        token = f"tok-{next(self._ids)}"
        self.tokens[token] = (borrower_id, conversation_id)
        return token

    # ---- contract
    async def verify(self, conversation_id, *, phone, loan_number, date_of_birth, id_last4, client_ref=None):
        self._check("verify")
        self.client_refs.append(client_ref)
        if self.rate_limited:
            raise LedgerError(429, "too_many_requests", "too many verification attempts from this client")
        borrower = next(
            (
                b
                for b in self.borrowers.values()
                if (phone and b.phone == phone) or (loan_number and loan_number in {x.loan_number for x in b.loans()})
            ),
            None,
        )
        if borrower is not None and borrower.locked:
            raise LedgerError(423, "verification_locked", "locked", {"locked_until": "2026-11-25T10:30:00+08:00"})
        if borrower is None or borrower.dob != date_of_birth.isoformat() or borrower.id_last4 != id_last4:
            if borrower is not None:
                borrower.failures += 1
                if borrower.failures >= 3:
                    borrower.locked = True
                    raise LedgerError(
                        423, "verification_locked", "locked", {"locked_until": "2026-11-25T10:30:00+08:00"}
                    )
                raise LedgerError(401, "verification_failed", "no match", {"attempts_left": 3 - borrower.failures})
            raise LedgerError(401, "verification_failed", "no match", {"attempts_left": 2})
        borrower.failures = 0
        token = self.token_for(conversation_id, borrower.borrower_id)
        return {
            "token": token,
            "expires_at": "2026-11-25T10:30:00+08:00",
            "borrower": {"borrower_id": borrower.borrower_id, "name": borrower.name, "language": borrower.language},
        }

    async def get_borrower(self, auth, borrower_id):
        self._check("get_borrower")
        borrower = self._borrower(auth)
        if borrower.borrower_id != borrower_id:
            raise LedgerError(404, "not_found", "")
        return {
            "borrower_id": borrower.borrower_id,
            "name": borrower.name,
            "language": borrower.language,
            "timezone": "Asia/Shanghai",
            "contact_preferences": copy.deepcopy(borrower.contact_preferences),
            "loans": [{"loan_number": x.loan_number, "product": x.status["product"]} for x in borrower.loans()],
        }

    async def get_recent_reminders(self, auth, borrower_id):
        self._check("get_recent_reminders")
        borrower = self._borrower(auth)
        if borrower.borrower_id != borrower_id:
            raise LedgerError(404, "not_found", "")
        return copy.deepcopy(self.reminders.get(borrower_id, []))

    async def get_loan_status(self, auth, loan_number, as_of=None):
        self._check("get_loan_status")
        return copy.deepcopy(self._loan(auth, loan_number).status)

    async def get_payments(self, auth, loan_number):
        self._check("get_payments")
        return copy.deepcopy(self._loan(auth, loan_number).payments)

    async def create_hardship_case(
        self,
        auth,
        loan_number,
        *,
        reason,
        duration,
        monthly_income,
        essential_expenses,
        other_debt_payments,
        notes=None,
    ):
        self._check("create_hardship_case")
        self._loan(auth, loan_number)
        for value in (monthly_income, essential_expenses, other_debt_payments):
            assert isinstance(value, Decimal)
        case = {
            "case_id": f"hc-{next(self._ids)}",
            "reason": reason,
            "duration": duration,
            "monthly_income": monthly_income,
            "essential_expenses": essential_expenses,
            "other_debt_payments": other_debt_payments,
        }
        self.hardship_cases.append(case)
        return {"case_id": case["case_id"], "disposable_income": "0.00"}

    async def create_evaluation(self, auth, loan_number, hardship_case_id):
        self._check("create_evaluation")
        borrower = self._loan(auth, loan_number)
        self._dispute_conflict(borrower)
        return {
            "evaluation_id": f"ev-{next(self._ids)}",
            "loan_number": loan_number,
            "as_of": TODAY.isoformat(),
            "disposable_income": "2000.00",
            "affordability_limit": "1000.00",
            "needs_human_review": False,
            "current_schedule": copy.deepcopy(borrower.current_schedule),
            "plans": copy.deepcopy(borrower.plans),
        }

    async def accept_offer(self, auth, offer_id):
        self._check("accept_offer")
        borrower = self._borrower(auth)
        offered = {
            (p.get("offer") or {}).get("offer_id"): (loan, p)
            for loan in borrower.loans()
            for p in loan.plans
            if p.get("eligible")
        }
        if offer_id not in offered:
            raise LedgerError(404, "not_found", "")
        if offer_id in self.accepted:
            raise LedgerError(409, "offer_already_accepted", "")
        self.accepted.append(offer_id)
        loan, plan = offered[offer_id]
        offer = plan["offer"]
        arrangement = {
            "arrangement_id": f"arr-{next(self._ids)}",
            "loan_number": loan.loan_number,
            "offer_id": offer_id,
            "evaluation_id": None,
            "plan_type": plan["plan_type"],
            "accepted_on": TODAY.isoformat(),
            "payment_frequency": offer["payment_frequency"],
            "total_to_repay": offer["total_to_repay"],
            "waived": copy.deepcopy(offer["waived"]),
            "holiday_months": offer["holiday_months"],
            "replaces": [],
            "state": "active",
            "schedule": copy.deepcopy(offer["schedule"]),
        }
        self.arrangements.append(arrangement)
        return copy.deepcopy(arrangement)

    async def get_arrangements(self, auth, loan_number):
        self._check("get_arrangements")
        self._loan(auth, loan_number)
        return copy.deepcopy(self.arrangements)

    async def create_promise(self, auth, loan_number, amount, promised_date, replaces=None):
        self._check("create_promise")
        borrower = self._loan(auth, loan_number)
        assert isinstance(amount, Decimal)
        old = None
        if replaces is not None:
            old = next((p for p in self.promises if p["promise_id"] == replaces), None)
            if old is None:
                raise LedgerError(404, "not_found", "no such promise")
            if old["state"] != "open":
                raise LedgerError(409, "promise_not_open", "")
        if borrower.status["open_dispute"]:
            raise LedgerError(422, "promise_rejected", "", {"reason": "dispute_open"})
        if old is None and any(p["state"] == "open" for p in self.promises):
            raise LedgerError(422, "promise_rejected", "", {"reason": "open_promise_exists"})
        window = 14 if borrower.status["bucket"] == "M1" else 7
        latest = TODAY + timedelta(days=window)
        if not TODAY <= promised_date <= latest:
            dates = {"earliest_date": TODAY.isoformat(), "latest_date": latest.isoformat(), "max_days": window}
            extra = {"reason": "date_out_of_window", **({} if self.omit_latest_date else dates)}
            raise LedgerError(422, "promise_rejected", "", extra)
        if not Decimal("0") < amount <= Decimal(borrower.status["payoff_amount"]):
            raise LedgerError(422, "promise_rejected", "", {"reason": "amount_out_of_range"})
        promise = {
            "promise_id": f"p-{next(self._ids)}",
            "amount": f"{amount:.2f}",
            "promised_date": promised_date.isoformat(),
            "state": "open",
        }
        if old is not None:
            old["state"] = "replaced"
            promise["replaces"] = old["promise_id"]
        self.promises.append(promise)
        borrower.status["open_promise"] = copy.deepcopy(promise)
        return promise

    async def get_promises(self, auth, loan_number):
        self._check("get_promises")
        return list(self.promises)

    def _dispute_conflict(self, borrower) -> None:
        """The ledger's 409 when the loan has an open dispute (opened here or elsewhere)."""
        if self.dispute_opened_elsewhere and not borrower.status["open_dispute"]:
            borrower.status["open_dispute"] = dict(self.dispute_opened_elsewhere)
        open_dispute = borrower.status["open_dispute"]
        if open_dispute:
            extra = {} if self.conflict_without_details else dict(open_dispute)
            raise LedgerError(409, "dispute_open", "dispute open", extra)

    async def open_dispute(self, auth, loan_number, reason, details=None):
        self._check("open_dispute")
        borrower = self._loan(auth, loan_number)
        self._dispute_conflict(borrower)
        dispute = {
            "case_number": f"DSP-{next(self._ids):04d}",
            "reply_due_by": (TODAY + timedelta(days=self.dispute_reply_days)).isoformat(),
            "status": "open",
        }
        borrower.status["open_dispute"] = {
            "case_number": dispute["case_number"],
            "reply_due_by": dispute["reply_due_by"],
        }
        self.disputes.append({**dispute, "reason": reason})
        return dispute

    async def withdraw_dispute(self, auth, loan_number, case_number, reason=None):
        self._check("withdraw_dispute")
        borrower = self._loan(auth, loan_number)
        self.withdrawals.append(
            {"kind": "dispute", "loan_number": loan_number, "case_number": case_number, "reason": reason}
        )
        if self.withdraw_refusal:
            raise LedgerError(409, self.withdraw_refusal, "")
        open_dispute = borrower.status["open_dispute"]
        if not open_dispute or open_dispute["case_number"] != case_number:
            raise LedgerError(409, "dispute_not_open", "")
        borrower.status["open_dispute"] = None
        for dispute in self.disputes:
            if dispute["case_number"] == case_number:
                dispute["status"] = "withdrawn"
        return {
            "case_number": case_number,
            "loan_number": loan_number,
            "reply_due_by": open_dispute["reply_due_by"],
            "status": "withdrawn",
            "withdrawn_at": "2026-11-25T10:05:00+08:00",
        }

    async def withdraw_complaint(self, conversation_id, complaint_id, auth=None, reason=None):
        self._check("withdraw_complaint")
        self.withdrawals.append(
            {"kind": "complaint", "complaint_id": complaint_id, "conversation_id": conversation_id, "reason": reason}
        )
        if self.withdraw_refusal:
            raise LedgerError(409, self.withdraw_refusal, "")
        complaint = next((c for c in self.complaints if c.get("complaint_id") == complaint_id), None)
        if complaint is None or complaint["conversation_id"] != conversation_id:
            raise LedgerError(404, "not_found", "")
        if complaint.get("status") == "withdrawn":
            raise LedgerError(409, "complaint_not_open", "")
        complaint["status"] = "withdrawn"
        return {
            "complaint_id": complaint_id,
            "escalation_id": complaint["escalation_id"],
            "status": "withdrawn",
            "withdrawn_at": "2026-11-25T10:05:00+08:00",
        }

    async def create_payment_trace(self, auth, loan_number, *, paid_on, amount, reference=None, channel=None):
        self._check("create_payment_trace")
        self._loan(auth, loan_number)
        assert amount is None or isinstance(amount, Decimal)
        if paid_on is None and amount is None:
            raise LedgerError(422, "invalid_request", "give paid_on, amount or both")
        trace = {
            "trace_id": f"tr-{next(self._ids)}",
            "case_number": f"TRC-2026-{len(self.traces) + 1:06d}",
            "loan_number": loan_number,
            "paid_on": paid_on.isoformat() if paid_on else None,
            "amount": f"{amount:.2f}" if amount is not None else None,
            "reference": reference,
            "channel": channel,
            "opened_on": TODAY.isoformat(),
            "reply_due_by": "2026-11-30",
            "status": "open",
        }
        self.traces.append(trace)
        return copy.deepcopy(trace)

    async def set_contact_preferences(self, auth, borrower_id, *, stop_all, opted_out_channels):
        self._check("set_contact_preferences")
        borrower = self._borrower(auth)
        borrower.contact_preferences = {"stop_all": stop_all, "opted_out_channels": list(opted_out_channels)}
        return copy.deepcopy(borrower.contact_preferences)

    async def create_escalation(self, conversation_id, reason, summary, language=None, auth=None):
        self._check("create_escalation")
        escalation = {
            "escalation_id": f"esc-{next(self._ids)}",
            "case_number": f"ESC-2026-{len(self.escalations) + 1:06d}",
            "status": "open",
            "reason": reason,
            "summary": summary,
            "conversation_id": conversation_id,
            "language": language,
            "borrower_linked": auth is not None and auth.token in self.tokens,
        }
        self.escalations.append(escalation)
        return {
            "escalation_id": escalation["escalation_id"],
            "case_number": escalation["case_number"],
            "status": "open",
        }

    async def create_complaint(self, conversation_id, text, auth=None):
        self._check("create_complaint")
        complaint = {"complaint_id": f"cmp-{next(self._ids)}", "escalation_id": f"esc-{next(self._ids)}"}
        self.complaints.append({"conversation_id": conversation_id, "text": text, **complaint})
        return complaint

    async def get_policy_terms(self):
        self._check("get_policy_terms")
        if self.without_policy_terms:
            raise LedgerError(404, "not_found", "no such endpoint")
        return {"dispute_reply_days": self.dispute_reply_days, "contact_channels": list(self.contact_channels)}

    async def get_policy_texts(self):
        self._check("get_policy_texts")
        return {
            "texts": [
                {
                    "key": "fee_rules",
                    "zh": "罚息按逾期本金每日计收，违约金在逾期第 3 天按期供的 5% 收取（10 到 50 元）。",
                    "en": "Penalty interest accrues daily on overdue principal; "
                    "a late fee of 5% of the instalment (10 to 50) applies at 3 days past due.",
                },
                {
                    "key": "consequences",
                    "zh": "逾期信息可能按规定报送征信系统。",
                    "en": "Overdue payments may be reported to the credit reference system as the rules require.",
                },
                {"key": "dispute_paused", "zh": "异议处理期间暂停催收。", "en": "Collection pauses during a dispute."},
                {
                    "key": "arrangement_terms",
                    "zh": "如果某一期到期后累计还款少于该计划累计应还金额，该计划即失效，贷款恢复按原合同计算。",
                    "en": "If, after any due date of the plan, you have paid less in total than it asked for by then, "
                    "the plan ends and the loan goes back to the original contract.",
                },
            ]
        }
