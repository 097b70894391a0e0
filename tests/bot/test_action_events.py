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
