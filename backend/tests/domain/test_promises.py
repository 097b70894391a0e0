from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.domain.account import PaymentRecord, derive_status
from ledger.domain.demo import demo_loans
from ledger.domain.errors import PromiseRejected
from ledger.domain.promises import check_promise, promise_state, promise_window_end

TODAY = date(2026, 11, 25)


def status_of(key, policy):
    contract, payments, arrangements = demo_loans(TODAY)[key]
    return derive_status(contract, payments, arrangements, TODAY, policy)


def check(status, policy, amount="500.00", days=3, **kw):
    args = dict(open_promises=0, broken_in_90_days=0, dispute_open=False, as_of=TODAY, policy=policy)
    args.update(kw)
    check_promise(Decimal(amount), TODAY + timedelta(days=days), status, **args)


def reason(fn):
    with pytest.raises(PromiseRejected) as err:
        fn()
    return err.value.reason


def test_m1_window_is_14_days_and_m2_window_is_7(policy):
    d1, d2 = status_of("D1", policy), status_of("D2", policy)
    check(d1, policy, days=0)
    check(d1, policy, days=14)
    assert reason(lambda: check(d1, policy, days=15)) == "date_out_of_window"
    assert reason(lambda: check(d1, policy, days=-1)) == "date_out_of_window"
    check(d2, policy, days=7)
    assert reason(lambda: check(d2, policy, days=8)) == "date_out_of_window"


def test_a_date_out_of_the_window_names_the_latest_allowed_date(policy):
    d1, d2 = status_of("D1", policy), status_of("D2", policy)
    for status, window in ((d1, 14), (d2, 7)):
        with pytest.raises(PromiseRejected) as err:
            check(status, policy, days=window + 5)
        assert err.value.latest_date == TODAY + timedelta(days=window)
        assert err.value.max_days == window
    with pytest.raises(PromiseRejected) as err:
        check(d1, policy, amount="0.00")
    assert err.value.latest_date is None and err.value.max_days is None


def test_amount_must_be_positive_and_at_most_the_payoff(policy):
    d1 = status_of("D1", policy)
    check(d1, policy, amount=str(d1.payoff_amount))
    assert reason(lambda: check(d1, policy, amount=str(d1.payoff_amount + Decimal("0.01")))) == "amount_out_of_range"
    assert reason(lambda: check(d1, policy, amount="0.00")) == "amount_out_of_range"


def test_one_open_promise_dispute_and_broken_limit(policy):
    d1 = status_of("D1", policy)
    assert reason(lambda: check(d1, policy, open_promises=1)) == "open_promise_exists"
    assert reason(lambda: check(d1, policy, dispute_open=True)) == "dispute_open"
    check(d1, policy, broken_in_90_days=2)
    assert reason(lambda: check(d1, policy, broken_in_90_days=3)) == "too_many_broken_promises"


def test_nothing_owed_on_a_closed_loan(policy):
    contract, payments, _ = demo_loans(TODAY)["D5"]
    closed = derive_status(contract, payments + (PaymentRecord("ALL", Decimal("99999.00"), TODAY),), (), TODAY, policy)
    assert closed.closed
    assert reason(lambda: check(closed, policy)) == "nothing_owed"


def pays(*items):
    return [PaymentRecord(f"p{i}", Decimal(a), d) for i, (a, d) in enumerate(items)]


def test_promise_kept_when_payments_from_the_promise_reach_the_amount_by_its_date():
    made, due = date(2026, 11, 1), date(2026, 11, 10)
    assert promise_state(Decimal("500"), made, due, [], date(2026, 11, 5)) == "open"
    assert promise_state(Decimal("500"), made, due, pays(("300", date(2026, 11, 3)), ("200", due)), due) == "kept"
    assert promise_state(Decimal("500"), made, due, pays(("500", date(2026, 11, 4))), date(2026, 11, 5)) == "kept"


def test_promise_broken_the_day_after_its_date_when_short():
    made, due = date(2026, 11, 1), date(2026, 11, 10)
    short = pays(("499.99", date(2026, 11, 3)))
    assert promise_state(Decimal("500"), made, due, short, due) == "open"
    assert promise_state(Decimal("500"), made, due, short, due + timedelta(days=1)) == "broken"
    late = pays(("500", due + timedelta(days=1)))
    assert promise_state(Decimal("500"), made, due, late, due + timedelta(days=2)) == "broken"
    before = pays(("500", made - timedelta(days=1)))
    assert promise_state(Decimal("500"), made, due, before, due + timedelta(days=1)) == "broken"


def test_max_open_is_read_from_the_policy(policy):
    d1 = status_of("D1", policy)
    two = replace(policy, promises=replace(policy.promises, max_open=2))
    check(d1, two, open_promises=1)
    assert reason(lambda: check(d1, two, open_promises=2)) == "open_promise_exists"
    assert reason(lambda: check(d1, policy, open_promises=1)) == "open_promise_exists"


def test_a_refused_date_names_the_window(policy):
    d1 = status_of("D1", policy)
    with pytest.raises(PromiseRejected) as err:
        check(d1, policy, days=20)
    assert err.value.reason == "date_out_of_window"
    assert (err.value.earliest_date, err.value.latest_date) == (TODAY, TODAY + timedelta(days=14))
    assert promise_window_end(d1, TODAY, policy) == TODAY + timedelta(days=14)


def test_a_replacement_keeps_the_window_of_the_promise_it_replaces(policy):
    d1 = status_of("D1", policy)
    chain_end = TODAY + timedelta(days=5)  # the first promise of the chain allowed dates up to here
    check(d1, policy, days=5, window_ends_on=chain_end)
    with pytest.raises(PromiseRejected) as err:
        check(d1, policy, days=6, window_ends_on=chain_end)
    assert err.value.reason == "date_out_of_window" and err.value.latest_date == chain_end


def test_a_replaced_promise_is_replaced_from_that_day_whatever_was_paid():
    made, due = date(2026, 11, 1), date(2026, 11, 10)
    paid = pays(("500", date(2026, 11, 3)))
    assert promise_state(Decimal("500"), made, due, [], date(2026, 11, 5), replaced_on=date(2026, 11, 5)) == "replaced"
    assert promise_state(Decimal("500"), made, due, [], date(2026, 11, 4), replaced_on=date(2026, 11, 5)) == "open"
    assert (
        promise_state(Decimal("900"), made, due, paid, date(2026, 11, 20), replaced_on=date(2026, 11, 6)) == "replaced"
    )
