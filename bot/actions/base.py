"""The base classes of every custom action: LedgerAction (the actions that may call the ledger) and
TurnFormValidation (the form validators). Both build the Turn with injectable collaborators, apply
what the message changes first, refuse group chats, and turn failures into polite answers (never a
crash, never silence)."""

from __future__ import annotations

import logging
import traceback
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import texts
from actions.dispatch import Dispatch
from actions.group_chat import is_group_chat
from actions.ledger_client import LedgerApi, LedgerError, LedgerUnavailable, default_client
from actions.message_slots import apply_message_slots, message_slot_updates
from actions.parsing import parse_language
from actions.turn import HandlerClass, Turn, today_in_shanghai
from actions.vault import ConversationVault, default_vault

logger = logging.getLogger(__name__)

# Intents that would stop a form when the answer cannot be read as the value asked for.
ESCAPE_INTENTS = {"request_human", "goodbye", "stop_contact", "complain", "dispute_debt", "deny"}
# Of those, the ones whose own action runs when they stop a form.
HANDLED_AFTER_ESCAPE = {"request_human", "complain", "stop_contact", "dispute_debt"}
ESCAPE_CONFIDENCE = 0.6
# The intent whose question is answered after a verification that expired in an action the
# dispatch maps no intent to (the submit actions).
DEFAULT_RESUMED_INTENT = "ask_overdue_status"


def log_crash(where: str, exc: BaseException) -> None:
    """Logs an unexpected exception by type and stack only: its message may quote what the
    borrower typed (an identity answer), so it is never logged."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed with %s (message withheld)\n%s", where, type(exc).__name__, stack)


class SessionExpired(Exception):
    """The ledger answered verification_required: the token expired or was never valid."""


async def call(awaitable: Awaitable[Any]) -> Any:
    """Await a ledger call, turning an expired verification into SessionExpired."""
    try:
        return await awaitable
    except LedgerError as exc:
        if exc.status == 401 and exc.code == "verification_required":
            raise SessionExpired() from exc
        raise


def refuse_group_chat(turn: Turn) -> None:
    """In a group chat: nothing about the account, no verification; write privately instead."""
    turn.vault.clear_identity(turn.conversation_id)
    turn.say("group_chat_private")


class TurnMaker:
    """What actions and form validators share: the ledger, vault, clock and dispatch table are
    injectable (tests pass fakes), and each run gets a Turn over them."""

    def __init__(
        self,
        ledger: LedgerApi | None = None,
        vault: ConversationVault | None = None,
        today: Callable[[], date] | None = None,
        dispatch: Dispatch[HandlerClass] | None = None,
    ):
        self._ledger = ledger
        self._vault = vault
        self._today = today or today_in_shanghai
        self._dispatch = dispatch

    def make_turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Turn:
        return Turn(
            dispatcher,
            tracker,
            domain,
            self._ledger or default_client(),
            self._vault or default_vault(),
            self._today(),
            self._dispatch,
        )


class LedgerAction(TurnMaker, Action, ABC):
    """Base of the actions that may call the ledger: builds the Turn, maps failures to
    polite messages (never a crash, never silence)."""

    # True for actions that answer a new question: whatever the bot was waiting for (a promise
    # date, a channel...) is dropped, so a later "inform" is not read as that answer.
    resets_awaiting: ClassVar[bool] = False
    # False for everything about the account: in a group chat the bot only says to write privately.
    allowed_in_groups: ClassVar[bool] = False

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def handle(self, turn: Turn) -> None: ...

    def _start(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Turn:
        turn = self.make_turn(dispatcher, tracker, domain)
        for name, value in message_slot_updates(tracker).items():
            turn.set(name, value)
        return turn

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        """Never raises and never stays silent: an unexpected exception drops what the action
        had said and changed, and the borrower is told something went wrong and offered a person."""
        try:
            turn = self._start(dispatcher, tracker, domain)
            if not self.allowed_in_groups and is_group_chat(tracker):
                refuse_group_chat(turn)
                return turn.events
            if turn.hold_third_party():
                return turn.events
            if self.resets_awaiting and turn.slot("awaiting") not in (None, "plan_choice"):
                turn.set("awaiting", None)
            await self.handle_safely(turn)
            return turn.events
        except Exception as exc:  # noqa: BLE001 - the one place that turns a crash into an answer
            log_crash(f"action {self.name()}", exc)
            dispatcher.messages.clear()
            turn = self._start(dispatcher, tracker, domain)
            turn.offer_human("something_went_wrong")
            return turn.events

    async def handle_safely(self, turn: Turn) -> None:
        try:
            await self.handle(turn)
        except LedgerUnavailable as exc:
            logger.warning("ledger unavailable in %s: %s", self.name(), exc)
            turn.offer_human("backend_down", awaiting="human_offer_backend")
        except SessionExpired:
            turn.vault.drop_token(turn.conversation_id)
            turn.set("verified", False)
            turn.say("session_expired")
            answered = turn.dispatch.intents_of(type(self))
            turn.start_verification(answered[0] if answered else DEFAULT_RESUMED_INTENT)
        except LedgerError as exc:
            logger.warning("ledger error in %s: %s", self.name(), exc)
            turn.offer_human("backend_error")


class TurnFormValidation(TurnMaker, FormValidationAction, ABC):
    """Base of the form validators: the ledger, vault, clock and dispatch are injectable like
    LedgerAction's, and the message's language and fallback count are applied first."""

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        # the form loop runs this first after a user message: the message's language and
        # fallback count are applied here (see message_slot_updates)
        try:
            if is_group_chat(tracker):
                turn = self.make_turn(dispatcher, tracker, domain)
                refuse_group_chat(turn)
                return [ActiveLoop(None), SlotSet("requested_slot", None)]
            events = apply_message_slots(tracker)
            turn = self.make_turn(dispatcher, tracker, domain)
            if turn.slot("third_party") or turn.says_not_borrower():
                return events + stop_form_for_third_party(turn)
            return events + await super().run(dispatcher, tracker, domain)
        except Exception as exc:  # noqa: BLE001 - a crash stops the form with an answer, never silence
            log_crash(f"validator {self.name()}", exc)
            dispatcher.messages.clear()
            turn = self.make_turn(dispatcher, tracker, domain)
            turn.offer_human("something_went_wrong")
            return [ActiveLoop(None), SlotSet("requested_slot", None), *turn.events]


def stop_form_for_third_party(turn: Turn) -> list[dict[str, Any]]:
    """A form never continues once the speaker is known not to be the borrower: the answer
    just given is dropped (never kept in its slot), the form stops, and the refusal is said
    (once for this message)."""
    requested = turn.slot("requested_slot")
    if not turn.refused_this_message():
        turn.refuse_third_party()
    dropped = [SlotSet(requested, None)] if requested else []
    return [*turn.events, *dropped, ActiveLoop(None), SlotSet("requested_slot", None)]


def switch_language_in_form(slot: str, turn: Turn) -> dict[str, Any]:
    """change_language asked while a form waits for `slot`: confirmed in the new language, the
    language pinned, and the form's question asked again."""
    wanted = parse_language(turn.latest_text) or ("en" if turn.lang == "zh" else "zh")
    turn.dispatcher.utter_message(text=texts.text("language_switched", wanted))
    return {slot: None, "language": wanted, "language_chosen": True}
