"""Small talk answered with a fixed domain response (greet, thank, goodbye, bot_challenge), as
custom actions so that the message's language is applied first."""

from __future__ import annotations

from typing import ClassVar

from actions.base import LedgerAction
from actions.turn import Turn


class ActionRespond(LedgerAction):
    """Says the domain response `response` in the variation for the conversation's language."""

    response: ClassVar[str] = ""
    allowed_in_groups = True

    async def handle(self, turn: Turn) -> None:
        turn.say_response(self.response)


class ActionGreet(ActionRespond):
    response = "utter_greet"

    def name(self) -> str:
        return "action_greet"


class ActionGoodbye(ActionRespond):
    response = "utter_goodbye"

    def name(self) -> str:
        return "action_goodbye"

    async def handle(self, turn: Turn) -> None:
        turn.say_goodbye()


class ActionThank(ActionRespond):
    response = "utter_thank"

    def name(self) -> str:
        return "action_thank"


class ActionIAmABot(ActionRespond):
    response = "utter_iamabot"

    def name(self) -> str:
        return "action_iamabot"
