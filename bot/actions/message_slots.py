"""What the latest user message changes before anything answers it: its language and the count of
misunderstood messages in a row."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.parsing import detect_language, language_units


def message_slot_updates(tracker: Tracker) -> dict[str, Any]:
    """What the latest user message changes before anything answers it: the conversation's
    language (from the message until verification or an explicit choice; zh when CJK characters
    are at least as many as Latin words; a lone "ok" or "好" does not switch an ongoing chat)
    and the count of misunderstood messages in a row (reset by any understood message).

    Every custom action that can run first after a user message applies it (LedgerAction.run,
    the form validators, the small-talk responses), instead of a slot-validation round trip
    to the action server on every turn. Applying it twice for one message changes nothing."""
    updates: dict[str, Any] = {}
    latest = tracker.latest_message or {}
    if not (tracker.get_slot("language_chosen") or tracker.get_slot("verified")):
        text = latest.get("text") or ""
        detected = detect_language(text)
        current = tracker.get_slot("language")
        if detected and detected != current and (current is None or language_units(text) >= 2):
            updates["language"] = detected
    intent = (latest.get("intent") or {}).get("name")
    if intent != "nlu_fallback" and tracker.get_slot("fallback_count"):
        updates["fallback_count"] = 0.0
    return updates


def apply_message_slots(tracker: Tracker) -> list[dict[str, Any]]:
    """Applies message_slot_updates to the tracker the action sees; the SlotSet events to return."""
    updates = message_slot_updates(tracker)
    tracker.slots.update(updates)
    return [SlotSet(name, value) for name, value in updates.items()]
