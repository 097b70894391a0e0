"""The demo portfolio as of seeding day: DPD and bucket exactly as demo-portfolio.md, breakdowns from oracle.py."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.account import derive_status
from ledger.domain.demo import DEMO_BORROWERS, DEMO_LOANS, demo_loans

from . import oracle

TABLE = {  # loan key: (DPD, bucket) from demo-portfolio.md
    "D1": (15, "M1"),
    "D2": (45, "M2"),
    "D3": (120, "M3+"),
    "D4": (20, "M1"),
    "D5": (0, "M0"),
    "D6": (35, "M2"),
    "D7": (30, "M1"),
    "D8a": (10, "M1"),
    "D8b": (0, "M0"),
}
TODAYS = [date(2026, 11, 25), date(2027, 3, 31), date(2028, 2, 29), date(2027, 1, 1), date(2026, 12, 31)]


def expected_breakdown(key: str, today: date):
    """Independent: rebuild the schedule in Fractions; instalments after the paid ones and due before today are
    overdue, each with penalty days * fen(principal * rate / 365) and a late fee once 3 DPD."""
    b = DEMO_LOANS[key]
    anchor = today + timedelta(days=b.anchor_days_from_today)
    sched = oracle.schedule(
        Fraction(b.principal), Fraction(b.apr), b.term, oracle.plus_months(anchor, -b.anchor_instalment), anchor.day
    )
    prin = intr = pen = fee = Fraction(0)
    for due, p, i, a in sched[b.paid_instalments :]:
        days = (today - due).days
        if days <= 0:
            continue
        prin += p
        intr += i
        pen += oracle.penalty(p, Fraction(b.apr), days)
        if days >= 3:
            fee += oracle.late_fee(a)
    return prin, intr, pen, fee


@pytest.mark.parametrize("today", TODAYS)
@pytest.mark.parametrize("key", sorted(TABLE))
def test_demo_borrower_dpd_bucket_and_overdue_breakdown(key, today, policy):
    contract, payments, arrangements = demo_loans(today)[key]
    s = derive_status(contract, payments, arrangements, today, policy)
    assert (s.days_past_due, s.bucket) == TABLE[key]
    prin, intr, pen, fee = expected_breakdown(key, today)
    o = s.overdue
    assert (Fraction(o.principal), Fraction(o.interest), Fraction(o.penalty_interest), Fraction(o.late_fees)) == (
        prin,
        intr,
        pen,
        fee,
    )
    assert Fraction(o.total) == prin + intr + pen + fee == Fraction(s.amount_to_bring_current)
    b = DEMO_LOANS[key]
    assert [i.state for i in s.instalments[: b.paid_instalments]] == ["paid"] * b.paid_instalments
    assert not s.closed and s.refund_owed == 0


def test_d1_worked_figures_on_a_fixed_day(policy):
    # 2026-11-25: D1 instalment 4 due 2026-11-10 (12000 at 18%, 12 months; A = 1100.16).
    # Instalment 4: principal 962.19, interest 137.97 (see test_schedule worked example).
    # Penalty: 962.19 * 0.24 / 365 = 0.63267 -> 0.63 a day * 15 days = 9.45.
    # Late fee: 5% of 1100.16 = 55.01 -> capped at 50.00. Total 962.19 + 137.97 + 9.45 + 50.00 = 1159.61.
    contract, payments, arrangements = demo_loans(date(2026, 11, 25))["D1"]
    s = derive_status(contract, payments, arrangements, date(2026, 11, 25), policy)
    assert contract.schedule[3].due_date == date(2026, 11, 10)
    assert str(s.overdue.total) == "1159.61" and str(s.overdue.penalty_interest) == "9.45"


def test_d5_next_instalment_falls_due_in_ten_days(policy):
    today = date(2026, 11, 25)
    contract, payments, arrangements = demo_loans(today)["D5"]
    s = derive_status(contract, payments, arrangements, today, policy)
    assert s.next_due is not None and s.next_due.due_date == today + timedelta(days=10)
    assert s.next_due.amount == contract.schedule[2].amount and s.overdue.total == 0


def test_d8_has_two_loans_numbered_after_the_others():
    d8 = DEMO_BORROWERS["D8"]
    assert (d8.name, d8.language, d8.phone, d8.date_of_birth, d8.id_last4) == (
        "赵敏",
        "zh",
        "13800000008",
        date(1993, 4, 12),
        "6802",
    )
    assert [(x.key, x.loan_number, x.product, str(x.principal), str(x.apr), x.term) for x in d8.loans] == [
        ("D8a", "HX0000000008", "fenfu", "3600.00", "0.18", 6),
        ("D8b", "HX0000000009", "cash_loan", "15000.00", "0.154", 12),
    ]
    # one number per loan, in the order of the portfolio table
    assert [x.loan_number for x in DEMO_LOANS.values()] == [f"HX{n:010d}" for n in range(1, 10)]
    assert [len(b.loans) for b in DEMO_BORROWERS.values()] == [1] * 7 + [2]


def test_d8_worked_figures_on_a_fixed_day(policy):
    # 2026-11-25. (a) 3600 at 18% over 6 months: r = 0.015, 1.015^6 = 1.0934433,
    # A = 54 / (1 - 1/1.0934433) = 54 / 0.0854579 = 631.89. Interest 54.00, 45.33 (3022.11 * r),
    # 36.53 (2435.55 * r): instalment 3 is principal 595.36 + interest 36.53, due 2026-11-15.
    # Penalty: 18% * 1.5 = 27% capped at 24%: 595.36 * 0.24 / 365 = 0.3915 -> 0.39 * 10 days = 3.90.
    # Late fee: 5% of 631.89 = 31.59. Overdue 595.36 + 36.53 + 3.90 + 31.59 = 667.38.
    today = date(2026, 11, 25)
    loans = demo_loans(today)
    contract, payments, arrangements = loans["D8a"]
    a = derive_status(contract, payments, arrangements, today, policy)
    assert contract.schedule[2].due_date == date(2026, 11, 15) and str(contract.schedule[2].amount) == "631.89"
    assert (a.days_past_due, a.bucket, str(a.overdue.total), str(a.overdue.penalty_interest)) == (
        10,
        "M1",
        "667.38",
        "3.90",
    )
    # (b) instalments 1-5 paid, instalment 6 due in 5 days: nothing overdue.
    contract, payments, arrangements = loans["D8b"]
    b = derive_status(contract, payments, arrangements, today, policy)
    assert [i.state for i in b.instalments[:5]] == ["paid"] * 5 and b.overdue.total == 0
    assert b.next_due is not None and b.next_due.due_date == today + timedelta(days=5)
    assert b.next_due.amount == contract.schedule[5].amount


@settings(max_examples=60, deadline=None)
@given(today=st.dates(min_value=date(2025, 1, 1), max_value=date(2035, 12, 31)))
def test_d6_arrangement_is_broken_and_original_contract_applies_on_any_day(today, policy):
    contract, payments, arrangements = demo_loans(today)["D6"]
    s = derive_status(contract, payments, arrangements, today, policy)
    (arr,) = arrangements
    assert s.arrangement_states == {arr.arrangement_id: "broken"}
    assert arr.accepted_on < contract.schedule[2].due_date  # accepted before instalment 3 fell due
    assert [i.state for i in s.instalments[:4]] == ["paid"] * 4
    assert s.instalments[4].days_past_due == 35 and (s.days_past_due, s.bucket) == (35, "M2")
    assert not any(i.is_arrangement for i in s.instalments)


@settings(max_examples=60, deadline=None)
@given(today=st.dates(min_value=date(2025, 1, 1), max_value=date(2035, 12, 31)))
def test_every_demo_dpd_is_exact_on_any_day(today, policy):
    for key, (contract, payments, arrangements) in demo_loans(today).items():
        s = derive_status(contract, payments, arrangements, today, policy)
        assert (s.days_past_due, s.bucket) == TABLE[key], key
