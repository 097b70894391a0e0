"""The dispatcher's decision at send time: the fresh plan wins (a dispute opened or an opt-out
recorded after planning holds the contact), sends stay inside their interval, failed sends wait
their backoff and are given up after the last attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.contact_plan import HeldContact, PlannedContact
from ledger.domain.outbound import QueuedContact, RetryRules, decide, stop_reply_language

KEY = "HX0000000005/before_due/2026-12-01/i3"
NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
AFTER, BEFORE = NOW - timedelta(minutes=5), NOW + timedelta(hours=11)


def row(**kw) -> QueuedContact:
    base = dict(idempotency_key=KEY, channel="sms", status="planned", attempts=0, send_after=AFTER, send_before=BEFORE)
    return QueuedContact(**{**base, **kw})


def planned(channel: str = "sms", skipped=()) -> dict[str, PlannedContact]:
    c = PlannedContact(
        KEY,
        "HX0000000005",
        "b5",
        "before_due",
        channel,
        "before_due",
        "zh",
        "【还信】… 回复 TD 退订",
        AFTER,
        BEFORE,
        {"instalment": "3"},
        tuple(skipped),
    )
    return {KEY: c}


def held(rule: str) -> dict[str, HeldContact]:
    return {KEY: HeldContact(KEY, "HX0000000005", "b5", "before_due", rule, "sms")}


def test_a_contact_still_planned_on_its_channel_is_sent_with_the_fresh_text():
    d = decide(row(), planned(), {}, NOW)
    assert (d.action, d.text) == ("send", "【还信】… 回复 TD 退订")


@pytest.mark.parametrize("rule", ["dispute_open", "cease_contact", "opted_out", "daily_cap", "weekly_cap", "paid_off"])
def test_a_rule_that_holds_it_now_wins(rule):
    assert (decide(row(), {}, held(rule), NOW).action, decide(row(), {}, held(rule), NOW).rule) == ("hold", rule)


def test_a_channel_opted_out_since_planning_is_not_used_even_if_another_is_allowed():
    d = decide(row(), planned("web", [("sms", "opted_out")]), {}, NOW)
    assert (d.action, d.rule) == ("hold", "opted_out")


def test_no_longer_due_and_outside_the_interval_are_held():
    assert decide(row(), {}, {}, NOW).rule == "no_longer_due"
    assert decide(row(), planned(), {}, AFTER - timedelta(seconds=1)).rule == "outside_window"
    assert decide(row(), planned(), {}, BEFORE).rule == "outside_window"


def test_a_failed_send_waits_its_backoff_then_is_retried_then_given_up():
    rules = RetryRules(first=timedelta(minutes=1), longest=timedelta(minutes=10), max_attempts=4)
    assert [rules.backoff(n) for n in (1, 2, 3, 4, 5)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 10)]
    failed = row(status="failed", attempts=2, last_attempt_at=NOW - timedelta(minutes=1), failure="timeout")
    d = decide(failed, planned(), {}, NOW, rules)
    assert (d.action, d.retry_at) == ("wait", NOW + timedelta(minutes=1))
    assert decide(failed, planned(), {}, NOW + timedelta(minutes=1), rules).action == "send"
    spent = row(status="failed", attempts=4, last_attempt_at=NOW - timedelta(hours=1), failure="timeout")
    assert decide(spent, planned(), {}, NOW, rules).action == "give_up"


def test_a_contact_held_at_send_time_is_checked_again_without_backoff():
    was_held = row(status="failed", attempts=0, failure="held: dispute_open")
    assert decide(was_held, planned(), {}, NOW).action == "send"


def test_a_send_the_channel_refused_is_given_up_at_once_without_backoff():
    refused = row(status="failed", attempts=1, last_attempt_at=NOW - timedelta(seconds=5),
                  failure="refused: telegram: 403 Forbidden: bot was blocked by the user")  # fmt: skip
    assert decide(refused, planned(), {}, NOW).action == "give_up"
    given_up = row(status="failed", attempts=1, last_attempt_at=NOW, failure="given up after 1 attempts: refused: x")
    assert decide(given_up, planned(), {}, NOW + timedelta(days=0, hours=1)).action == "give_up"
    passing = row(status="failed", attempts=1, last_attempt_at=NOW - timedelta(minutes=2), failure="telegram: 502")
    assert decide(passing, planned(), {}, NOW).action == "send"


def test_a_naive_clock_is_refused():
    with pytest.raises(ValueError):
        decide(row(), planned(), {}, NOW.replace(tzinfo=None))


def test_a_contact_left_attempted_by_a_stopped_worker_is_sent_again_even_at_the_last_attempt():
    rules = RetryRules(max_attempts=2)
    stopped = row(status="attempted", attempts=2, last_attempt_at=NOW - timedelta(seconds=5))
    assert decide(stopped, planned(), {}, NOW, rules).action == "send"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("TD", "zh"),
        (" td。", "zh"),
        ("退订", "zh"),
        ("【退订】", "zh"),
        ("STOP", "en"),
        ("Stop!", "en"),
        ("ＳＴＯＰ", "en"),
    ],
)
def test_stop_words_in_any_case_width_or_punctuation(text, language):
    assert stop_reply_language(text) == language


@pytest.mark.parametrize("text", ["", "好的", "TDX", "stop calling at night", "不要退订", "T D"])
def test_other_replies_are_not_a_stop(text):
    assert stop_reply_language(text) is None
