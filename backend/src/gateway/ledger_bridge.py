"""The gateway's side of the ledger's door (``ledger.desk_door``): the desk's audit sink and
account reader, which only translate a gateway conversation into the names the ledger knows it by.

The ledger knows a conversation by Rasa's sender id, which the gateway renews after an idle gap
(``Conversation.rasa_sender_id``): the current sender comes first, then the conversation id.
Everything else (which borrower, what their account says, what is audited) is the door's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.desk_door import DeskDoor

from .db import Conversation

CHAT_AMBIGUOUS_STOP_WORDS = frozenset({"STOP"})


def ledger_names(rasa_sender_id: str | None, conversation_id: str) -> list[str]:
    """The names the ledger may know a conversation by, the current Rasa sender first."""
    return list(dict.fromkeys(x for x in (rasa_sender_id, conversation_id) if x))


class _ThroughTheDoor:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], door: DeskDoor) -> None:
        self.sessions = sessions
        self.door = door

    async def ledger_conversation_ids(self, conversation_id: str) -> list[str]:
        """The names the ledger may know this conversation by, the current Rasa sender first."""
        async with self.sessions() as s:
            sender = (
                await s.execute(select(Conversation.rasa_sender_id).where(Conversation.id == conversation_id))
            ).scalar()
        return ledger_names(sender, conversation_id)


class LedgerAuditLog(_ThroughTheDoor):
    """Agent actions appended to the ledger's audit_log (actor ``agent:<username>``). Account
    administration (no conversation: ``conversation_id == ""``) keeps its actor as given, e.g.
    ``cli:<os user>``, with the agent concerned in the detail."""

    async def record(self, actor: str, action: str, conversation_id: str, detail: Mapping[str, Any]) -> None:
        if not conversation_id:
            await self.door.record_account_action(actor, action, detail)
            return
        await self.door.record_agent_action(
            actor, action, conversation_id, await self.ledger_conversation_ids(conversation_id), detail
        )


class LedgerAccounts(_ThroughTheDoor):
    """The account panel, queue summary, contact-rule facts and verification of a conversation's
    borrower, as the ledger derives them. Nothing is shown for a conversation the ledger has not
    linked to a borrower (by a verification or an escalation)."""

    async def account(self, conversation_id: str) -> dict[str, Any] | None:
        return await self.door.account_panel(await self.ledger_conversation_ids(conversation_id))

    async def summary(self, conversation_id: str) -> dict[str, Any] | None:
        """What a queue line shows: name, worst bucket, loan numbers, case number."""
        return await self.door.queue_summary(await self.ledger_conversation_ids(conversation_id))

    async def summaries(self, conversations: Sequence[Conversation]) -> dict[str, dict[str, Any] | None]:
        """``summary`` of every queue line at once, by conversation id (their Rasa senders are on
        the rows already: no read per line)."""
        return await self.door.queue_summaries({c.id: ledger_names(c.rasa_sender_id, c.id) for c in conversations})

    def bucket_names(self) -> tuple[str, ...]:
        """The policy's buckets (the queue's bucket filter)."""
        return self.door.bucket_names()

    async def handoff(self, conversation_id: str) -> dict[str, Any] | None:
        """The ledger's side of the hand-off card (case number, summary, language, loan lines)."""
        return await self.door.handoff_facts(await self.ledger_conversation_ids(conversation_id))

    async def contact_rules(self, conversation_id: str) -> dict[str, Any] | None:
        return await self.door.contact_facts(await self.ledger_conversation_ids(conversation_id))

    async def verification(self, conversation_id: str) -> dict[str, Any] | None:
        return await self.door.verification_state(await self.ledger_conversation_ids(conversation_id))

    async def borrower_conversations(self, conversation_id: str) -> dict[str, Any] | None:
        """The ledger's names of every conversation the borrower verified here has verified in,
        with an opaque borrower reference (None: nobody verified in this conversation now)."""
        return await self.door.verified_borrower_conversations(await self.ledger_conversation_ids(conversation_id))

    async def record_promise(
        self, conversation_id: str, agent: str, loan_number: str, amount: Decimal, promised_date: date
    ) -> dict[str, Any] | None:
        """The borrower's promise recorded by the agent (None: not verified in this conversation)."""
        return await self.door.record_promise(
            await self.ledger_conversation_ids(conversation_id), agent, loan_number, amount, promised_date
        )

    async def verify_by_other_means(
        self, conversation_id: str, agent: str, method: str, note: str | None
    ) -> dict[str, Any] | None:
        """Record in the ledger that the agent verified the borrower by other means (clears the
        lock, audited as the agent); None when the conversation names no borrower."""
        return await self.door.record_manual_verification(
            await self.ledger_conversation_ids(conversation_id), agent, method, note
        )

    async def evaluate_plans(self, conversation_id: str, agent: str, loan_number: str) -> dict[str, Any] | None:
        """The ledger's relief plans for the loan (None: not verified in this conversation)."""
        return await self.door.evaluate_plans(await self.ledger_conversation_ids(conversation_id), agent, loan_number)

    async def plan_offer(self, conversation_id: str, loan_number: str, plan_type: str) -> dict[str, Any] | None:
        """The open offer of a plan, to send as a card (None: not verified in this conversation)."""
        return await self.door.plan_offer(await self.ledger_conversation_ids(conversation_id), loan_number, plan_type)

    async def accept_plan(self, conversation_id: str, offer_id: str) -> dict[str, Any] | None:
        """The borrower accepts a card's offer: the ledger's arrangement (None: not verified)."""
        return await self.door.accept_plan(await self.ledger_conversation_ids(conversation_id), offer_id)

    async def record_payment_trace(
        self,
        conversation_id: str,
        agent: str,
        loan_number: str,
        paid_on: date | None,
        amount: Decimal | None,
        reference: str | None,
        channel: str | None,
    ) -> tuple[dict[str, Any], bool] | None:
        """A payment trace opened by the agent (None: not verified in this conversation)."""
        return await self.door.record_payment_trace(
            await self.ledger_conversation_ids(conversation_id), agent, loan_number, paid_on, amount, reference, channel
        )

    async def stop_reply(
        self, conversation_id: str, text: str, reminder_ref: str | None, channel: str
    ) -> dict[str, Any] | None:
        """A STOP from the conversation's verified borrower, recorded by the ledger: ``{channel,
        confirmation}``; None when ``text`` is no STOP (read without a query) or nobody is verified.

        In a chat a bare "stop" also means "leave what is under way" (the bot reads it so in a
        form): it is a STOP reply only in a conversation opened from a reminder. "TD", "退订"
        and "unsubscribe" mean nothing else."""
        word = self.door.stop_reply_word(text)
        if word is None or (word in CHAT_AMBIGUOUS_STOP_WORDS and not reminder_ref):
            return None
        return await self.door.stop_reply_in_conversation(
            await self.ledger_conversation_ids(conversation_id), text, reminder_ref, channel
        )

    async def sms_reply(self, text: str, phone: str) -> dict[str, Any]:
        """An SMS reply from ``phone`` (the gateway's inbound webhook): the ledger's STOP handling."""
        return await self.door.stop_reply_by_phone("sms", text, phone)

    async def telegram_reply(self, text: str, chat_id: str) -> dict[str, Any]:
        """A Telegram message from ``chat_id`` (the gateway's Telegram webhook): the ledger's STOP
        handling for the borrowers who bound that chat."""
        return await self.door.stop_reply_by_address("telegram", text, chat_id)

    async def outbound_overview(self, answered_refs: list[str]) -> dict[str, Any]:
        return await self.door.outbound_overview(answered_refs)

    async def cadence_dry_run(self, text: str) -> dict[str, Any]:
        return await self.door.cadence_dry_run(text)
