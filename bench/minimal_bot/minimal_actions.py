"""The minimal bot's one custom action: reads a slot, answers, sets a slot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionBalance(Action):
    def name(self) -> str:
        return "action_balance"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[dict[str, Any]]:
        asked = (tracker.get_slot("balance_asked") or 0) + 1
        dispatcher.utter_message(text=f"欠款 1,234.56 元（第 {int(asked)} 次查询） / CNY 1,234.56 owed")
        return [SlotSet("balance_asked", asked)]
