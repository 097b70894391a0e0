"""Hypothesis properties of the contact planner: for any portfolio, contact history and clock,
no planned contact breaks a rule of the policy's "Contact" section, across time zones
(Asia/Shanghai, Asia/Urumqi, America/Los_Angeles with its DST changes) and month ends; and
the planner's fast derived state always agrees with the ledger's full replay."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.cadence_file import load_cadence
from ledger.domain.account import LoanContract, PaymentRecord, derive_status
from ledger.domain.contact_plan import (
    RULES,
    BorrowerInput,
    ContactEvent,
    LoanInput,
    OfferFact,
    PromiseRecord,
    due_state,
    plan_contacts,
)
from ledger.domain.schedule import add_months
from ledger.policy_file import load_policy

POLICY = load_policy()
CADENCE = load_cadence(None, POLICY)
ZONES = ("Asia/Shanghai", "Asia/Urumqi", "America/Los_Angeles")
CHANNELS = ("sms", "phone", "wechat", "web", "email")
# Clocks near the days that matter: month ends (28th-31st, February of a leap year too) and
# Los Angeles' DST changes (2026-11-01, 2027-03-14, 2028-03-12).
ANCHORS = (
    datetime(2026, 11, 1, 12, tzinfo=UTC),
    datetime(2026, 11, 30, 12, tzinfo=UTC),
    datetime(2026, 12, 31, 12, tzinfo=UTC),
    datetime(2027, 2, 28, 12, tzinfo=UTC),
    datetime(2027, 3, 14, 12, tzinfo=UTC),
    datetime(2028, 2, 29, 12, tzinfo=UTC),
    datetime(2028, 3, 12, 12, tzinfo=UTC),
)


@st.composite
def clocks(draw) -> datetime:
    anchor = draw(st.sampled_from(ANCHORS))
    return anchor + timedelta(minutes=draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)))


@st.composite
def raw_loans(draw, now: datetime, number: str):
    """A contract whose due dates fall around ``now`` (due days up to 31: month-end rule), paid
    on time, late, partially or not at all; promises around today."""
    term = draw(st.sampled_from((3, 6, 12)))
    due_day = draw(st.sampled_from((1, 15, 28, 29, 30, 31)))
    disbursed = now.date() - timedelta(days=draw(st.integers(0, 31 * term + 60)))
    c = LoanContract.create(number, Decimal("6000.00"), Decimal("0.18"), term, disbursed, due_day=due_day)
    pays = []
    for s in c.schedule:
        kind = draw(st.sampled_from(("on_time", "on_time", "late", "part", "fen_short", "none")))
        if kind == "on_time":
            pays.append(PaymentRecord(f"{number}-{s.number}", s.amount, s.due_date))
        elif kind == "late":
            pays.append(
                PaymentRecord(
                    f"{number}-{s.number}",
                    s.amount + Decimal("30.00"),
                    s.due_date + timedelta(days=draw(st.integers(1, 40))),
                )
            )
        elif kind == "fen_short":  # one fen short of the instalment: not paid
            pays.append(PaymentRecord(f"{number}-{s.number}", s.amount - Decimal("0.01"), s.due_date))
        elif kind == "part":
            pays.append(PaymentRecord(f"{number}-{s.number}", Decimal("100.00"), s.due_date))
        else:
            break
    if draw(st.integers(0, 7)) == 0:
        pays.append(
            PaymentRecord(f"{number}-payoff", Decimal("9000.00"), now.date() - timedelta(days=draw(st.integers(0, 60))))
        )
    promises = [
        PromiseRecord(
            Decimal("200.00"),
            now.date() - timedelta(days=draw(st.integers(2, 9))),
            now.date() + timedelta(days=draw(st.integers(-2, 2))),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    return c, pays, promises


@st.composite
def portfolios(draw):
    now = draw(clocks())
    borrowers: dict[str, BorrowerInput] = {}
    for i in range(draw(st.integers(1, 4))):
        bid = f"b{i}"
        borrowers[bid] = BorrowerInput(
            borrower_id=bid,
            timezone=draw(st.sampled_from(ZONES)),
            language=draw(st.sampled_from(("zh", "en"))),
            channels=frozenset(draw(st.sets(st.sampled_from(CHANNELS), max_size=5)))
            | (frozenset({"sms", "web"}) if draw(st.integers(0, 3)) else frozenset()),
            stop_all=draw(st.integers(0, 7)) == 0,
            opted_out=frozenset(draw(st.sets(st.sampled_from(CHANNELS), max_size=1))),
        )
    loans: list[LoanInput] = []
    history: dict[str, list[ContactEvent]] = defaultdict(list)
    for j in range(draw(st.integers(1, 5))):
        bid = draw(st.sampled_from(sorted(borrowers)))
        number = f"HX{j:010d}"
        c, pays, promises = draw(raw_loans(now, number))
        today = now.astimezone(ZoneInfo(borrowers[bid].timezone)).date()
        offers = tuple(
            OfferFact(f"o{j}{k}", now + timedelta(minutes=draw(st.integers(-60, 48 * 60))), draw(st.booleans()))
            for k in range(draw(st.integers(0, 2)))
        )
        loans.append(
            LoanInput(
                number,
                bid,
                due_state(c, pays, (), today, POLICY, promises),
                dispute_open=draw(st.integers(0, 7)) == 0,
                offers=offers,
            )
        )
        for k in range(draw(st.integers(0, 5))):
            at = now - timedelta(minutes=draw(st.integers(0, 9 * 24 * 60)))
            status = draw(st.sampled_from(("delivered", "delivered", "pending")))
            history[number].append(ContactEvent(number, draw(st.sampled_from(CHANNELS)), at, f"h{j}-{k}", status))
    return now, borrowers, loans, dict(history)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(portfolios())
def test_no_planned_contact_breaks_a_contact_rule(case):
    now, borrowers, loans, history = case
    rules = POLICY.contact
    plan = plan_contacts(loans, borrowers, history, CADENCE, rules, now)
    by_number = {loan.loan_number: loan for loan in loans}
    planned_per_loan: dict[str, int] = defaultdict(int)
    for c in plan.contacts:
        loan = by_number[c.loan_number]
        b = borrowers[loan.borrower_id]
        zone = ZoneInfo(b.timezone)
        today = now.astimezone(zone).date()
        assert not loan.state.closed, "paid off"
        assert not loan.dispute_open, "open dispute"
        assert not b.stop_all, "cease contact"
        assert c.channel not in b.opted_out, "opted-out channel"
        assert c.channel in b.channels, "not the borrower's channel"
        assert c.channel in CADENCE.reasons[c.reason].channels
        # the window, in the borrower's local time, on the borrower's day
        after, before = c.send_after.astimezone(zone), c.send_before.astimezone(zone)
        assert c.send_after.utcoffset() == after.utcoffset() and c.send_before.utcoffset() == before.utcoffset()
        assert now <= c.send_after < c.send_before
        assert after.date() == today == before.date()
        assert rules.window_start <= after.time() and before.time() <= rules.window_end
        assert today.isoweekday() not in CADENCE.quiet_weekdays and today not in CADENCE.quiet_dates
        # the caps, per loan: what the history holds plus what this plan adds
        planned_per_loan[c.loan_number] += 1
        events = [e for e in history.get(c.loan_number, ()) if e.idempotency_key != c.idempotency_key]
        days = [e.at.astimezone(zone).date() for e in events]
        same_day = sum(1 for d in days if d == today)
        week = sum(1 for d in days if today - timedelta(days=6) <= d <= today)
        assert same_day + planned_per_loan[c.loan_number] <= rules.max_per_day, "daily cap"
        assert week + planned_per_loan[c.loan_number] <= rules.max_per_7_days, "7-day cap"
        assert "{" not in c.text and CADENCE.stop.get(c.language) in c.text and CADENCE.sender.get(c.language) in c.text
    for h in plan.held:
        assert h.rule in RULES
    keys = [c.idempotency_key for c in plan.contacts] + [h.idempotency_key for h in plan.held]
    assert len(keys) == len(set(keys)), "one entry per idempotency key"


@settings(max_examples=300, deadline=None)
@given(clocks(), st.data())
def test_the_fast_state_agrees_with_the_full_replay(now, data):
    c, pays, promises = data.draw(raw_loans(now, "HX0000000001"))
    today: date = now.astimezone(ZoneInfo(data.draw(st.sampled_from(ZONES)))).date()
    state = due_state(c, pays, (), today, POLICY, promises)
    full = derive_status(c, [p for p in pays if p.received_on <= today], (), today, POLICY)
    assert (state.days_past_due, state.closed, state.bucket) == (full.days_past_due, full.closed, full.bucket)
    overdue = [i.number for i in full.instalments if i.state == "overdue"]
    assert (state.oldest_unpaid.number if state.oldest_unpaid else None) == (overdue[0] if overdue else None)
    expected = [(i.number, i.state == "paid" or full.closed) for i in full.instalments if i.due_date >= today]
    assert [(d.number, d.paid) for d in state.upcoming] == expected


def test_the_month_end_anchor_dates_exist():
    # the anchors above are real month ends and DST days (a typo would silently test nothing)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    la = ZoneInfo("America/Los_Angeles")
    assert datetime(2027, 3, 14, 12, tzinfo=la).utcoffset() != datetime(2027, 3, 13, 12, tzinfo=la).utcoffset()
    assert datetime(2026, 11, 1, 12, tzinfo=la).utcoffset() != datetime(2026, 10, 31, 12, tzinfo=la).utcoffset()
