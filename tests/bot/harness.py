"""Drives actions the way Rasa would within a conversation: an inline Tracker per turn, a
CollectingDispatcher, slots carried over from the SlotSet events the actions return."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import LedgerAction
from actions.hardship import ValidateHardshipForm
from actions.message_slots import message_slot_updates
from actions.vault import ConversationVault
from actions.verification import ValidateVerificationForm
from addons.action_events import trimmed
from fake_ledger import TODAY, FakeLedger


def _load_domain() -> dict:
    import yaml

    path = Path(__file__).resolve().parents[2] / "bot" / "domain" / "responses.yml"
    return {"responses": yaml.safe_load(path.read_text(encoding="utf-8"))["responses"]}


DOMAIN: dict = _load_domain()  # what Rasa sends the action server that the actions read: the responses


def _load_forms() -> dict:
    import yaml

    path = Path(__file__).resolve().parents[2] / "bot" / "domain" / "forms.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["forms"]


FORM_DOMAIN: dict = {**DOMAIN, "forms": _load_forms()}  # what a form validator's run() reads


def check_readers(sent: Tracker, whole: Tracker) -> None:
    """The readers of earlier user messages (which addons/action_events.py chooses by what they
    say, so the harness leaves out the ones not sent instead of tripwiring them) answer from the
    events sent what they answer from all the events: the latest message of every intent and the
    handoff summary."""
    from actions.handoff import conversation_summary
    from actions.turn import Turn, latest_message_with_intent

    users = [e for e in whole.events if e.get("event") == "user"]
    for intent in {((e.get("parse_data") or {}).get("intent") or {}).get("name") for e in users}:
        latest = latest_message_with_intent(whole.events, intent)
        assert latest_message_with_intent(sent.events, intent) is latest, intent
    vault = ConversationVault()
    summaries = [
        conversation_summary(Turn(CollectingDispatcher(), tracker, {}, None, vault, None)) for tracker in (sent, whole)
    ]
    assert summaries[0] == summaries[1], summaries


class Conversation:
    def __init__(self, sender: str = "conv-1", ledger: FakeLedger | None = None, slots: dict | None = None):
        self.sender = sender
        self.ledger = ledger or FakeLedger()
        self.vault = ConversationVault()
        self.slots: dict[str, Any] = {"verified": False, "third_party": False, "language_chosen": False}
        self.slots.update(slots or {})
        self.events: list[dict] = []
        self.latest: dict = {}
        self.followups: list[str] = []
        self.messages: list[dict] = []
        self.active_loop: str | None = None  # the form whose validator runs (Tracker.active_loop)

    # ---- building turns
    def user(
        self,
        text: str,
        intent: str,
        confidence: float = 0.95,
        entities: list | None = None,
        metadata: dict | None = None,
        input_channel: str = "rest",
    ) -> Conversation:
        if text.startswith("/") and "{" in text:
            payload = json.loads(text[text.index("{") :])
            entities = [{"entity": k, "value": v} for k, v in payload.items()]
        self.latest = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities or [],
            "metadata": metadata or {},
        }
        self.events.append(
            {
                "event": "user",
                "text": text,
                "parse_data": self.latest,
                "metadata": metadata or {},
                "input_channel": input_channel,
            }
        )
        self._extract_pending = True
        return self

    async def _extract(self) -> None:
        """What the first custom action after each user message applies (language, fallback count)."""
        if not getattr(self, "_extract_pending", False):
            return
        self._extract_pending = False
        result = message_slot_updates(self.tracker())
        self._apply([{"event": "slot", "name": k, "value": v} for k, v in result.items()])

    def tracker(self) -> Tracker:
        """The tracker as the action server receives it: the events Rasa's add-on sends
        (addons/action_events.py), the others there as tripwires that fail the test when an
        action reads them."""
        loop = {"name": self.active_loop} if self.active_loop else {}
        events = trimmed(self.events, tripwire=True)
        sent = Tracker(self.sender, dict(self.slots), self.latest, events, False, None, loop, "action_listen")
        whole = Tracker(self.sender, dict(self.slots), self.latest, list(self.events), False, None, loop, "")
        check_readers(sent, whole)
        return sent

    def _apply(self, events: list[dict]) -> None:
        for event in events:
            self.events.append(event)
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
            if event.get("event") == "followup":
                self.followups.append(event["name"])

    def _said(self, messages: list[dict]) -> None:
        """What the bot said, as Rasa logs it: one bot event per message (actions may read them)."""
        for message in messages:
            self.events.append(
                {"event": "bot", "text": message.get("text"), "data": {"buttons": message.get("buttons")}}
            )

    # ---- running actions
    async def run(self, action_class: type[LedgerAction]) -> list[dict]:
        await self._extract()
        dispatcher = CollectingDispatcher()
        action = action_class(ledger=self.ledger, vault=self.vault, today=lambda: TODAY)
        events = await action.run(dispatcher, self.tracker(), DOMAIN)
        self._said(dispatcher.messages)
        self._apply(events)
        self.messages = dispatcher.messages
        return dispatcher.messages

    async def validate(self, form: str, slot: str, value: Any) -> dict:
        """Run the form validator on the from_text value of `slot` (the latest message)."""
        await self._extract()
        dispatcher = CollectingDispatcher()
        validator = (
            ValidateVerificationForm(ledger=self.ledger, vault=self.vault)
            if form == "verification_form"
            else ValidateHardshipForm(ledger=self.ledger, vault=self.vault)
        )
        validator._today = lambda: TODAY
        self.active_loop = form
        try:
            result = await getattr(validator, f"validate_{slot}")(value, dispatcher, self.tracker(), DOMAIN)
        finally:
            self.active_loop = None
        self._said(dispatcher.messages)
        self.events.append({"event": "slot", "name": "requested_slot", "value": slot})
        self._apply([{"event": "slot", "name": k, "value": v} for k, v in result.items()])
        self.messages = dispatcher.messages
        return result

    async def form_turn(self, form: str, slot: str, text: str, intent: str = "inform") -> list[dict]:
        """One message while `form` asks for `slot`, as Rasa's form loop runs it: the message, the
        from_text candidate for the slot, then the validator's whole run() (what it applies to
        every message first, then validate_<slot>); the events it returns are applied."""
        self.user(text, intent)
        self.slots["requested_slot"] = slot
        self.slots[slot] = text
        self.events.append({"event": "slot", "name": slot, "value": text})
        self._extract_pending = False  # the validator's run() applies the message's slots itself
        dispatcher = CollectingDispatcher()
        validator = (
            ValidateVerificationForm(ledger=self.ledger, vault=self.vault)
            if form == "verification_form"
            else ValidateHardshipForm(ledger=self.ledger, vault=self.vault)
        )
        validator._today = lambda: TODAY
        events = await validator.run(dispatcher, self.tracker(), FORM_DOMAIN)
        self._apply(events)
        self.messages = dispatcher.messages
        return events

    async def answer(self, form: str, slot: str, text: str, intent: str = "inform") -> dict:
        self.user(text, intent)
        return await self.validate(form, slot, text)

    async def verify(self, phone: str, dob: str, id_last4: str) -> list[dict]:
        from actions.verification import ActionSubmitVerification

        await self.answer("verification_form", "identity_phone", phone)
        await self.answer("verification_form", "identity_dob", dob)
        await self.answer("verification_form", "identity_id_last4", id_last4)
        return await self.run(ActionSubmitVerification)

    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.messages]

    def all_text(self) -> str:
        return "\n".join(self.texts())

    def customs(self) -> list[dict]:
        """The json_messages (custom payloads) of the last action run."""
        return [m["custom"] for m in self.messages if m.get("custom")]

    def buttons(self) -> list[dict]:
        return [b for m in self.messages for b in (m.get("buttons") or [])]


def domain_path() -> Path:
    return Path(__file__).resolve().parents[2] / "bot" / "domain"
