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

from actions import readings, texts
from actions.dispatch import Dispatch
from actions.group_chat import is_group_chat
from actions.ledger_client import LedgerApi, LedgerError, LedgerUnavailable, default_client
from actions.message_slots import apply_message_slots, message_slot_updates
from actions.parsing import asks_for_person, parse_language, parse_plan_reference
from actions.turn import HandlerClass, Turn, today_in_shanghai
from actions.vault import ConversationVault, default_vault
from actions.withdrawal_words import LAST_RECORD, says_withdraw

logger = logging.getLogger(__name__)

# Intents that would stop a form when the answer cannot be read as the value asked for.
ESCAPE_INTENTS = {"request_human", "goodbye", "stop_contact", "complain", "dispute_debt", "deny"}
# Of those, the ones whose own action runs when they stop a form.
HANDLED_AFTER_ESCAPE = {"request_human", "complain", "stop_contact", "dispute_debt"}
ESCAPE_CONFIDENCE = 0.6
# The intent whose question is answered after a verification that expired in an action the
# dispatch maps no intent to (the submit actions).
DEFAULT_RESUMED_INTENT = "ask_overdue_status"
# Whose action takes back the dispute or complaint this conversation filed, when the borrower
# says so ("撤回", "I filed that by mistake") whatever intent the words were read as.
WITHDRAWAL_INTENT = "deny"
# Intents a short answer to a pending question is often misread as ("不对，改到后天" as a dispute,
# "上周三" as a promise): with such an intent, the question's own action may claim the message.
# A question of its own (fees, status, a person...) is always answered as asked.
ANSWER_LIKE_INTENTS = frozenset(
    {"inform", "affirm", "deny", "dispute_debt", "complain", "out_of_scope", "nlu_fallback", "goodbye", "thank",
     "already_paid", "promise_to_pay"}
)  # fmt: skip
# What the assistant waits for while offered plans are on screen (actions/offers.py, plans.py),
# and the intent whose action reads a plan named or numbered then (as the reply it is).
PLAN_CONFIRMATION = "plan_confirmation"
PLANS_ON_SCREEN = ("plan_choice", PLAN_CONFIRMATION)
PLAN_CHOICE_INTENT = "inform"


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


def names_an_offered_plan(turn: Turn) -> bool:
    """Offers are on screen and the message names or numbers a plan ("the 2nd one", "按季度那个",
    "the rate cut one, the third"); a plan turned down ("不要延期") is no choice, nor a message
    that asks for a person about a plan ("找人工帮我看看第二个": a person is what was asked)."""
    if turn.slot("awaiting") not in PLANS_ON_SCREEN or not turn.slot("offered_plans"):
        return False
    if turn.latest_intent == "request_human" and asks_for_person(turn.latest_text):
        return False
    ref = parse_plan_reference(turn.latest_text)
    return ref is not None and not ref.is_empty()


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


def ask_plan_confirmation_again(turn: Turn) -> None:
    """After a question answered in passing, the plan chosen is still waiting for its yes."""
    yes_no = [texts.button("yes", "/affirm", turn.lang), texts.button("no", "/deny", turn.lang)]
    turn.say("plan_confirm_again", buttons=yes_no)


