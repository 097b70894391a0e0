"""The conversation's language: from the message before verification, from the borrower's
profile after it (set by action_submit_verification), and by change_language at any time."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction

from actions.common import LedgerAction, Turn
from actions.parsing import detect_language, language_units, parse_language


class ValidateSlotMappings(ValidationAction):
    """Runs after every user message (custom slot mappings): language and fallback_count."""

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict) -> list[str]:
        return ["language", "fallback_count"]

    async def extract_language(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict[str, Any]:
        if tracker.get_slot("language_chosen") or tracker.get_slot("verified"):
            return {}
        text = (tracker.latest_message or {}).get("text") or ""
        detected = detect_language(text)
        current = tracker.get_slot("language")
        if not detected or detected == current:
            return {}
        if current is None or language_units(text) >= 2:
            return {"language": detected}  # a lone "ok" or "好" does not switch an ongoing chat
        return {}

    async def extract_fallback_count(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: dict) -> dict[str, Any]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent != "nlu_fallback" and tracker.get_slot("fallback_count"):
            return {"fallback_count": 0.0}
        return {}


class ActionChangeLanguage(LedgerAction):
    intents = ("change_language",)

    def name(self) -> str:
        return "action_change_language"

    async def handle(self, turn: Turn) -> None:
        chosen = turn.entity("choice")
        wanted = chosen if chosen in ("zh", "en") else parse_language(turn.latest_text)
        if wanted is None:
            current = turn.slot("language") or "zh"
            wanted = "en" if current == "zh" else "zh"
        turn.set("language", wanted)
        turn.set("language_chosen", True)
        turn.say("language_switched")
