from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ledger.domain.errors import PolicyError
from ledger.policy_file import load_policy, parse_policy

DEFAULT = (Path(__file__).resolve().parents[2] / "src" / "ledger" / "default_policy.yaml").read_text(encoding="utf-8")


def test_defaults_are_the_numbers_of_collections_policy(policy):
    c = policy.charges
    assert (c.grace_days, c.penalty_rate_multiplier, c.penalty_rate_cap, c.day_count) == (
        0,
        Decimal("1.5"),
        Decimal("0.24"),
        365,
    )
    assert (c.late_fee_at_dpd, c.late_fee_rate, c.late_fee_min, c.late_fee_max) == (
        3,
        Decimal("0.05"),
        Decimal("10.00"),
        Decimal("50.00"),
    )
    assert [b.name for b in policy.buckets] == ["M0", "M1", "M2", "M3", "M3+"]
    assert [policy.bucket_for(d) for d in (0, 1, 30, 31, 60, 61, 90, 91, 5000)] == [
        "M0",
        "M1",
        "M1",
        "M2",
        "M2",
        "M3",
        "M3",
        "M3+",
        "M3+",
    ]
    assert policy.relief.affordability_ratio == Decimal("0.5") and policy.relief.offer_expiry_hours == 72
    assert policy.relief.long_term_reasons == ("job_loss", "illness", "business_failure")
    assert (policy.relief.max_restructures, policy.relief.restructure_window_months) == (1, 12)
    pl = policy.plans
    assert (pl.deferral.min_holiday_months, pl.deferral.max_holiday_months, pl.deferral.max_dpd) == (1, 3, 60)
    assert (
        pl.term_extension.max_dpd,
        pl.term_extension.max_extension_months,
        pl.term_extension.max_total_term_months,
    ) == (90, 12, 36)
    assert (pl.reduced_rate.min_dpd, pl.reduced_rate.max_dpd, pl.reduced_rate.apr_factor, pl.reduced_rate.min_apr) == (
        31,
        180,
        Decimal("0.5"),
        Decimal("0.06"),
    )
    assert (pl.quarterly.max_dpd, pl.quarterly.max_payment_to_disposable) == (60, Decimal("1.5"))
    assert (pl.settlement.min_dpd, pl.settlement.overdue_interest_share, pl.settlement.pay_within_days) == (
        91,
        Decimal("0.5"),
        14,
    )
    assert (
        pl.fee_waiver.penalty_waiver_share_m1,
        pl.fee_waiver.penalty_waiver_share_later,
        pl.fee_waiver.pay_within_days,
    ) == (Decimal("0.5"), Decimal("1.0"), 7)
    p = policy.promises
    assert (p.window_days_m1, p.window_days_later, p.max_open, p.max_broken, p.broken_window_days) == (14, 7, 1, 3, 90)
    assert policy.disputes.reply_days == 15
    v = policy.verification
    assert (v.max_failures, v.lock_minutes, v.token_idle_minutes) == (3, 30, 30)
    assert (v.max_failures_per_client, v.client_window_minutes) == (10, 60)
    ct = policy.contact
    assert (ct.window_start, ct.window_end, ct.max_per_day, ct.max_per_7_days, ct.timezone) == (
        time(8),
        time(21),
        1,
        3,
        "Asia/Shanghai",
    )
    for text in (policy.texts.fee_rules, policy.texts.consequences, policy.texts.arrangement_terms):
        assert text.zh and text.en


def test_rates_are_read_exactly_not_as_binary_floats(policy):
    assert isinstance(policy.charges.late_fee_rate, Decimal) and str(policy.charges.late_fee_rate) == "0.05"


def test_explicit_path_loads(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(DEFAULT.replace("late_fee_max: 50.00", "late_fee_max: 80.00"), encoding="utf-8")
    assert load_policy(f).charges.late_fee_max == Decimal("80.00")


def mutate(change):
    data = yaml.safe_load(DEFAULT)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True)


def _set(path, value):
    def change(data):
        *parents, last = path.split(".")
        for p in parents:
            data = data[int(p)] if p.isdigit() else data[p]
        data[last] = value

    return change


def _del(path):
    def change(data):
        *parents, last = path.split(".")
        for p in parents:
            data = data[p]
        del data[last]

    return change


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (_set("plans.deferral.surprise", 1), "plans.deferral.surprise"),
        (_set("bonus", True), "bonus"),
        (_del("plans.settlement.min_dpd"), "plans.settlement.min_dpd"),
        (_del("texts"), "texts"),
        (_set("plans.deferral.max_holiday_months", "three"), "plans.deferral.max_holiday_months"),
        (_set("promises.max_broken", True), "promises.max_broken"),
        (_set("charges.late_fee_rate", "0.05"), "charges.late_fee_rate"),
        (_set("plans.deferral.max_holiday_months", 0), "plans.deferral.max_holiday_months"),
        (_set("charges.penalty_rate_cap", -0.1), "charges.penalty_rate_cap"),
        (_set("relief.affordability_ratio", 1.5), "relief.affordability_ratio"),
        (_set("promises.window_days_m1", -1), "promises.window_days_m1"),
        (_set("charges.late_fee_min", 60), "charges.late_fee_min"),
        (_set("plans.reduced_rate.min_dpd", 200), "plans.reduced_rate.min_dpd"),
        (_set("plans.deferral.min_holiday_months", 4), "plans.deferral.min_holiday_months"),
        (_set("charges.late_fee_max", 50.005), "charges.late_fee_max"),
        (_del("verification.max_failures_per_client"), "verification.max_failures_per_client"),
        (_set("verification.max_failures_per_client", 0), "verification.max_failures_per_client"),
        (_set("verification.client_window_minutes", "an hour"), "verification.client_window_minutes"),
        (_set("withdrawals.window_hours", 0), "withdrawals.window_hours"),
        (_del("withdrawals.window_hours"), "withdrawals.window_hours"),
        (_set("payment_traces.reply_working_days", 1.5), "payment_traces.reply_working_days"),
        (_del("payment_traces"), "payment_traces"),
        (_set("promises.max_open", 0), "promises.max_open"),
    ],
)
def test_invalid_policy_raises_policy_error_naming_the_key(change, key):
    with pytest.raises(PolicyError) as err:
        parse_policy(mutate(change))
    assert err.value.key == key
    assert str(err.value).startswith(f"{key}: ")


def test_buckets_must_be_contiguous():
    def gap(data):
        data["buckets"][2]["min_dpd"] = 32

    with pytest.raises(PolicyError) as err:
        parse_policy(mutate(gap))
    assert err.value.key == "buckets[2].min_dpd"


def test_missing_file_and_bad_yaml_raise_policy_error(tmp_path):
    with pytest.raises(PolicyError):
        load_policy(tmp_path / "nope.yaml")
    with pytest.raises(PolicyError):
        parse_policy("charges: [unclosed")
    with pytest.raises(PolicyError):
        parse_policy("- just a list")


def test_an_impossible_yaml_date_is_a_policy_error_not_a_crash():
    # PyYAML builds unquoted dates itself and raises ValueError for 2027-13-01
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy(DEFAULT.replace("version: 1", "version: 2027-13-01", 1))
