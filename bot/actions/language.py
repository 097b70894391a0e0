"""The conversation's language: from the message before verification (message_slots.message_slot_updates,
applied by the first custom action after each message), from the borrower's profile after it
(set by action_submit_verification), and by change_language at any time."""

from __future__ import annotations

from actions.base import LedgerAction
from actions.parsing import parse_language
from actions.turn import Turn


class ActionChangeLanguage(LedgerAction):
    allowed_in_groups = True

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
