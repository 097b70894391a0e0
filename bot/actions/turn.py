"""One action run (Turn): the slots as this action changes them, replies in the conversation's
language, the verification gate, and what the run may reach (ledger, vault, clock, outbox and the
dispatch of who answers which intent).

An account action (status, plans, promises...) never talks about a loan before the speaker
is verified: ``Turn.require_auth`` either returns the borrower's credentials or stores the
question as ``pending_intent``, explains why, and starts the verification form. Once the form
succeeds, ``action_submit_verification`` runs the stored question's handler (looked up in
``turn.dispatch``) in the same turn.

A speaker who is not the borrower (``Turn.hold_third_party``, applied to every user message by
the action bases) is refused for the rest of the conversation: ``require_auth`` never starts a
verification again and a verification done is undone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.dispatch import Dispatch, installed
from actions.domain_responses import domain_response
from actions.ledger_client import BorrowerAuth, LedgerApi, LedgerError
from actions.outbox import EscalationOutbox, default_outbox
from actions.parsing import detect_language
from actions.slots import IDENTITY_SLOTS, VERIFICATION_FORM
from actions.third_party import says_third_party
from actions.vault import ConversationVault

TZ = ZoneInfo("Asia/Shanghai")
# Texts that ask an identity question again: they carry the marker the gateway reads (shared
# protocol 4) so that it stores the borrower's next message as "[identity answer]". The form's
# own questions (utter_ask_identity_*) carry it in the domain (domain/forms.yml).
IDENTITY_QUESTION_MARKER = {"expects_identity_answer": True}
IDENTITY_REASKS = {"invalid_identity_phone", "invalid_identity_dob", "invalid_identity_id_last4"}
# The custom payload that tells the gateway the bot ended the conversation (a web borrower is
# then asked for a rating, docs/insights.md); other channels ignore it.
CONVERSATION_END_MARKER = {"conversation_end": True}
# Texts that say the assistant did not understand a message: after one of them, the next
# misunderstanding also offers a person (Turn.missed).
MISS_KEYS = (
    "clarify",
    "clarify_offer_human",
    "plan_unknown_choice",
    "invalid_identity_phone",
    "invalid_identity_dob",
    "invalid_identity_id_last4",
    "invalid_hardship_reason",
    "invalid_hardship_duration",
    "invalid_amount",
)
# What a third party makes the conversation forget: the verification under way or done, the
# question kept for after it, and anything about the borrower or their loan.
FORGOTTEN_FOR_THIRD_PARTY = (
    *IDENTITY_SLOTS,
    "pending_intent",
    "awaiting",
    "borrower_id",
    "borrower_name",
    "loan_number",
    "offered_plans",
    "chosen_offer_id",
    "evaluation_id",
    "requested_plan",
    "promise_amount",
    "promise_date",
    "borrower_loans",
    "last_record",
    "payment_claim",
    "pending_act",
)


def today_in_shanghai() -> date:
    return datetime.now(TZ).date()


class Handler(Protocol):
    """An action as the dispatch hands it a turn."""

    async def handle(self, turn: Turn) -> None: ...

    async def handle_safely(self, turn: Turn) -> None: ...


class HandlerClass(Protocol):
    """An action class as the dispatch holds it (actions.base.LedgerAction's constructor, and
    whether it claims a message as the answer to the question it waits on)."""

    def __call__(
        self,
        ledger: LedgerApi | None = None,
        vault: ConversationVault | None = None,
        today: Callable[[], date] | None = None,
    ) -> Handler: ...

    def claims_reply(self, turn: Turn) -> bool: ...


def latest_message_with_intent(events: list[dict[str, Any]] | None, intent: str) -> dict[str, Any] | None:
    """The latest user event whose intent is `intent`, if any (addons/action_events.py sends the
    latest of each intent of the earlier turns)."""
    for event in reversed(events or []):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") == intent:
            return event
    return None


class Turn:
    """One action run: slots read through local changes, replies in the conversation's language."""

    def __init__(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict,
        ledger: LedgerApi,
        vault: ConversationVault,
        today: date,
        dispatch: Dispatch[HandlerClass] | None = None,
    ):
        self.dispatcher = dispatcher
        self.tracker = tracker
        self.domain = domain
        self.ledger = ledger
        self.vault = vault
        self.today = today
        self.dispatch: Dispatch[HandlerClass] = dispatch or installed()
        self.outbox: EscalationOutbox = default_outbox()
        self.events: list[dict[str, Any]] = []
        self._changed: dict[str, Any] = {}
        self.resumed_intent: str | None = None  # set when answering a question asked before verification
        self.chosen_loan: str | None = None  # set when the borrower just answered "which loan?" (loans.py)
        self.read_as: str | None = None  # the intent the NLU read in a message another intent's action answers

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
        verification), or the latest message. In a message answered as another intent than the
        one read in it (answer_as), the message read as that intent."""
        if self.read_as is not None and intent != self.read_as:
            return self.message_for(self.read_as)
        message = latest_message_with_intent(self.tracker.events, intent)
        return (message.get("text") or "") if message is not None else self.latest_text

    async def answer_as(self, intent: str, read_as: str) -> None:
        """The message the NLU read as `read_as` means `intent` (its words say so, actions/readings.py):
        `intent`'s action answers it."""
        self.read_as = read_as
        await self.dispatch.handler(intent)(self.ledger, self.vault, lambda: self.today).handle_safely(self)

    def say(self, key: str, buttons: list[dict] | None = None, **figures: Any) -> None:
        marker = IDENTITY_QUESTION_MARKER if key in IDENTITY_REASKS else None
        # text_key reaches Rasa's BotUttered metadata (not the channel): the analytics read what
        # was said (a plan accepted, a promise recorded) from it, not from the wording.
        self.dispatcher.utter_message(
            text=texts.text(key, self.lang, **figures), buttons=buttons or [], json_message=marker, text_key=key
        )

    def say_response(self, name: str, json_message: dict | None = None) -> None:
        """A domain response (utter_*) in the variation for the slots as this action leaves
        them (Rasa would choose the variation from the slots before this action's changes)."""
        variation = domain_response(self.domain, name, self.slot)
        if variation is None:
            self.dispatcher.utter_message(response=name, json_message=json_message)
        else:
            self.dispatcher.utter_message(
                text=variation.get("text"), buttons=variation.get("buttons") or [], json_message=json_message
            )

    def say_goodbye(self) -> None:
        """Goodbye, and the conversation's end for the gateway (it asks a web borrower for a rating)."""
        self.say_response("utter_goodbye", json_message=CONVERSATION_END_MARKER)

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

    # ---- misunderstandings
    def missed_last_turn(self) -> bool:
        """True when the assistant's answer to the previous message said it did not understand it."""
        misses = {texts.text(key, lang) for key in MISS_KEYS for lang in texts.LANGUAGES}
        users = 0
        for event in reversed(self.tracker.events or []):
            if event.get("event") == "user":
                users += 1
                if users == 2:
                    return False
            elif event.get("event") == "bot" and users == 1 and (event.get("text") or "") in misses:
                return True
        return False

    def missed(self, key: str, in_form: bool = False) -> None:
        """Says `key` (the message was not understood); the second misunderstanding in a row also
        offers a person. Inside a form only the person is offered: a "no" would stop the form."""
        self.say(key)
        if not self.missed_last_turn():
            return
        if in_form:
            self.say("form_offer_human", buttons=[texts.button("human", "/request_human", self.lang)])
            self.set("awaiting", "human_offer_fallback")
        else:
            self.offer_human(awaiting="human_offer_fallback")

    # ---- verification
    def auth(self) -> BorrowerAuth | None:
        if not self.slot("verified"):
            return None
        token = self.vault.token(self.conversation_id)
        return BorrowerAuth(token, self.conversation_id) if token else None

    def require_auth(self, intent: str) -> BorrowerAuth | None:
        """The borrower's credentials, or None after starting verification (or refusing a
        third party)."""
        if self.slot("third_party"):
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
        for slot in IDENTITY_SLOTS:
            self.set(slot, None)
        self.vault.clear_identity(self.conversation_id)
        self.followup(VERIFICATION_FORM)

    def refuse_third_party(self) -> None:
        """The speaker is not the borrower: nothing about any loan, for the rest of the
        conversation. A verification under way is abandoned (its answers dropped from the
        vault), a verification done is undone (the token dropped), whatever was pending is
        forgotten, and they are told kindly how the borrower can reach the lender."""
        self.vault.clear_identity(self.conversation_id)
        self.vault.drop_token(self.conversation_id)
        self.set("third_party", True)
        for slot in FORGOTTEN_FOR_THIRD_PARTY:
            if self.slot(slot) is not None:
                self.set(slot, None)
        if self.slot("verified"):
            self.set("verified", False)
        # a borrower refused by mistake is not stuck: a person can check who they are
        self.say("third_party", buttons=[texts.button("human", "/request_human", self.lang)])

    def says_not_borrower(self) -> bool:
        """The latest message says (or shows) that the speaker is not the borrower."""
        return says_third_party(self.latest_text)

    def refused_this_message(self) -> bool:
        """An action already refused the speaker as a third party after the latest user
        message (the form validator before the form's submit action)."""
        for event in reversed(self.tracker.events or []):
            if event.get("event") == "user":
                return False
            if event.get("event") == "slot" and event.get("name") == "third_party" and event.get("value"):
                return True
        return False

    def hold_third_party(self) -> bool:
        """Applied to every user message by the first action that answers it (LedgerAction.run,
        TurnFormValidation.run): True when the message is answered with the third-party
        refusal (said once per message) and nothing else may answer it."""
        if not self.says_not_borrower():
            return False
        if not self.refused_this_message():
            self.refuse_third_party()
        return True

    def loan_number(self) -> str | None:
        return self.slot("loan_number")

    def current_loan(self) -> str:
        """The loan this conversation is about, for a ledger call; a verified borrower with no
        loan on record gets the ledger's own not_found answer (a person is offered)."""
        loan_number = self.loan_number()
        if not loan_number:
            raise LedgerError(404, "not_found", "no loan in this conversation")
        return loan_number
