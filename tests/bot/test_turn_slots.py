"""The first custom action after a user message applies the message's language and resets the
count of misunderstood messages (no slot-validation round trip to the action server per turn)."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionClarify, ActionHandleOutOfScope
from actions.smalltalk import ActionGoodbye, ActionGreet, ActionIAmABot, ActionThank
from actions.vault import ConversationVault
from actions.verification import ValidateVerificationForm
from fake_ledger import TODAY, FakeLedger
from harness import DOMAIN

FRESH = {"verified": False, "third_party": False, "language_chosen": False, "language": None, "fallback_count": 0.0}


def tracker(text: str, intent: str, slots: dict | None = None, events: list | None = None) -> Tracker:
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": []}
    all_slots = dict(FRESH, **(slots or {}))
    history = [{"event": "user", "text": text, "parse_data": latest}] + (events or [])
    return Tracker("conv-t", all_slots, latest, history, False, None, {}, "action_listen")


async def run(action_class, t: Tracker) -> tuple[list[dict], list[str]]:
    dispatcher = CollectingDispatcher()
    action = action_class(ledger=FakeLedger(), vault=ConversationVault(), today=lambda: TODAY)
    events = await action.run(dispatcher, t, DOMAIN)
    return events, [m.get("text") or "" for m in dispatcher.messages]


def slot_events(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    "action_class, text, intent, english",
    [
        (ActionGreet, "hi there", "greet", "Hello, I'm Huanxin"),
        (ActionThank, "thanks a lot", "thank", "You're welcome"),
        (ActionGoodbye, "bye for now", "goodbye", "Goodbye"),
        (ActionIAmABot, "are you a bot", "bot_challenge", "I'm a virtual assistant"),
    ],
)
async def test_small_talk_answers_in_the_language_of_the_first_message(action_class, text, intent, english):
    events, said = await run(action_class, tracker(text, intent))
    assert slot_events(events) == {"language": "en"}
    assert len(said) == 1 and said[0].startswith(english)


async def test_small_talk_in_chinese_answers_in_chinese():
    events, said = await run(ActionGreet, tracker("你好", "greet"))
    assert slot_events(events) == {"language": "zh"}
    assert said[0].startswith("您好")


async def test_an_ongoing_english_chat_is_not_switched_by_a_lone_chinese_word():
    events, said = await run(ActionThank, tracker("好", "thank", {"language": "en"}))
    assert slot_events(events) == {}
    assert said[0].startswith("You're welcome")


async def test_after_verification_the_reply_follows_the_message_too():
    events, said = await run(ActionGreet, tracker("hello there", "greet", {"language": "zh", "verified": True}))
    assert slot_events(events) == {"language": "en"}
    assert not said[0].startswith("您好")


async def test_a_chosen_language_stays_after_verification():
    slots = {"language": "zh", "verified": True, "language_chosen": True}
    events, said = await run(ActionGreet, tracker("hello there", "greet", slots))
    assert slot_events(events) == {}
    assert said[0].startswith("您好")


async def test_an_account_action_replies_in_the_language_of_the_message():
    events, said = await run(ActionHandleOutOfScope, tracker("what is the weather like", "out_of_scope"))
    assert slot_events(events).get("language") == "en"
    assert said and all(not any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in said)


async def test_an_understood_message_resets_the_misunderstanding_count():
    events, _ = await run(ActionGreet, tracker("你好", "greet", {"language": "zh", "fallback_count": 1.0}))
    assert slot_events(events) == {"fallback_count": 0.0}


async def test_a_second_misunderstood_message_counts_up_and_offers_a_person():
    events, said = await run(
        ActionClarify, tracker("asdfgh qwerty", "nlu_fallback", {"language": "en", "fallback_count": 1.0})
    )
    assert slot_events(events)["fallback_count"] == 2.0
    assert events[-1] == {"event": "slot", "timestamp": None, "name": "awaiting", "value": "human_offer_fallback"}


async def test_the_verification_form_validator_applies_the_language_of_the_answer():
    t = tracker(
        "hello my phone is 13800000001",
        "inform",
        {"requested_slot": "identity_phone"},
        events=[{"event": "slot", "name": "identity_phone", "value": "hello my phone is 13800000001"}],
    )
    t.slots["identity_phone"] = "hello my phone is 13800000001"
    t.active_loop = {"name": "verification_form"}
    validator = ValidateVerificationForm(ledger=FakeLedger(), vault=ConversationVault(), today=lambda: TODAY)
    events = await validator.run(CollectingDispatcher(), t, DOMAIN)
    assert slot_events(events)["language"] == "en"


async def test_goodbye_tells_the_gateway_the_conversation_ended_and_other_small_talk_does_not():
    """The custom {"conversation_end": true} rides on the goodbye itself (one bot event, its
    text kept), so the gateway asks a web borrower for a rating (docs/insights.md, CSAT)."""
    for action_class, text, intent, ends in (
        (ActionGoodbye, "bye for now", "goodbye", True),
        (ActionThank, "thanks a lot", "thank", False),
    ):
        dispatcher = CollectingDispatcher()
        action = action_class(ledger=FakeLedger(), vault=ConversationVault(), today=lambda: TODAY)
        await action.run(dispatcher, tracker(text, intent), DOMAIN)
        assert len(dispatcher.messages) == 1
        assert dispatcher.messages[0]["text"]
        assert (dispatcher.messages[0].get("custom") == {"conversation_end": True}) is ends
