"""What the latest user message changes before anything answers it: its language and the count of
misunderstood messages in a row.

The language rule, in one place: the reply follows the language the borrower writes, before and
after verification (zh when CJK characters are at least as many as Latin words; a message of one
word, "ok" or "好", does not switch an ongoing chat); an explicit request ("说中文", "English
please", the change_language intent, or the web widget's language toggle, which the gateway
passes as ``language_choice`` in the message's metadata) wins and is pinned (`language_chosen`), so later
messages in the other language do not switch back; the borrower's profile language is used only
when nothing they wrote said a language (language_after_verification)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.parsing import asks_for_language, detect_language, language_units

LANGUAGES = ("zh", "en")


def language_updates(text: str, current: str | None, chosen: bool, toggled: str | None = None) -> dict[str, Any]:
    """The language slots a message changes (the rule above); ``toggled``: the language the
    borrower chose with the widget's toggle before sending it, if any (it wins over the text)."""
    asked = toggled if toggled in LANGUAGES else asks_for_language(text)
    if asked is not None:
        updates: dict[str, Any] = {} if asked == current else {"language": asked}
        if not chosen:
            updates["language_chosen"] = True
        return updates
    if chosen:
        return {}
    detected = detect_language(text)
    if detected and detected != current and (current is None or language_units(text) >= 2):
        return {"language": detected}
    return {}


def language_after_verification(current: str | None, chosen: bool, profile: str | None) -> str | None:
    """The conversation's language once the borrower is verified: the one they have been writing
    (or chose) if any, else their profile's."""
    if chosen or current in LANGUAGES:
        return current
    return profile if profile in LANGUAGES else current


def message_slot_updates(tracker: Tracker) -> dict[str, Any]:
    """What the latest user message changes before anything answers it: the conversation's
    language (language_updates) and the count of misunderstood messages in a row (reset by any
    understood message).

    Every custom action that can run first after a user message applies it (LedgerAction.run,
    the form validators, the small-talk responses), instead of a slot-validation round trip
    to the action server on every turn. Applying it twice for one message changes nothing."""
    latest = tracker.latest_message or {}
    metadata = latest.get("metadata")
    toggled = metadata.get("language_choice") if isinstance(metadata, dict) else None
    updates = language_updates(
        latest.get("text") or "",
        tracker.get_slot("language"),
        bool(tracker.get_slot("language_chosen")),
        toggled if isinstance(toggled, str) else None,
    )
    intent = (latest.get("intent") or {}).get("name")
    if intent != "nlu_fallback" and tracker.get_slot("fallback_count"):
        updates["fallback_count"] = 0.0
    return updates


def apply_message_slots(tracker: Tracker) -> list[dict[str, Any]]:
    """Applies message_slot_updates to the tracker the action sees; the SlotSet events to return."""
    updates = message_slot_updates(tracker)
    tracker.slots.update(updates)
    return [SlotSet(name, value) for name, value in updates.items()]
