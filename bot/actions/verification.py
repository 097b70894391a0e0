"""Verification: phone or loan number, date of birth, ID last 4 -> one POST /verifications.

The answers never stay in the tracker: the validator keeps them in the vault and sets the
identity slots to a mask; the redacting tracker store rewrites the user's messages of those
turns (bot/addons/tracker_store.py). After success the original question is answered by the
action the dispatch maps it to.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import readings
from actions.base import (
    ESCAPE_CONFIDENCE,
    HANDLED_AFTER_ESCAPE,
    LedgerAction,
    TurnFormValidation,
    accepts_offered_person,
    escapes_form,
    has_no_answer,
    refuses_person,
    say_no_answer_in_form,
    slot_changes,
    switch_language_in_form,
)
from actions.handoff import conversation_summary, escalate
from actions.ledger_client import BorrowerAuth, LedgerError
from actions.loans import remember_loans
from actions.message_slots import language_after_verification
from actions.parsing import parse_dob, parse_id_last4, parse_loan_number, parse_phone, says_stop
from actions.reminders import open_from_reminder
from actions.slots import IDENTITY_SLOTS, VERIFICATION_FORM
from actions.turn import TZ, Turn
from actions.vault import MASK

# Questions about the account that can be asked while the verification form runs.
ACCOUNT_INTENTS = {
    "ask_overdue_status",
    "ask_fees",
    "report_hardship",
    "request_payment_plan",
    "request_fee_waiver",
    "promise_to_pay",
    "pay_now",
    "already_paid",
    "dispute_debt",
    "stop_contact",
}
SMALL_TALK = {"greet", "thank", "affirm"}
# Side questions answered while the verification form runs (the form then asks again): none of
# their answers says anything about an account (ask_consequences gives the policy's general text).
# Requests for help: leaving verification after one of them, the borrower is offered a person.
HELP_INTENTS = {"report_hardship", "request_payment_plan", "request_fee_waiver", "dispute_debt", "already_paid"}
CLIENT_REF_MAX = 64


def client_ref(turn: Turn) -> str | None:
    """The gateway's client reference of the latest message (shared protocol 3: an HMAC of the
    client's address or device, never the address), passed to the ledger's verification call
    so that it limits attempts per client too; None when absent or malformed."""
    metadata = (turn.tracker.latest_message or {}).get("metadata")
    ref = metadata.get("client_ref") if isinstance(metadata, dict) else None
    return ref if isinstance(ref, str) and 0 < len(ref) <= CLIENT_REF_MAX else None


class ValidateVerificationForm(TurnFormValidation):
    def name(self) -> str:
        return "validate_verification_form"

    async def _not_read(self, slot: str, turn: Turn) -> dict[str, Any]:
        """An answer that is not the value asked for (a third party never gets here: the form's run
        refuses them first): a new question, a way out, a question with no answer (answered, then
        the form goes on), or a misunderstanding (the second in a row also offers a person): never
        the same re-ask in a loop."""
        text = turn.latest_text
        if turn.latest_intent == "change_language":
            return switch_language_in_form(slot, turn)
        confident = turn.latest_confidence >= ESCAPE_CONFIDENCE
        if refuses_person(turn):
            return {slot: None}
        if says_stop(text) or escapes_form(turn):
            return {slot: None, "requested_slot": None}
        if turn.latest_intent == "bot_challenge" and confident:
            # answered in passing, nothing about the account; the form then asks its question again
            handler = turn.dispatch.handler(turn.latest_intent)
            await handler(turn.ledger, turn.vault, lambda: turn.today).handle_safely(turn)
            return {slot: None, **slot_changes(turn)}
        if turn.latest_intent in ACCOUNT_INTENTS and confident:
            turn.say("verify_first")  # a new question: answered instead of the first one once verified
            return {slot: None, "pending_intent": turn.latest_intent}
        if turn.latest_intent == "ask_consequences" and confident and readings.asks_about_consequences(text):
            # the policy text says nothing about any loan: answered now, then the form asks again
            handler = turn.dispatch.handler(turn.latest_intent)
            await handler(turn.ledger, turn.vault, lambda: turn.today).handle_safely(turn)
            return {slot: None, **slot_changes(turn)}
        if turn.latest_intent in SMALL_TALK and confident:
            return {slot: None}  # "谢谢" / "hi": just ask again
        if has_no_answer(turn):
            return {slot: None, **say_no_answer_in_form(turn)}
        turn.missed(f"invalid_{slot}", in_form=True)
        return {slot: None, **slot_changes(turn)}

    async def _identity(
        self, slot: str, value: Any, turn: Callable[[], Turn], read: Callable[[str, Turn], tuple[str, str] | None]
    ) -> dict[str, Any]:
        """One identity answer: kept in the vault under the field `read` names, the slot masked."""
        if value is None:  # an empty slot set by an action, not an answer
            return {slot: None}
        if value == MASK:
            return {slot: MASK}
        this_turn = turn()
        found = read(str(value), this_turn)
        if found:
            this_turn.vault.put_identity(this_turn.conversation_id, *found)
            return {slot: MASK}
        return await self._not_read(slot, this_turn)

    async def validate_identity_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        def read(text: str, turn: Turn) -> tuple[str, str] | None:
            phone, loan = parse_phone(text), parse_loan_number(text)
            return ("phone", phone) if phone else ("loan_number", loan) if loan else None

        return await self._identity("identity_phone", value, lambda: self.make_turn(dispatcher, tracker, domain), read)

    async def validate_identity_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        def read(text: str, turn: Turn) -> tuple[str, str] | None:
            dob = parse_dob(text, today=turn.today)
            return ("date_of_birth", dob.isoformat()) if dob else None

        return await self._identity("identity_dob", value, lambda: self.make_turn(dispatcher, tracker, domain), read)

    async def validate_identity_id_last4(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        def read(text: str, turn: Turn) -> tuple[str, str] | None:
            last4 = parse_id_last4(text)
            return ("id_last4", last4) if last4 else None

        return await self._identity(
            "identity_id_last4", value, lambda: self.make_turn(dispatcher, tracker, domain), read
        )


class ActionSubmitVerification(LedgerAction):
    """Runs when the verification form ends: verifies, or re-asks, or explains the lockout."""

    def name(self) -> str:
        return "action_submit_verification"

    async def handle(self, turn: Turn) -> None:
        if turn.slot("third_party"):
            return
        answers = turn.vault.identity(turn.conversation_id)
        complete = (
            ("phone" in answers or "loan_number" in answers) and "date_of_birth" in answers and "id_last4" in answers
        )
        if not complete or any(turn.slot(s) != MASK for s in IDENTITY_SLOTS):
            pending = turn.slot("pending_intent")
            self._clear(turn)
            turn.set("pending_intent", None)
            await self._stopped(turn, pending)
            return
        try:
            result = await turn.ledger.verify(
                turn.conversation_id,
                phone=answers.get("phone"),
                loan_number=answers.get("loan_number"),
                date_of_birth=datetime.fromisoformat(answers["date_of_birth"]).date(),
                id_last4=answers["id_last4"],
                client_ref=client_ref(turn),
            )
        except LedgerError as exc:
            self._clear(turn)
            await self._failed(turn, exc)
            return
        finally:
            turn.vault.clear_identity(turn.conversation_id)
        self._clear(turn)
        await self._verified(turn, result, answers.get("loan_number"))

    @staticmethod
    def _clear(turn: Turn) -> None:
        turn.vault.clear_identity(turn.conversation_id)
        for slot in IDENTITY_SLOTS:
            turn.set(slot, None)

    async def _stopped(self, turn: Turn, pending: str | None) -> None:
        """The form was left. A request of its own (a person, a complaint) is answered; else the
        borrower hears that nothing was recorded and is offered a person (in other words when they
        came for help, `pending`). A plain "算了" / "never mind" is never read as another request."""
        intent = "request_human" if accepts_offered_person(turn) else turn.latest_intent
        plain = says_stop(turn.latest_text)
        # stop_contact and dispute_debt need the verification that was just stopped
        answered_now = intent in HANDLED_AFTER_ESCAPE - {"stop_contact", "dispute_debt"} and not plain
        handler = turn.dispatch.handler_for(intent) if answered_now else None
        if handler is not None:
            await handler(self._ledger, self._vault, self._today).handle_safely(turn)
        elif intent == "goodbye" and not plain:
            turn.say_goodbye()
        elif pending in HELP_INTENTS:
            turn.offer_human("verify_stopped_offer")
        else:
            turn.offer_human("verify_stopped")  # nothing about the account without it: a person can help

    async def _failed(self, turn: Turn, exc: LedgerError) -> None:
        no_attempt_left = exc.code == "verification_failed" and exc.extra.get("attempts_left") == 0
        if exc.code == "verification_locked" or no_attempt_left:
            # Locked: the bot can do nothing more for this borrower for 30 minutes, so, as the
            # policy does when the bot cannot help (hardship review), the case goes to a person
            # at once; the desk sees the reason and can verify by other means.
            turn.set("pending_intent", None)
            turn.say("verify_locked_handoff", until=self._until(turn, exc.extra.get("locked_until")))
            await escalate(turn, "verification_locked", conversation_summary(turn))
            return
        if exc.status == 429:  # the ledger's limit per client_ref: not a wrong answer, no new attempt now
            turn.set("pending_intent", None)
            turn.offer_human("verify_rate_limited", awaiting="human_offer_verification")
            return
        if exc.code == "verification_failed" and isinstance(exc.extra.get("attempts_left"), int):
            turn.say("verify_failed", attempts_left=exc.extra["attempts_left"])
        elif exc.code in {"verification_failed", "invalid_request", "not_found"}:
            turn.say("verify_failed_plain")
        else:
            raise exc
        turn.followup(VERIFICATION_FORM)

    @staticmethod
    def _until(turn: Turn, locked_until: Any) -> str:
        try:
            moment = datetime.fromisoformat(str(locked_until)).astimezone(TZ)
        except (TypeError, ValueError):
            return "30 分钟" if turn.lang == "zh" else "30 minutes"
        if moment.date() == turn.today:
            return moment.strftime("%H:%M")
        return f"{turn.date(moment.date())} {moment:%H:%M}"

    async def _verified(self, turn: Turn, result: dict, given_loan_number: str | None) -> None:
        borrower = result.get("borrower") or {}
        auth = BorrowerAuth(result["token"], turn.conversation_id)
        turn.vault.put_token(turn.conversation_id, auth.token)
        turn.set("verified", True)
        turn.set("borrower_id", borrower.get("borrower_id"))
        turn.set("borrower_name", borrower.get("name"))
        language = language_after_verification(
            turn.slot("language"), bool(turn.slot("language_chosen")), borrower.get("language")
        )
        if language != turn.slot("language"):
            turn.set("language", language)
        await remember_loans(turn, auth, borrower.get("borrower_id"), given_loan_number)
        name = borrower.get("name") or ""
        turn.say("verify_ok", name=name if turn.lang == "zh" else (f", {name}" if name else ""))
        await open_from_reminder(turn, auth, borrower.get("borrower_id"))  # a chat opened from a reminder's link
        pending = turn.slot("pending_intent")
        turn.set("pending_intent", None)
        handler = turn.dispatch.handler_for(pending)
        if handler is not None:
            turn.resumed_intent = pending
            await handler(self._ledger, self._vault, self._today).handle_safely(turn)
