"""The contact planner (ledger.domain.contact_plan): one test per rule of the policy's
"Contact" section, each failing when the rule is broken, and the planner's derived state
checked against the ledger's full replay."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ledger.cadence_file import load_cadence
from ledger.domain.account import LoanContract, PaymentRecord, derive_status
from ledger.domain.contact_plan import (
    BorrowerInput,
    ContactEvent,
    LoanInput,
    OfferFact,
    PromiseRecord,
    due_state,
    plan_contacts,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=SHANGHAI)
TODAY = NOW.date()


@pytest.fixture(scope="module")
def cadence(policy):
    return load_cadence(None, policy)


def contract(number: str = "HX0000000101", due_in_days: int = 5, k: int = 3) -> tuple[LoanContract, list]:
    """A 12-month loan whose instalment k falls due ``due_in_days`` from TODAY (negative: overdue),
    instalments 1..k-1 paid on their due dates."""
    from ledger.domain.schedule import add_months

    due = TODAY + timedelta(days=due_in_days)
    c = LoanContract.create(number, Decimal("12000.00"), Decimal("0.18"), 12, add_months(due, -k), due_day=due.day)
    pays = [PaymentRecord(f"{number}-{s.number}", s.amount, s.due_date) for s in c.schedule[: k - 1]]
    return c, pays


def borrower(**kw) -> BorrowerInput:
    fields = dict(
        borrower_id="b1", timezone="Asia/Shanghai", language="zh", channels=frozenset({"sms", "phone", "web"})
    )
    fields.update(kw)
    return BorrowerInput(**fields)


def loan(policy, due_in_days=5, *, number="HX0000000101", today=TODAY, **kw) -> LoanInput:
    c, pays = contract(number, due_in_days)
    return LoanInput(number, "b1", due_state(c, pays, (), today, policy), **kw)


def plan(policy, cadence, loans, b=None, history=None, now=NOW):
    b = b or borrower()
    return plan_contacts(loans, {b.borrower_id: b}, history or {}, cadence, policy.contact, now)


def test_a_before_due_reminder_on_a_cadence_day_inside_the_window(policy, cadence):
    p = plan(policy, cadence, [loan(policy, 5)])
    [c] = p.contacts
    assert (c.reason, c.channel, c.language) == ("before_due", "sms", "zh")
    assert c.send_after == NOW and c.send_before == datetime(2026, 12, 1, 21, 0, tzinfo=SHANGHAI)
    assert c.subject == {"instalment": "3", "due_date": "2026-12-06"}
    assert "还信" in c.text and "回复 TD 退订" in c.text and "第3期" in c.text
    assert p.held == []
    assert plan(policy, cadence, [loan(policy, 4)]).contacts == []  # not a cadence day


def test_dispute_open_holds_every_reminder(policy, cadence):
    p = plan(policy, cadence, [loan(policy, 5, dispute_open=True)])
    assert p.contacts == []
    assert [(h.reason, h.rule) for h in p.held] == [("before_due", "dispute_open")]


def test_cease_contact_holds_every_reminder(policy, cadence):
    p = plan(policy, cadence, [loan(policy, 5)], borrower(stop_all=True))
    assert p.contacts == [] and [h.rule for h in p.held] == ["cease_contact"]


def test_an_opted_out_channel_is_never_used(policy, cadence):
    p = plan(policy, cadence, [loan(policy, 5)], borrower(opted_out=frozenset({"sms"})))
    [c] = p.contacts
    assert c.channel == "web" and c.skipped_channels == (("sms", "opted_out"),)
    p = plan(policy, cadence, [loan(policy, 5)], borrower(opted_out=frozenset({"sms", "web"})))
    assert p.contacts == [] and [h.rule for h in p.held] == ["opted_out"]


def test_only_the_borrowers_own_channels(policy, cadence):
    p = plan(policy, cadence, [loan(policy, 5)], borrower(channels=frozenset({"wechat"})))
    assert p.contacts == [] and [h.rule for h in p.held] == ["not_borrowers_channel"]


@pytest.mark.parametrize(
    ("clock", "expected_after"),
    [
        (datetime(2026, 12, 1, 6, 0, tzinfo=SHANGHAI), datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)),
        (datetime(2026, 12, 1, 20, 59, tzinfo=SHANGHAI), datetime(2026, 12, 1, 20, 59, tzinfo=SHANGHAI)),
    ],
)
def test_never_before_the_window_opens(policy, cadence, clock, expected_after):
    [c] = plan(policy, cadence, [loan(policy, 5)], now=clock).contacts
    assert c.send_after == expected_after and c.send_before.hour == 21


@pytest.mark.parametrize(
    "clock", [datetime(2026, 12, 1, 21, 0, tzinfo=SHANGHAI), datetime(2026, 12, 1, 23, 30, tzinfo=SHANGHAI)]
)
def test_nothing_planned_once_the_window_is_over(policy, cadence, clock):
    p = plan(policy, cadence, [loan(policy, 5)], now=clock)
    assert p.contacts == [] and [h.rule for h in p.held] == ["outside_window"]


def test_the_window_is_the_borrowers_local_time(policy, cadence):
    # 09:30 in Shanghai is 17:30 the day before in Los Angeles: inside LA's window, LA's day.
    la = ZoneInfo("America/Los_Angeles")
    b = borrower(timezone="America/Los_Angeles")
    la_today = NOW.astimezone(la).date()
    c, pays = contract("HX0000000101", 5 - 1)  # due on 2026-12-05 = 5 days after LA's 2026-11-30
    item = LoanInput("HX0000000101", "b1", due_state(c, pays, (), la_today, policy))
    [planned] = plan(policy, cadence, [item], b).contacts
    assert planned.send_after.utcoffset() == timedelta(hours=-8)
    assert planned.send_after == NOW and planned.send_before == datetime(2026, 11, 30, 21, 0, tzinfo=la)
    # 22:00 in LA: over, even though it is 14:00 in Shanghai
    late = datetime(2026, 11, 30, 22, 0, tzinfo=la)
    assert [h.rule for h in plan(policy, cadence, [item], b, now=late).held] == ["outside_window"]


def test_one_reminder_a_day_per_loan(policy, cadence):
    # due today and a promise due tomorrow: only the first of the cadence's priority goes out
    c, pays = contract(due_in_days=0)
    promise = PromiseRecord(Decimal("100.00"), TODAY - timedelta(days=2), TODAY + timedelta(days=1))
    item = LoanInput("HX0000000101", "b1", due_state(c, pays, (), TODAY, policy, [promise]))
    p = plan(policy, cadence, [item])
    assert [c.reason for c in p.contacts] == ["due_today"]
    assert [(h.reason, h.rule) for h in p.held] == [("promise_due_tomorrow", "daily_cap")]
    # one delivered earlier today (another reason): nothing more today
    earlier = ContactEvent("HX0000000101", "sms", NOW - timedelta(hours=1), "HX0000000101/x/2026-12-01/y")
    p = plan(policy, cadence, [loan(policy, 5)], history={"HX0000000101": [earlier]})
    assert p.contacts == [] and [h.rule for h in p.held] == ["daily_cap"]
    # ... but one delivered yesterday evening does not count for today
    yesterday = replace(earlier, at=NOW - timedelta(hours=13))
    assert len(plan(policy, cadence, [loan(policy, 5)], history={"HX0000000101": [yesterday]}).contacts) == 1


def test_a_pending_contact_counts_and_a_delivered_one_is_not_planned_again(policy, cadence):
    pending = ContactEvent("HX0000000101", "sms", NOW, "HX0000000101/other/2026-12-01/z", status="pending")
    p = plan(policy, cadence, [loan(policy, 5)], history={"HX0000000101": [pending]})
    assert [h.rule for h in p.held] == ["daily_cap"]
    key = plan(policy, cadence, [loan(policy, 5)]).contacts[0].idempotency_key
    done = ContactEvent("HX0000000101", "sms", NOW - timedelta(minutes=5), key)
    again = plan(policy, cadence, [loan(policy, 5)], history={"HX0000000101": [done]})
    assert again.contacts == [] and again.held == []
    same_pending = replace(done, status="pending")
    assert len(plan(policy, cadence, [loan(policy, 5)], history={"HX0000000101": [same_pending]}).contacts) == 1


def test_three_in_seven_days_per_loan(policy, cadence):
    def events(*days_ago):
        return {
            "HX0000000101": [ContactEvent("HX0000000101", "sms", NOW - timedelta(days=d), f"k{d}") for d in days_ago]
        }

    p = plan(policy, cadence, [loan(policy, 5)], history=events(1, 3, 6))
    assert p.contacts == [] and [h.rule for h in p.held] == ["weekly_cap"]
    assert len(plan(policy, cadence, [loan(policy, 5)], history=events(1, 3, 7)).contacts) == 1  # 7 days ago: out
    # the caps are per loan: another loan's contacts do not count
    other = {"HX0000000999": events(1, 3, 6)["HX0000000101"]}
    assert len(plan(policy, cadence, [loan(policy, 5)], history=other).contacts) == 1


def test_a_paid_off_loan_is_held(policy, cadence):
    c, _ = contract(due_in_days=5)
    payoff = [PaymentRecord("all", Decimal("13000.00"), TODAY - timedelta(days=1))]
    item = LoanInput("HX0000000101", "b1", due_state(c, payoff, (), TODAY, policy))
    assert item.state.closed
    p = plan(policy, cadence, [item])
    assert p.contacts == [] and [h.rule for h in p.held] == ["paid_off"]


def test_dpd_milestones_follow_the_bucket(policy, cadence):
    p = plan(policy, cadence, [loan(policy, -15)])
    [c] = p.contacts
    assert c.reason == "dpd_milestone" and c.subject["days_past_due"] == "15"
    assert plan(policy, cadence, [loan(policy, -16)]).contacts == []


def test_promise_broken_the_day_after_and_offer_expiring(policy, cadence):
    c, pays = contract(due_in_days=-16)
    promise = PromiseRecord(Decimal("100.00"), TODAY - timedelta(days=5), TODAY - timedelta(days=1))
    offer = OfferFact("o1", NOW + timedelta(hours=5), True)
    item = LoanInput("HX0000000101", "b1", due_state(c, pays, (), TODAY, policy, [promise]), offers=(offer,))
    p = plan(policy, cadence, [item])
    assert [c.reason for c in p.contacts] == ["offer_expiring"]
    assert p.contacts[0].send_before == NOW + timedelta(hours=5)  # never after the offer expires
    assert [(h.reason, h.rule) for h in p.held] == [("promise_broken", "daily_cap")]


def test_the_borrower_may_always_start_a_conversation(policy, cadence):
    # The planner limits outbound contact only: it has no input for, and no output about,
    # conversations the borrower starts. A stop-contact borrower is held for reminders, and that
    # is all the plan says about them.
    p = plan(policy, cadence, [loan(policy, 5)], borrower(stop_all=True, opted_out=frozenset({"sms", "web"})))
    assert {h.reason for h in p.held} == {"before_due"} and p.contacts == []
    import inspect

    from ledger.domain import contact_plan

    assert "inbound" not in inspect.signature(contact_plan.plan_contacts).parameters


def test_quiet_days(policy, cadence):
    quiet = replace(cadence, quiet_dates=frozenset({TODAY}))
    p = plan(policy, quiet, [loan(policy, 5)])
    assert p.contacts == [] and [h.rule for h in p.held] == ["outside_window"]


def test_state_must_be_for_the_borrowers_day(policy, cadence):
    with pytest.raises(ValueError, match="the borrower's day"):
        plan(policy, cadence, [loan(policy, 5, today=TODAY - timedelta(days=1))])
    with pytest.raises(ValueError, match="aware"):
        plan(policy, cadence, [loan(policy, 5)], now=datetime(2026, 12, 1, 9, 30))


@pytest.mark.parametrize("due_in_days", [-200, -40, -16, -3, -1, 0, 1, 5, 30])
@pytest.mark.parametrize("late_days", [None, 0, 2, 10])
def test_due_state_agrees_with_the_full_replay(policy, due_in_days, late_days):
    c, pays = contract(due_in_days=due_in_days, k=6)
    if late_days is not None:  # instalment 6 paid late (or on time), partially or fully
        s = c.schedule[5]
        pays.append(PaymentRecord("late", s.amount - Decimal("1.00"), s.due_date + timedelta(days=late_days)))
    state = due_state(c, pays, (), TODAY, policy)
    full = derive_status(c, pays, (), TODAY, policy)
    assert state.days_past_due == full.days_past_due and state.closed == full.closed
    assert state.bucket == full.bucket
    overdue = [i for i in full.instalments if i.state == "overdue"]
    assert (state.oldest_unpaid.number if state.oldest_unpaid else None) == (overdue[0].number if overdue else None)
    assert [(d.number, d.paid) for d in state.upcoming] == [
        (i.number, i.state == "paid") for i in full.instalments if i.due_date >= TODAY
    ]
    assert date.min < TODAY


def test_a_borrower_with_an_unknown_time_zone_is_never_contacted(policy, cadence):
    from ledger.domain.contact_plan import local_today

    b = borrower(timezone="Mars/Olympus_Mons")
    day = local_today(NOW, b.timezone)
    c, pays = contract(due_in_days=5 + (day - TODAY).days)
    item = LoanInput("HX0000000101", "b1", due_state(c, pays, (), day, policy))
    p = plan(policy, cadence, [item], b)
    assert p.contacts == []
    assert [(h.rule, h.detail) for h in p.held] == [("outside_window", "unknown time zone 'Mars/Olympus_Mons'")]
