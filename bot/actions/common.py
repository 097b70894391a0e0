"""What every action shares: the turn context, the verification gate, error handling.

An account action (status, plans, promises...) never talks about a loan before the speaker
is verified: ``Turn.require_auth`` either returns the borrower's credentials or stores the
question as ``pending_intent``, explains why, and starts the verification form. Once the form
succeeds, ``action_submit_verification`` runs the stored question's handler in the same turn.
"""

from __future__ import annotations

import logging
import traceback
from abc import ABC, abstractmethod
from datetime import date, datetime
from typing import Any, Callable, ClassVar
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction

from actions import texts
from actions.ledger_client import BorrowerAuth, LedgerApi, LedgerError, LedgerUnavailable, default_client
from actions.outbox import EscalationOutbox, default_outbox
from actions.parsing import detect_language, language_units, normalize, parse_language
from actions.vault import ConversationVault, default_vault

logger = logging.getLogger(__name__)

TZ = ZoneInfo("Asia/Shanghai")
VERIFICATION_FORM = "verification_form"
HARDSHIP_FORM = "hardship_form"

# Intents that would stop a form when the answer cannot be read as the value asked for.
ESCAPE_INTENTS = {"request_human", "goodbye", "stop_contact", "complain", "dispute_debt", "deny"}
# Of those, the ones whose own action runs when they stop a form.
HANDLED_AFTER_ESCAPE = {"request_human", "complain", "stop_contact", "dispute_debt"}
ESCAPE_CONFIDENCE = 0.6
# Texts that ask an identity question again: they carry the marker the gateway reads (shared
# protocol 4) so that it stores the borrower's next message as "[identity answer]". The form's
# own questions (utter_ask_identity_*) carry it in the domain (domain/forms.yml).
IDENTITY_QUESTION_MARKER = {"expects_identity_answer": True}
IDENTITY_REASKS = {"invalid_identity_phone", "invalid_identity_dob", "invalid_identity_id_last4"}
GROUP_CHAT_TYPES = {"group", "supergroup", "channel"}


def today_in_shanghai() -> date:
    return datetime.now(TZ).date()


_THIRD_PARTY_PATTERNS = (
    r"我是(?:他|她|它|借款人)的?(?:妈妈|母亲|妈|爸爸|父亲|爸|老婆|妻子|老公|丈夫|儿子|女儿|哥哥|姐姐|弟弟|妹妹|朋友|同事|家人|亲戚|爷爷|奶奶|外婆|外公|领导|室友)",
    r"我是.{0,6}的(?:妈妈|母亲|爸爸|父亲|老婆|妻子|老公|丈夫|儿子|女儿|哥哥|姐姐|弟弟|妹妹|朋友|同事|家属|亲戚)",
    r"(?:替|帮)(?:我|他|她)?(?:儿子|女儿|老公|老婆|丈夫|妻子|妈妈|爸爸|朋友|家人|哥哥|姐姐|弟弟|妹妹)(?:问|查|还)",
    r"(?:不是我本人|我不是(?:借款人|本人|他|她))",
    r"\bi'?m (?:his|her|their|the borrower'?s) (?:mother|mom|mum|father|dad|wife|husband|son|daughter|brother|sister|friend|partner|colleague|boss|relative|cousin)",
    r"\bi am (?:his|her|their|the borrower'?s) (?:mother|mom|mum|father|dad|wife|husband|son|daughter|brother|sister|friend|partner|colleague|boss|relative|cousin)",
    r"\bon behalf of (?:my|his|her)\b",
    r"\b(?:asking|calling|writing) (?:for|about) my (?:son|daughter|husband|wife|mother|father|mom|dad|brother|sister|friend)\b",
    r"\bmy (?:son|daughter|husband|wife|mother|father|mom|dad|brother|sister|friend)'?s (?:loan|debt|account)\b",
    r"\bi'?m not the (?:borrower|account holder)\b",
)


def says_third_party(text: str | None) -> bool:
    """True when the speaker says they are someone other than the borrower."""
    import re

    if not text:
        return False
    low = normalize(text).lower()
    return any(re.search(p, low) for p in _THIRD_PARTY_PATTERNS)


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


def domain_response(domain: dict, name: str, slot: Callable[[str], Any]) -> dict | None:
    """The variation of the domain response `name` that Rasa would choose for these slots: a
    variation whose slot conditions all hold, else one without conditions."""
    variations = ((domain or {}).get("responses") or {}).get(name) or []
    plain = None
    for variation in variations:
        conditions = variation.get("condition") or []
        if not conditions:
            plain = plain or variation
        elif all(c.get("type") == "slot" and slot(c.get("name")) == c.get("value") for c in conditions):
            return variation
    return plain


