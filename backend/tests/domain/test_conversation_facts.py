"""Facts of a conversation from event sequences (pure: ledger/domain/conversation_facts.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from huanxin_testkit.stream_events import T0, Conv
from ledger.domain.conversation_facts import FUNNEL, derive


def test_a_plan_accepted_after_hardship_is_an_arrangement_with_its_type():
    offers = [{"offer_id": "o1", "plan_type": "deferral"}, {"offer_id": "o2", "plan_type": "fee_waiver"}]
    c = (
        Conv()
        .action("action_session_start")
        .verify()
        .user("report_hardship")
        .action("action_start_hardship")
        .action("hardship_form")
        .action("action_submit_hardship")
        .slot("offered_plans", offers)
        .user("request_payment_plan", 0.8)
        .slot("chosen_offer_id", "o2")
        .user("affirm", 0.95)
        .action("action_handle_affirm")
        .bot("plan_accepted")
        .slot("offered_plans", None)
        .user("goodbye")
        .action("action_goodbye")
    )
    f = derive("s1", c.events)
    assert f.verified and f.verification == "verified"
    assert f.furthest_step == "committed"
    assert (f.outcome, f.plan_type, f.outcomes) == ("arrangement", "fee_waiver", ["arrangement"])
    assert f.turns == 8 and f.fallbacks == 0
    assert f.channel == "web" and f.languages == ["zh"]
    assert f.started_at == datetime.fromtimestamp(T0 + 0.5, tz=UTC)
    assert f.ended_at == datetime.fromtimestamp(c.t, tz=UTC)
    assert f.last_bot_action == "action_goodbye" and f.said_goodbye
    assert f.low_confidence == 0.8
    assert not f.escalated and not f.handled_by_agent


def test_funnel_steps_in_order():
    c = Conv().user("ask_overdue_status")
    assert derive("s1", c.events).furthest_step == "started"
    c.action("verification_form").slot("verified", True)
    assert derive("s1", c.events).furthest_step == "verified"
    c.action("action_show_overdue_status").bot("status_overdue")
    assert derive("s1", c.events).furthest_step == "status_explained"
    c.action("action_submit_hardship")
    assert derive("s1", c.events).furthest_step == "hardship_collected"
    c.slot("offered_plans", [{"offer_id": "o1", "plan_type": "deferral"}])
    assert derive("s1", c.events).furthest_step == "offers_shown"
    c.bot("promise_ok")
    f = derive("s1", c.events)
    assert f.furthest_step == FUNNEL[-1] and f.outcome == "promise"


def test_status_before_verification_is_not_explained():
    c = Conv().user("ask_overdue_status").action("action_show_overdue_status").action("verification_form")
    assert derive("s1", c.events).furthest_step == "started"


def test_the_status_said_in_the_verifying_turn_counts():
    """Rasa puts an action's texts before its slot events: the answer to the first question comes
    before `verified` in the turn that verifies."""
    c = Conv().user("ask_overdue_status").action("verification_form").user("inform")
    c.action("action_submit_verification").bot("status_current").slot("verified", True)
    f = derive("s1", c.events)
    assert f.furthest_step == "status_explained" and f.verified


def test_why_not_verified():
    lockout = (
        Conv()
        .user("ask_overdue_status")
        .action("verification_form")
        .slot("requested_slot", "identity_phone")
        .bot("verify_locked_handoff")
        .bot(custom={"handoff": {"reason": "verification_locked", "escalation_id": "x"}})
        .slot("escalated", True)
    )
    f = derive("s1", lockout.events)
    assert (f.verified, f.verification, f.escalated, f.escalation_reason) == (
        False,
        "lockout",
        True,
        "verification_locked",
    )
    third = Conv().user("ask_overdue_status").slot("third_party", True).action("verification_form")
    assert derive("s1", third.events).verification == "third_party"
    gave_up = Conv().user("ask_overdue_status").action("verification_form").slot("requested_slot", "identity_phone")
    assert derive("s1", gave_up.events).verification == "gave_up"
    assert derive("s1", Conv().user("greet").action("action_greet").events).verification == "not_asked"


def test_fallbacks_keep_what_the_classifier_guessed():
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "ask_fees", "confidence": 0.22}]
    c = Conv().user("nlu_fallback", 0.3, ranking).action("action_clarify").user("ask_fees", 0.7)
    f = derive("s1", c.events)
    assert f.fallbacks == 1 and f.turns == 2
    assert f.intents[0] == {"intent": "nlu_fallback", "confidence": 0.3, "guess": "ask_fees", "guess_confidence": 0.22}
    assert f.intents[1] == {"intent": "ask_fees", "confidence": 0.7}
    assert f.last_bot_action == "action_clarify"  # the last thing the bot did before the borrower left


def test_gateway_events_takeover_agent_reply_handback_and_outcome():
    c = (
        Conv(channel="wechat")
        .user("request_human")
        .action("action_request_human")
        .bot(custom={"handoff": {"reason": "request_human"}})
        .gateway("handoff", reason="request_human")
        .gateway("takeover", agent="agent1", reason="request_human")
        .gateway("agent_message", agent="agent1", text="您好")
        .gateway("handback", agent="agent1")
        .user("handback", 1.0, huanxin_system={"ts": 1, "sig": "x"})
        .action("action_handback")
        .gateway("closed", agent="agent1", outcome="callback_scheduled")
    )
    f = derive("s1", c.events)
    assert (f.escalated, f.escalation_reason, f.handled_by_agent) == (True, "request_human", True)
    assert f.agents == ["agent1"]
    assert f.turns == 1  # the gateway's /handback is not the borrower's
    assert (f.outcome, f.agent_outcome) == ("agent_outcome", "callback_scheduled")
    assert f.channel == "wechat" and f.gateway_conversation_id == "g1"


def test_agent_pickup_without_a_bot_handoff():
    c = Conv().user("greet").gateway("takeover", agent="supervisor")
    f = derive("s1", c.events)
    assert (f.escalated, f.escalation_reason, f.handled_by_agent) == (True, "agent_pickup", True)


def test_an_agent_only_note_is_not_handling():
    c = Conv().user("greet").gateway("agent_message", agent="agent1", agent_only=True)
    assert derive("s1", c.events).handled_by_agent is False


def test_outcomes_strongest_first():
    c = (
        Conv()
        .slot("last_record", {"kind": "complaint", "complaint_id": "c1"})
        .slot("payment_claim", {"amount": "100.00"})
        .bot("contact_done_all")
        .slot("last_record", {"kind": "dispute", "case_number": "D1"})
    )
    f = derive("s1", c.events)
    assert f.outcomes == ["payment_claimed", "dispute", "stop_contact", "complaint"]
    assert f.outcome == "payment_claimed"
    assert derive("s1", Conv().user("greet").events).outcome == "none"


def test_a_withdrawn_dispute_or_complaint_is_no_outcome():
    c = Conv().slot("last_record", {"kind": "dispute", "case_number": "D1"}).slot("last_record", None)
    assert derive("s1", c.events).outcome == "none"
    c.slot("last_record", {"kind": "complaint", "complaint_id": "c1"})
    assert derive("s1", c.events).outcomes == ["complaint"]


def test_csat_only_in_range():
    assert derive("s1", Conv().gateway("csat", score=4).events).csat == 4
    for bad in (0, 6, "5", True, None):
        assert derive("s1", Conv().gateway("csat", score=bad).events).csat is None


def test_languages_in_the_order_seen():
    c = Conv(language="zh").user("greet").slot("language", "en").user("greet", language="en")
    assert derive("s1", c.events).languages == ["zh", "en"]


def test_order_and_copies_of_the_events_do_not_matter():
    offers = [{"offer_id": "o1", "plan_type": "deferral"}]
    c = (
        Conv()
        .verify()
        .slot("offered_plans", offers)
        .slot("chosen_offer_id", "o1")
        .bot("plan_accepted")
        .user("nlu_fallback", 0.2)
        .gateway("takeover", agent="agent1")
    )
    expected = derive("s1", c.events)
    rng = random.Random(7)
    for _ in range(20):
        shuffled = c.events + rng.sample(c.events, 5)  # redelivered copies
        rng.shuffle(shuffled)
        assert derive("s1", shuffled) == expected
    assert expected.events == len(c.events)


def test_events_of_one_turn_with_the_same_timestamp_keep_their_session_order():
    c = Conv().slot("offered_plans", [{"offer_id": "o1", "plan_type": "deferral"}])
    c.slot("chosen_offer_id", "o1").bot("plan_accepted")
    for e in c.events:
        e["timestamp"] = T0  # one turn, one timestamp
    reversed_events = list(reversed(c.events))
    assert derive("s1", reversed_events).plan_type == "deferral"


def test_nothing_breaks_on_strange_events():
    events = [
        {"sender_id": "s1", "event": "user"},
        {"sender_id": "s1", "event": "slot", "name": None},
        {"sender_id": "s1", "event": "bot", "data": None, "metadata": None},
        {"sender_id": "s1", "event": "huanxin_gateway", "name": "closed", "outcome": 5},
        {"sender_id": "s1", "event": "unknown", "timestamp": "yesterday"},
    ]
    f = derive("s1", events)
    assert f.turns == 1 and f.outcome == "none" and f.started_at is None
