"""addons/action_events.py (issue 11): the events sent to the action server are the last two
messages' turns whole and, before them, the user messages and requested_slot events only;
everything else of Rasa's payload is unchanged. The bot tests' harness hands every action its
events the same way, with tripwires in place of those not sent."""

import json

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.handoff import conversation_summary
from addons import action_events
from harness import Conversation
from test_past_states import dialogues, domain, long_session  # noqa: F401  (fixtures)


def _payloads(tracker, domain):  # noqa: F811
    action = RemoteAction("action_greet", EndpointConfig("http://localhost:1/webhook"))
    original = action_events._original or RemoteAction._action_call_format
    action_events.install()
    return original(action, tracker, domain), action_events.action_call_format(action, tracker, domain)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_payload_is_rasas_with_the_events_trimmed(domain, dialogues, seed):  # noqa: F811
    events = long_session(dialogues, seed)
    checked = 0
    for end in range(0, len(events), 37):
        tracker = DialogueStateTracker.from_events("conv", events[:end], domain.slots)
        full, sent = _payloads(tracker, domain)
        full_events = full["tracker"].pop("events")
        sent_events = sent["tracker"].pop("events")
        assert json.dumps(sent, sort_keys=True) == json.dumps(full, sort_keys=True)
        assert sent_events == action_events.trimmed(full_events)
        cut = action_events.cut_index(full_events)
        assert sent_events[len(sent_events) - (len(full_events) - cut) :] == full_events[cut:]
        assert all(
            e["event"] == "user" or e.get("name") == "requested_slot"
            for e in sent_events[: -len(full_events) + cut or None]
        )
        checked += len(full_events) - len(sent_events)
    assert checked > 100  # events were left out


def test_before_the_second_latest_message_only_messages_and_requested_slots_are_sent():
    events = [
        UserUttered("a", {"name": "greet"}),
        BotUttered("hello"),
        SlotSet("requested_slot", "identity_phone"),
        SlotSet("language", "zh"),
        UserUttered("b", {"name": "inform"}),
        BotUttered("ok"),
        UserUttered("c", {"name": "thank"}),
        SlotSet("x", 1),
    ]
    sent = action_events.trimmed(events)
    assert sent == [events[0], events[2], *events[4:]]
    assert action_events.trimmed(events[:4]) == events[:4]  # one message: all of it


def test_a_tripwire_fails_an_action_that_reads_an_event_not_sent():
    events = [{"event": "bot", "text": "old"}, {"event": "user", "text": "a"}, {"event": "user", "text": "b"}]
    sent = action_events.trimmed([{"event": "user", "text": "0"}, *events], tripwire=True)
    wire = sent[1]
    assert isinstance(wire, action_events.Tripwire)
    assert wire.get("event") == "bot" and wire["event"] == "bot" and wire.get("name") is None
    with pytest.raises(AssertionError, match="'text' of a 'bot' event"):
        wire.get("text")
    with pytest.raises(AssertionError):
        dict(wire.items())


async def test_the_harness_gives_actions_the_trimmed_events_with_tripwires():
    conv = Conversation(slots={"language": "zh"})
    conv.user("你好", "greet")
    conv.events.append({"event": "bot", "text": "您好"})
    conv.events.append({"event": "slot", "name": "language", "value": "zh"})
    conv.user("我欠了多少钱", "ask_overdue_status")
    conv.user("谢谢", "thank")
    events = conv.tracker().events
    assert [type(e) is action_events.Tripwire for e in events] == [False, True, True, False, False]
    with pytest.raises(AssertionError):
        events[1].get("text")


async def test_the_handoff_summary_of_a_long_conversation_reads_only_what_is_sent():
    """conversation_summary walks the whole session: with 60 turns of it trimmed (tripwires in
    the harness) it says what it says of the whole events."""
    from actions.turn import Turn

    conv = Conversation(slots={"language": "zh"})
    for i in range(60):
        conv.user(f"问题 {i}", "ask_fees" if i % 2 else "ask_consequences")
        conv.events.append({"event": "bot", "text": f"回答 {i}"})
        conv.events.append({"event": "slot", "name": "requested_slot", "value": "identity_phone" if i == 5 else None})
        conv.events.append({"event": "slot", "name": "awaiting", "value": None})
    tracker = conv.tracker()
    assert sum(isinstance(e, action_events.Tripwire) for e in tracker.events) > 100

    def summary(t):
        from rasa_sdk.executor import CollectingDispatcher

        return conversation_summary(Turn(CollectingDispatcher(), t, {}, None, conv.vault, None))

    full = type(tracker)(
        tracker.sender_id, tracker.slots, tracker.latest_message, list(conv.events), False, None, {}, ""
    )
    assert summary(tracker) == summary(full)
    assert "问题 59" in summary(tracker)


def _summary(events):
    """conversation_summary of a tracker with these events (slots that add nothing)."""
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from actions.turn import Turn
    from actions.vault import ConversationVault

    tracker = Tracker("conv", {"language": "zh"}, {}, events, False, None, {}, "")
    return conversation_summary(Turn(CollectingDispatcher(), tracker, {}, None, ConversationVault(), None))