def is_group_chat(tracker: Tracker) -> bool:
    """True in a Telegram group, supergroup or channel, where the debt is never discussed.

    Rasa 3.6's Telegram connector uses the chat id as the sender id and passes no metadata:
    Telegram gives private chats the (positive) user id and groups, supergroups and channels
    negative ids. A chat type in the metadata (``telegram_chat_type``) is used when present."""
    if tracker.get_latest_input_channel() != "telegram":
        return False
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    chat_type = metadata.get("telegram_chat_type") if isinstance(metadata, dict) else None
    if isinstance(chat_type, str) and chat_type:
        return chat_type != "private"
    return str(tracker.sender_id).startswith("-")


def log_crash(where: str, exc: BaseException) -> None:
    """Logs an unexpected exception by type and stack only: its message may quote what the
    borrower typed (an identity answer), so it is never logged."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed with %s (message withheld)\n%s", where, type(exc).__name__, stack)


class SessionExpired(Exception):
    """The ledger answered verification_required: the token expired or was never valid."""


class Turn:
    """One action run: slots read through local changes, replies in the conversation's language."""

    def __init__(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict,
                 ledger: LedgerApi, vault: ConversationVault, today: date):
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.domain = domain
        self.ledger = ledger
        self.vault = vault
        self.today = today
        self.outbox: EscalationOutbox = default_outbox()
        self.events: list[dict[str, Any]] = []
        self._changed: dict[str, Any] = {}
        self.resumed_intent: str | None = None  # set when answering a question asked before verification

    # ---- slots and messages
    def slot(self, name: str) -> Any:
        if name in self._changed:
            return self._changed[name]
        return self.tracker.get_slot(name)

    def set(self, name: str, value: Any) -> None:
        self._changed[name] = value
        self.events.append(SlotSet(name, value))

    def followup(self, action_name: str) -> None:
        self.events.append(FollowupAction(action_name))

    @property
    def conversation_id(self) -> str:
        return self.tracker.sender_id

    @property
    def lang(self) -> str:
        lang = self.slot("language")
        if lang in texts.LANGUAGES:
            return lang
        return detect_language(self.latest_text) or "zh"

    @property
    def latest_text(self) -> str:
        return (self.tracker.latest_message or {}).get("text") or ""

    @property
    def latest_intent(self) -> str | None:
        return ((self.tracker.latest_message or {}).get("intent") or {}).get("name")

    @property
    def latest_confidence(self) -> float:
        return float(((self.tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)

    def entity(self, name: str) -> str | None:
        for entity in (self.tracker.latest_message or {}).get("entities") or []:
            if entity.get("entity") == name and entity.get("value") is not None:
                return str(entity["value"])
        return None

    def intent_among(self, allowed: tuple[str, ...]) -> str:
        """The intent being handled: the resumed one, the latest one, or the first allowed."""
        for candidate in (self.resumed_intent, self.latest_intent):
            if candidate in allowed:
                return candidate
        return allowed[0]

    def message_for(self, intent: str) -> str:
        """The text of the latest user message with `intent` (the question asked before a
        verification), or the latest message."""
        for event in reversed(self.tracker.events or []):
            if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent:
                return event.get("text") or ""
        return self.latest_text

    def say(self, key: str, buttons: list[dict] | None = None, **figures: Any) -> None:
        marker = IDENTITY_QUESTION_MARKER if key in IDENTITY_REASKS else None
        self.dispatcher.utter_message(text=texts.text(key, self.lang, **figures), buttons=buttons or [],
                                      json_message=marker)

    def say_response(self, name: str) -> None:
        """A domain response (utter_*) in the variation for the slots as this action leaves
        them (Rasa would choose the variation from the slots before this action's changes)."""
        variation = domain_response(self.domain, name, self.slot)
        if variation is None:
            self.dispatcher.utter_message(response=name)
        else:
            self.dispatcher.utter_message(text=variation.get("text"), buttons=variation.get("buttons") or [])

    def say_raw(self, message: str, buttons: list[dict] | None = None) -> None:
        self.dispatcher.utter_message(text=message, buttons=buttons or [])

    def money(self, value: Any) -> str:
        return texts.fmt_money(value, self.lang)

    def date(self, value: Any) -> str:
        return texts.fmt_date(value, self.lang)

    def human_buttons(self) -> list[dict]:
        return [texts.button("human", "/request_human", self.lang), texts.button("no", "/deny", self.lang)]

    def offer_human(self, key: str = "human_offer", awaiting: str = "human_offer", **figures: Any) -> None:
        self.say(key, buttons=self.human_buttons(), **figures)
        self.set("awaiting", awaiting)

    # ---- verification
    def auth(self) -> BorrowerAuth | None:
        if not self.slot("verified"):
            return None
        token = self.vault.token(self.conversation_id)
        return BorrowerAuth(token, self.conversation_id) if token else None

    def require_auth(self, intent: str) -> BorrowerAuth | None:
        """The borrower's credentials, or None after starting verification (or refusing a
        third party)."""
        if self.slot("third_party") or says_third_party(self.message_for(intent)):
            self.refuse_third_party()
            return None
        auth = self.auth()
        if auth is not None:
            return auth
        if self.slot("verified"):
            self.say("session_expired")
            self.set("verified", False)
        else:
            self.say("verify_intro")
        self.start_verification(intent)
        return None

    def start_verification(self, intent: str) -> None:
        self.set("pending_intent", intent)
        for slot in ("identity_phone", "identity_dob", "identity_id_last4"):
            self.set(slot, None)
        self.vault.clear_identity(self.conversation_id)
        self.followup(VERIFICATION_FORM)

    def refuse_third_party(self) -> None:
        self.set("third_party", True)
        self.set("pending_intent", None)
        self.say("third_party")

    def loan_number(self) -> str | None:
        return self.slot("loan_number")


class LedgerAction(Action, ABC):
    """Base of the actions that may call the ledger: builds the Turn, maps failures to
    polite messages (never a crash, never silence)."""

    intents: ClassVar[tuple[str, ...]] = ()
    # True for actions that answer a new question: whatever the bot was waiting for (a promise
    # date, a channel...) is dropped, so a later "inform" is not read as that answer.
    resets_awaiting: ClassVar[bool] = False
    # False for everything about the account: in a group chat the bot only says to write privately.
    allowed_in_groups: ClassVar[bool] = False

    def __init__(self, ledger: LedgerApi | None = None, vault: ConversationVault | None = None,
                 today: Callable[[], date] | None = None):
        self._ledger = ledger
        self._vault = vault
        self._today = today or today_in_shanghai

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def handle(self, turn: Turn) -> None: ...

    def make_turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Turn:
        return Turn(dispatcher, tracker, domain, self._ledger or default_client(),
                    self._vault or default_vault(), self._today())

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
            turn.start_verification(self.intents[0] if self.intents else "ask_overdue_status")
        except LedgerError as exc:
            logger.warning("ledger error in %s: %s", self.name(), exc)
            turn.offer_human("backend_error")


def refuse_group_chat(turn: Turn) -> None:
    """In a group chat: nothing about the account, no verification; write privately instead."""
    turn.vault.clear_identity(turn.conversation_id)
    turn.say("group_chat_private")


class ActionRespond(LedgerAction):
    """Small talk answered with a fixed domain response (greet, thank, goodbye, bot_challenge),
    as a custom action so that the message's language is applied first."""

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


class ActionThank(ActionRespond):
    response = "utter_thank"

    def name(self) -> str:
        return "action_thank"


class ActionIAmABot(ActionRespond):
    response = "utter_iamabot"

    def name(self) -> str:
        return "action_iamabot"


class TurnFormValidation(FormValidationAction, ABC):
    """Base of the form validators: the ledger, vault and clock are injectable like LedgerAction's,
    and the message's language and fallback count are applied first."""

    def __init__(self, ledger: LedgerApi | None = None, vault: ConversationVault | None = None,
                 today: Callable[[], date] | None = None):
        self._ledger = ledger
        self._vault = vault
        self._today = today or today_in_shanghai

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        # the form loop runs this first after a user message: the message's language and
        # fallback count are applied here (see message_slot_updates)
        try:
            if is_group_chat(tracker):
                turn = self._turn(dispatcher, tracker, domain)
                refuse_group_chat(turn)
                return [ActiveLoop(None), SlotSet("requested_slot", None)]
            events = apply_message_slots(tracker)
            return events + await super().run(dispatcher, tracker, domain)
        except Exception as exc:  # noqa: BLE001 - a crash stops the form with an answer, never silence
            log_crash(f"validator {self.name()}", exc)
            dispatcher.messages.clear()
            turn = self._turn(dispatcher, tracker, domain)
            turn.offer_human("something_went_wrong")
            return [ActiveLoop(None), SlotSet("requested_slot", None), *turn.events]

    def _turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> Turn:
        return Turn(dispatcher, tracker, domain, self._ledger or default_client(), self._vault or default_vault(),
                    self._today())


def switch_language_in_form(slot: str, turn: Turn) -> dict[str, Any]:
    """change_language asked while a form waits for `slot`: confirmed in the new language, the
    language pinned, and the form's question asked again."""
    wanted = parse_language(turn.latest_text) or ("en" if turn.lang == "zh" else "zh")
    turn.dispatcher.utter_message(text=texts.text("language_switched", wanted))
    return {slot: None, "language": wanted, "language_chosen": True}


async def call(awaitable):
    """Await a ledger call, turning an expired verification into SessionExpired."""
    try:
        return await awaitable
    except LedgerError as exc:
        if exc.status == 401 and exc.code == "verification_required":
            raise SessionExpired() from exc
        raise
