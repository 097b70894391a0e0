"""change_language: the language asked for, pinned. The rest of the language rule (replies follow the
language the borrower writes, before and after verification) is in message_slots.py."""

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
