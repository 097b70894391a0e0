"""A new session (after 30 idle minutes, domain session_config) starts with nothing proven.

Rasa does not carry the slots over (carry_over_slots_to_new_session: false), so `verified` is
false again; this action also makes the action server forget the conversation's verification
token and any identity answers in the vault, so that the next person on a shared device
cannot act as the borrower who left.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import LedgerAction
from actions.turn import Turn
from actions.vault import default_vault

SESSION_START_METADATA_SLOT = "session_started_metadata"


class ActionSessionStart(LedgerAction):
    allowed_in_groups = True

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        vault = self._vault or default_vault()
        vault.drop_token(tracker.sender_id)
        vault.clear_identity(tracker.sender_id)
        events: list[dict[str, Any]] = [SessionStarted()]
        metadata = tracker.get_slot(SESSION_START_METADATA_SLOT)
        if metadata:  # as Rasa's own action_session_start does
            events.append(SlotSet(SESSION_START_METADATA_SLOT, metadata))
        events.append(ActionExecuted("action_listen"))
        return events

    async def handle(self, turn: Turn) -> None:  # run() does the work; nothing to say
        return None