def _random_session(seed, turns):
    """Event dicts with what makes the readers' choice hard: long runs of one intent, button
    taps, empty texts, messages without an intent, identity answers and other requested_slot
    values, and events the readers skip."""
    import random

    rng = random.Random(seed)
    intents = ["inform", "inform", "inform", "ask_fees", "affirm", "deny", "complain", None]
    requested = [None, "identity_phone", "identity_dob", "hardship_reason", "monthly_income"]
    events = []
    for i in range(turns):
        if rng.random() < 0.2:
            events.append({"event": "slot", "name": "requested_slot", "value": rng.choice(requested)})
        intent = rng.choice(intents)
        roll = rng.random()
        text = f"/{intent}" if roll < 0.3 else ("" if roll < 0.35 else f"消息 {i} 电话 1380013{i:04d}")
        events.append(
            {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": rng.random()}}}
        )
        events.append({"event": "bot", "text": f"回答 {i}"})
        if rng.random() < 0.3:
            events.append({"event": "slot", "name": "awaiting", "value": None})
    return events


@pytest.mark.parametrize("seed", range(6))
def test_the_readers_of_earlier_messages_answer_the_same_from_the_events_sent(seed):
    """What actions read of earlier turns (the latest message of an intent, with its confidence;
    the handoff summary's intents and typed messages, identity answers skipped) is the same from
    the events sent as from all of them, at every length of sessions built to make the choice
    hard."""
    from actions.turn import latest_message_with_intent

    events = _random_session(seed, 400)
    left_out = 0
    for end in range(1, len(events) + 1, 7):
        whole = events[:end]
        sent = action_events.trimmed(whole)
        left_out += len(whole) - len(sent)
        for intent in ("inform", "ask_fees", "affirm", "deny", "complain", None, "greet"):
            assert latest_message_with_intent(sent, intent) is latest_message_with_intent(whole, intent)
        assert _summary(sent) == _summary(whole)
    assert left_out > 10_000


def test_the_summary_sizes_match_the_handoff_summary():
    from actions import handoff

    assert action_events.SUMMARY_INTENTS >= handoff.SUMMARY_INTENTS
    assert action_events.SUMMARY_MESSAGES >= handoff.SUMMARY_MESSAGES


@pytest.mark.parametrize("seed", [3, 4])
def test_a_long_session_sends_actions_a_bounded_payload(domain, dialogues, seed):  # noqa: F811
    """Over a session of 300 turns the events an action is sent stop growing: before the last two
    messages' turns, at most the latest message of each intent, one of each of the last intent
    runs, the last typed messages under each requested_slot value, and a requested_slot event
    for each of those."""
    events = long_session(dialogues, seed, turns=300)
    requested_values = {e.value for e in events if isinstance(e, SlotSet) and e.key == "requested_slot"}
    per_message = len(domain.intents) + 1 + action_events.SUMMARY_INTENTS
    per_message += action_events.SUMMARY_MESSAGES * (len(requested_values) + 1)
    bound = 2 * per_message
    sizes = []
    for end in range(len(events) // 3, len(events) + 1, 50):
        tracker = DialogueStateTracker.from_events("conv", events[:end], domain.slots)
        full, sent = _payloads(tracker, domain)
        full_events, sent_events = full["tracker"]["events"], sent["tracker"]["events"]
        head = len(sent_events) - (len(full_events) - action_events.cut_index(full_events))
        assert head <= bound
        sizes.append(len(sent_events))
    assert len(full_events) > 1000 and len(full_events) > 8 * len(sent_events)


async def test_an_action_over_300_turns_gets_a_bounded_payload():
    """The harness's conversation (as the action server gets it) over 300 turns of the bench's
    session: the events an action receives are as many at turn 300 as at turn 100."""
    conv = Conversation(slots={"language": "zh"})
    loop = [("罚息是怎么算的", "ask_fees"), ("不还会影响征信吗", "ask_consequences"), ("现在怎么还款", "pay_now"),
            ("我欠了多少钱？", "ask_overdue_status"), ("谢谢", "thank")]  # fmt: skip
    sizes = {}
    for turn in range(300):
        text, intent = loop[turn % len(loop)]
        conv.user(text, intent)
        conv.events.append({"event": "bot", "text": "回答"})
        conv.events.append({"event": "slot", "name": "awaiting", "value": None})
        if turn + 1 in (100, 300):
            sent = [e for e in conv.tracker().events if not isinstance(e, action_events.Tripwire)]
            sizes[turn + 1] = len(sent)
    assert sizes[300] == sizes[100] <= 20


def test_the_readers_of_the_events_are_the_ones_the_add_on_knows():
    """Every function of the actions that reads the tracker's events is one the add-on's
    docstring names and chooses the sent events for: a new one fails here until it is added
    there (and, if it reads earlier user messages, to read_before_cut and the harness's check)."""
    import ast
    from pathlib import Path

    known = {
        ("turn.py", "message_for"),
        ("turn.py", "missed_last_turn"),
        ("turn.py", "refused_this_message"),
        ("confirm.py", "act_message"),
        ("handoff.py", "conversation_summary"),
    }
    found = set()
    for path in sorted((Path(__file__).resolve().parents[2] / "bot" / "actions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                reads = isinstance(node, ast.Attribute) and node.attr in (
                    "events", "applied_events", "events_after_latest_restart", "get_last_event_for"
                )  # fmt: skip
                on_tracker = getattr(node, "value", None)
                on_tracker = getattr(on_tracker, "attr", None) or getattr(on_tracker, "id", None)
                if reads and on_tracker == "tracker":
                    found.add((path.name, function.name))
    assert found == known