class LedgerAction(TurnMaker, Action, ABC):
    """Base of the actions that may call the ledger: builds the Turn, maps failures to
    polite messages (never a crash, never silence)."""

    # True for actions that answer a new question: whatever the bot was waiting for (a promise
    # date, a channel...) is dropped, so a later "inform" is not read as that answer.
    resets_awaiting: ClassVar[bool] = False
    # True for the questions answered in passing (status, fees, consequences, how to pay): a plan
    # chosen and waiting for its yes stays chosen, and the yes/no is asked again after the answer.
    side_question: ClassVar[bool] = False
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
            if await self._answered_as_plan_choice(turn):
                return turn.events
            answering = self._answering(turn)
            keeps_plan = answering is None and self.side_question and turn.slot("awaiting") == PLAN_CONFIRMATION
            if answering is None and self.resets_awaiting and not keeps_plan:
                if turn.slot("awaiting") not in (None, "plan_choice"):
                    turn.set("awaiting", None)
            if answering is None:
                await self.handle_safely(turn)
            else:
                await answering(self._ledger, self._vault, self._today).handle_safely(turn)
            if keeps_plan and turn.slot("awaiting") == PLAN_CONFIRMATION:
                ask_plan_confirmation_again(turn)
            return turn.events
        except Exception as exc:  # noqa: BLE001 - the one place that turns a crash into an answer
            log_crash(f"action {self.name()}", exc)
            dispatcher.messages.clear()
            turn = self._start(dispatcher, tracker, domain)
            turn.offer_human("something_went_wrong")
            return turn.events

    @classmethod
    def claims_reply(cls, turn: Turn) -> bool:
        """Whether the message plainly answers the question this action asked and waits on
        (slot `awaiting`, REPLY_HANDLERS), whatever intent it was read as: "不对，改到后天" read
        as a dispute is still the correction of the promise just made. Context over intent."""
        return False

    def _answering(self, turn: Turn) -> HandlerClass | None:
        """Another action that answers this message instead of this one: the one that takes back
        the record this conversation filed, when the borrower says so; else the one whose pending
        question the message plainly answers. None: this action answers."""
        withdrawing = turn.dispatch.handler_for(WITHDRAWAL_INTENT)
        if withdrawing is not None and turn.slot(LAST_RECORD) and says_withdraw(turn.latest_text):
            return None if isinstance(self, withdrawing) else withdrawing  # type: ignore[arg-type]
        waiting = turn.dispatch.reply_handler_for(turn.slot("awaiting"))
        if (
            waiting is not None
            and not isinstance(self, waiting)  # type: ignore[arg-type]
            and turn.latest_intent in ANSWER_LIKE_INTENTS
            and waiting.claims_reply(turn)
        ):
            return waiting
        return None

    async def _answered_as_plan_choice(self, turn: Turn) -> bool:
        """With offers on screen, a message that names or numbers a plan chooses it, whatever
        intent the NLU read in it ("第二个" read as complain files no complaint): the action that
        answers it is the one that reads plan choices (PLAN_CHOICE_INTENT's), not this one."""
        chooser = turn.dispatch.handler_for(PLAN_CHOICE_INTENT)
        answers_this_message = turn.dispatch.handler_for(turn.latest_intent) is type(self)
        if chooser is None or chooser is type(self) or not answers_this_message or not names_an_offered_plan(turn):
            return False
        await chooser(self._ledger, self._vault, self._today).handle_safely(turn)
        return True

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


def escapes_form(turn: Turn) -> bool:
    """The message stops a form: a way out (a person, goodbye, a stop, a complaint, a dispute, a
    no) said with confidence, or a yes to the person offered in the form."""
    if accepts_offered_person(turn):
        return True
    return turn.latest_intent in ESCAPE_INTENTS and turn.latest_confidence >= ESCAPE_CONFIDENCE


def refuses_person(turn: Turn) -> bool:
    """ "不要转人工" / "I don't need a person": not a way out of a form (the question is asked again)."""
    return turn.latest_intent in ("request_human", "deny") and readings.negates_act("handoff", turn.latest_text)


def accepts_offered_person(turn: Turn) -> bool:
    """A yes to the person offered in the form (after two misunderstandings or a question with no
    answer): the form stops and the conversation goes to a person."""
    return turn.latest_intent == "affirm" and (turn.slot("awaiting") or "").startswith("human_offer")


def has_no_answer(turn: Turn) -> bool:
    """A question the assistant cannot answer (out of scope, an address, a certificate...)."""
    text = turn.latest_text
    confident = turn.latest_confidence >= ESCAPE_CONFIDENCE
    asked = readings.asks_what_has_no_answer(text) and readings.is_question(text)
    return (turn.latest_intent == "out_of_scope" and confident) or asked


def say_no_answer_in_form(turn: Turn) -> dict[str, Any]:
    """Says that there is no answer here, where it can be had, and offers a person (only: a "no"
    would stop the form); the form then asks its question again. Returns the slots it set."""
    turn.say("no_answer_in_form", buttons=[texts.button("human", "/request_human", turn.lang)])
    turn.set("awaiting", "human_offer")
    return slot_changes(turn)


def slot_changes(turn: Turn) -> dict[str, Any]:
    """The slots this turn set, for a validator's answer."""
    return {e["name"]: e["value"] for e in turn.events if e.get("event") == "slot"}
