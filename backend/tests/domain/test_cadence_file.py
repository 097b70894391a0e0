"""The contact cadence file (ledger.cadence_file): the packaged default is valid and says who
sends each message and how to stop it; every kind of bad file is refused naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.cadence_file import load_cadence, parse_cadence
from ledger.domain.contact_plan import REASONS
from ledger.domain.errors import PolicyError

DEFAULT = (Path(__file__).resolve().parents[2] / "src" / "ledger" / "default_cadence.yaml").read_text(encoding="utf-8")


def test_the_default_cadence_covers_every_reason_in_both_languages(policy):
    cadence = load_cadence(None, policy)
    assert sorted(cadence.priority) == sorted(REASONS) and set(cadence.reasons) == set(REASONS)
    for reason, rc in cadence.reasons.items():
        assert "{sender}" in rc.template.zh and "{stop}" in rc.template.zh, reason
        assert "{sender}" in rc.template.en and "{stop}" in rc.template.en, reason
    assert cadence.stop.zh == "回复 TD 退订" and "STOP" in cadence.stop.en
    assert cadence.dpd_milestones["M1"] == frozenset({1, 5, 10, 15, 20, 25, 30})


def test_the_default_texts_state_facts_without_threats_or_amounts(policy):
    cadence = load_cadence(None, policy)
    words = ("起诉", "法院", "上门", "后果自负", "lawsuit", "court", "police", "arrest", "consequences", "CNY", "元")
    for rc in cadence.reasons.values():
        for text in (rc.template.zh, rc.template.en):
            assert not [w for w in words if w in text], text


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("version: 1", "version: 2", "version"),
        ("  before_due:\n    days: [10, 5]", "  before_due:\n    dayz: [10, 5]", "reasons.before_due.days"),
        ("  before_due:\n    days: [10, 5]", "  before_due:\n    days: []", "reasons.before_due.days"),
        (
            "    days: [10, 5]       # days before a contractual due date\n    channels: [sms, web]",
            "    days: [10, 5]\n    channels: [sms, pigeon]",
            "reasons.before_due.channels[1]",
        ),
        (
            "    days: [10, 5]       # days before a contractual due date\n    channels: [sms, web]",
            "    days: [10, 5]\n    channels: [sms, sms]",
            "reasons.before_due.channels",
        ),
        ("      M1: [1, 5, 10, 15, 20, 25, 30]", "      M1: [1, 5, 31]", "reasons.dpd_milestone.buckets.M1[2]"),
        ("      M1: [1, 5, 10, 15, 20, 25, 30]", "      M9: [1]", "reasons.dpd_milestone.buckets.M9"),
        ("（还有{days_left}天）", "（还款{amount}元）", "reasons.before_due.template.zh"),
        ('; {stop}."\n  due_today:', '."\n  due_today:', "reasons.before_due.template.en"),
        (
            "【{sender}】您尾号{loan_tail}的借款第{instalment}期今天",
            "您尾号{loan_tail}的借款第{instalment}期今天",
            "reasons.due_today.template.zh",
        ),
        ("promise_broken, dpd_milestone, before_due]", "promise_broken, dpd_milestone]", "priority"),
        ("  weekdays: []", "  weekdays: [8]", "quiet_days.weekdays[0]"),
        ("  dates: []", '  dates: ["2027-13-01"]', "quiet_days.dates[0]"),
        ("    hours: 24", "    hours: 0", "reasons.offer_expiring.hours"),
        ("sender: {zh: 还信, en: Huanxin}\n", "", "sender"),
        ("（还有{days_left}天）", "（还有{days_left天）", "reasons.before_due.template.zh"),
    ],
)
def test_a_bad_cadence_is_refused_naming_the_key(policy, old, new, key):
    assert old in DEFAULT
    with pytest.raises(PolicyError) as exc:
        parse_cadence(DEFAULT.replace(old, new, 1), policy)
    assert exc.value.key == key and str(exc.value).startswith(key + ":")


@pytest.mark.parametrize("text", ["", "- a list", "version: [", "{}", "version: 2027-13-01"])
def test_a_cadence_that_is_not_a_mapping_of_keys_is_refused(policy, text):
    with pytest.raises(PolicyError):
        parse_cadence(text, policy)


def test_an_unreadable_cadence_file_is_refused(policy, tmp_path):
    with pytest.raises(PolicyError, match="cannot read cadence file"):
        load_cadence(tmp_path / "missing.yaml", policy)
