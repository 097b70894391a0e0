"""The conversation service: every message of every conversation passes through here.

State machine of a conversation::

    bot --(bot asks for a hand-off | an agent takes it)--> agent
    agent --(agent hands back)--> bot
    bot|agent --(agent closes with an outcome)--> closed --(borrower writes again)--> bot

A borrower message is stored first, then routed: in state ``bot`` to Rasa (replies stored
after it), in state ``agent`` to the desk only (Rasa never sees it). Each conversation's
turns and agent actions run under one per-conversation lock, so the transcript order is the
order of handling, and a turn in flight finishes before an agent's takeover or hand-back.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, insert, null, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from huanxin_redaction import mask_identity_numbers, redact
from ledger.desk_door import MANUAL_VERIFICATION_METHODS

from . import csat
from .canned import CannedReplies
from .compliance import MessageStopped, Rules
from .contact_rules import ContactRefused, DeliveryFailed, Refusal, reply_refusal
from .db import Agent, Conversation, DeskRead, Message
from .desk_shift import DeskShift
from .events import EventSink, NoEvents, gateway_event
from .hub import Hub
from .locks import ConversationLocks
from .queue_filters import LABEL, QUEUE_FILTERS, QueueQuery, line_matches
from .rasa import BotTurn, RasaPool, RasaUnavailable, as_text, system_metadata
from .ratelimit import Limits, LimitSpec
from .texts import text as t
from .turn_sql import TurnStore, TurnTransaction

log = logging.getLogger("gateway.conversations")

MAX_TEXT = 2000
LIVE_WINDOW = timedelta(minutes=30)
BORROWER_MESSAGES = LimitSpec(20, "1 minute")  # per conversation; more are not read (see _slow_down)
SUMMARY_TTL = timedelta(seconds=60)  # how long a queue line's name/bucket is reused
MAX_LABELS = 10  # per conversation
MONEY = re.compile(r"\d{1,9}(?:\.\d{1,2})?")  # an amount as the API writes it: a string, at most 2 decimals
QUEUE_LIMIT = 200  # lines in one queue answer
SUMMARY_BATCH = 500  # conversations per batched summary read (bounds the ledger's IN lists)
HANDOFF_LAST_MESSAGES = 3  # the borrower's last messages quoted on the hand-off card
OUTCOMES = (
    "resolved",
    "promise_to_pay",
    "arrangement_agreed",
    "hardship_review",
    "dispute_logged",
    "callback_scheduled",
    "no_response",
    "referred",
    "other",
)
# Slots an agent may set when handing back. Identity and verification slots are not among
# them: an agent cannot mark a borrower verified for the bot.
AGENT_SLOTS = (
    "language",
    "hardship_reason",
    "hardship_duration",
    "monthly_income",
    "essential_expenses",
    "other_debt_payments",
    "pending_intent",
)


class ConversationError(Exception):
    """Root of the conversation service's errors."""


class NotFound(ConversationError):
    """No such conversation, or the caller may not see it (existence is not revealed)."""


class Forbidden(ConversationError):
    """The agent may see the conversation but not do this to it (e.g. it is someone else's)."""


class Conflict(ConversationError):
    """The conversation is not in a state that allows this action."""


class InvalidInput(ConversationError):
    """Empty or oversized text, unknown outcome code, a slot agents may not set."""


class TokenRefused(ConversationError):
    """The web chat's token no longer opens the conversation (wrong, or the conversation idled out)."""


@dataclass(frozen=True)
class AgentIdentity:
    username: str
    role: str
    display_name: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


class AuditSink(Protocol):
    async def record(self, actor: str, action: str, conversation_id: str, detail: dict[str, Any]) -> None: ...


class AccountReader(Protocol):
    async def account(self, conversation_id: str) -> dict[str, Any] | None: ...


class NoAccounts:
    async def account(self, conversation_id: str) -> dict[str, Any] | None:
        return None

    async def verification(self, conversation_id: str) -> dict[str, Any] | None:
        return None

    async def handoff(self, conversation_id: str) -> dict[str, Any] | None:
        return None

    async def verify_by_other_means(
        self, conversation_id: str, agent: str, method: str, note: str | None
    ) -> dict[str, Any] | None:
        return None


Outbound = Callable[[Conversation, list[dict[str, Any]]], Awaitable[str | None]]  # None, or why the send failed


@dataclass(frozen=True, slots=True)
class TurnMessage:
    """A message a turn stored through turn_sql, as its row was written: the same fields as the
    ORM's ``Message`` without building one (an instrumented object a message, issue 11)."""

    conversation_id: str
    seq: int
    sender: str
    sender_name: str | None
    text: str
    buttons: list[dict[str, Any]] | None
    agent_only: bool
    client_msg_id: str | None
    created_at: datetime


StoredMessage = Message | TurnMessage


def message_dict(m: StoredMessage) -> dict[str, Any]:
    return {
        "seq": m.seq,
        "sender": m.sender,
        "sender_name": m.sender_name,
        "text": m.text,
        "buttons": m.buttons,
        "agent_only": m.agent_only,
        "created_at": m.created_at.isoformat(),
    }


def conversation_dict(c: Conversation, now: datetime) -> dict[str, Any]:
    waiting = None
    if c.state == "agent" and c.escalated_at is not None and c.assigned_agent is None:
        waiting = int((now - c.escalated_at).total_seconds())
    return {
        "conversation_id": c.id,
        "channel": c.channel,
        "language": c.language,
        "state": c.state,
        "assigned_agent": c.assigned_agent,
        "escalation_reason": c.escalation_reason,
        "escalated_at": c.escalated_at.isoformat() if c.escalated_at else None,
        "wait_seconds": waiting,
        "outcome": c.outcome,
        "labels": list(c.labels or []),
        "last_seq": c.last_seq,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def token_bytes(token: str) -> bytes:
    """A credential as bytes to hash or compare. A header that was not UTF-8 arrives with surrogate
    escapes; "surrogatepass" lets it simply not match instead of raising."""
    return token.encode("utf-8", "surrogatepass")


def hash_token(token: str) -> str:
    return hashlib.sha256(token_bytes(token)).hexdigest()


def plausible_id(value: str) -> bool:
    """Could be a key we issued: short and printable. Anything else (a NUL, a lone surrogate) is not
    looked up at all, since PostgreSQL refuses such parameters with an error instead of "no row"."""
    return 0 < len(value) <= 64 and value.isprintable()


def storable(text: str, what: str = "message") -> str:
    """The text, unless PostgreSQL cannot store it (a NUL character or a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} contains characters that are not text") from None
    if "\x00" in text:
        raise InvalidInput(f"{what} contains characters that are not text")
    return text


def utcnow() -> datetime:
    return datetime.now(UTC)


def offered_buttons(recent: list[tuple[str, Any]]) -> list[dict[str, Any]] | None:
    """The buttons on offer, from the (sender, buttons) of the last bot and borrower messages the
    borrower sees, newest first: the bot's last buttons, unless the borrower wrote since."""
    for sender, buttons in recent:
        if sender == "borrower":
            return None
        if buttons:
            return cast(list[dict[str, Any]], buttons)
    return None


@dataclass
class TranscriptWriter:
    """One transaction on a conversation's transcript (``ConversationService.writing_transcript``):
    ``append`` adds a message (masked as stored); ``session`` may write other rows in the same
    transaction (a plan card whose message this is)."""

    service: ConversationService
    session: AsyncSession
    conversation: Conversation
    messages: list[Message] = field(default_factory=list)

    async def append(
        self,
        sender: str,
        text: str,
        *,
        buttons: list[dict[str, Any]] | None = None,
        agent_only: bool = False,
        sender_name: str | None = None,
    ) -> Message:
        msg = await self.service._append(
            self.session,
            self.conversation,
            sender,
            text,
            buttons=buttons,
            agent_only=agent_only,
            sender_name=sender_name,
        )
        self.messages.append(msg)
        return msg


@dataclass
class TurnResult:
    """The outcome of one borrower message: its seq and the borrower-visible messages after it."""

    borrower_seq: int
    duplicate: bool = False
    replies: list[dict[str, Any]] = field(default_factory=list)
    state: str = "bot"


@dataclass
class ChatOpening:
    """What a chat socket starts with (``ConversationService.open_chat``)."""

    conversation: Conversation
    subscription: Any  # hub.Subscription to the conversation's topic, taken before the reads
    csat: str | None
    messages: list[dict[str, Any]]


class ConversationService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaPool,
        locks: ConversationLocks,
        hub: Hub,
        audit: AuditSink,
        accounts: AccountReader | None = None,
        clock: Callable[[], datetime] = utcnow,
        handback_intent: str | None = "handback",
        *,
        system_secret: bytes = b"",
        slow_notice_s: float = 8.0,
        idle_expiry: timedelta = timedelta(minutes=30),
        events: EventSink | None = None,
        guard: Rules | None = None,
        canned: CannedReplies | None = None,
        turns: TurnStore | None = None,
    ) -> None:
        self.guard = guard
        self.canned = canned or CannedReplies(
            ()
        )  # the compliance rules an agent's reply is checked against (None: unchecked)
        self.sessions = sessions
        # a borrower turn's two transactions, on the driver itself (turn_sql; issue 11)
        self.turns = turns if turns is not None else TurnStore.for_engine(sessions.kw["bind"])
        self.rasa = rasa
        self.locks = locks
        self.hub = hub
        self.audit = audit
        self.accounts = accounts or NoAccounts()
        self.clock = clock
        self.handback_intent = handback_intent
        self.outbound: dict[str, Outbound] = {}
        self.system_secret = system_secret or secrets.token_bytes(32)
        self.slow_notice_s = slow_notice_s
        self.idle_expiry = idle_expiry
        self.events: EventSink = events or NoEvents()
        # bot turns that ended without an answer, by kind (empty_answer, unavailable, timeout): /healthz
        self.failures: Counter[str] = Counter({"empty_answer": 0, "unavailable": 0, "timeout": 0})
        self.shift: DeskShift | None = None  # set when the desk is wired (hand-off text by desk hours)
        self.auto_assignment = False  # GATEWAY_DESK_ASSIGNMENT=least_busy: escalations are assigned, not taken
        self.capacity = 5  # conversations auto-assigned to one agent at most (GATEWAY_DESK_AGENT_CAPACITY)
        self.borrower_limits = Limits({"borrower_messages": BORROWER_MESSAGES})
        self._summaries: dict[str, tuple[datetime, dict[str, Any] | None]] = {}
        # where the desk's canned replies are read from each time (canned_store.CannedStore.active,
        # set by the app); None: the replies given at construction
        self.canned_source: Callable[[], Awaitable[CannedReplies]] | None = None

    # ---- conversations -------------------------------------------------------------

    async def create_web_conversation(self, language: str, reminder_ref: str | None = None) -> tuple[Conversation, str]:
        """A new widget conversation and its client secret (only the hash is stored); with the
        reference of the reminder whose link opened it (passed to the bot with every message)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        conv_id = secrets.token_hex(16)
        conv = Conversation(
            id=conv_id,
            channel="web",
            external_user_id=conv_id,
            client_token_hash=hash_token(token),
            language=language if language in ("zh", "en") else "zh",
            state="bot",
            last_seq=0,
            reminder_ref=reminder_ref,
            created_at=now,
            updated_at=now,
        )
        async with self.sessions() as s, s.begin():
            s.add(conv)
        return conv, token

    async def conversation_for_external(
        self, channel: str, external_user_id: str, language: str = "zh"
    ) -> Conversation:
        """The conversation of an app user (WeChat OpenID), created on first contact."""
        stmt = select(Conversation).where(
            Conversation.channel == channel, Conversation.external_user_id == external_user_id
        )
        async with self.sessions() as s:
            conv = (await s.execute(stmt)).scalar_one_or_none()
        if conv is not None:
            return conv
        now = self.clock()
        conv = Conversation(
            id=secrets.token_hex(16),
            channel=channel,
            external_user_id=external_user_id,
            language=language,
            state="bot",
            last_seq=0,
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.sessions() as s, s.begin():
                s.add(conv)
            return conv
        except IntegrityError:  # created concurrently by a retried push
            async with self.sessions() as s:
                return (await s.execute(stmt)).scalar_one()

    async def reminder_refs_since(self, since: datetime) -> list[str]:
        """The reminder references of the conversations opened from a reminder's link since ``since``."""
        async with self.sessions() as s:
            rows = await s.execute(
                select(Conversation.reminder_ref)
                .where(Conversation.reminder_ref.is_not(None), Conversation.created_at >= since)
                .distinct()
            )
            return [r for r in rows.scalars() if r]

    def is_idle(self, conv: Conversation) -> bool:
        """Nothing happened in the conversation for longer than the idle expiry."""
        return self.clock() - conv.updated_at > self.idle_expiry

    async def authenticate_client(self, conversation_id: str, token: str) -> Conversation | None:
        """The web conversation this token opens; None when unknown, wrong or expired.

        An idle conversation expires: its token is refused from then on (the hash is dropped), so
        the next person on a shared device gets a fresh chat, not the transcript."""
        if not plausible_id(conversation_id):
            return None
        async with self.sessions() as s, s.begin():
            conv = await s.get(Conversation, conversation_id)
            if conv is None or not self._token_opens(conv, token):
                return None
        return conv

    async def open_chat(self, conversation_id: str, token: str, after_seq: int = 0) -> ChatOpening | None:
        """A chat socket's start in one transaction (issue 11: three sessions before): the
        conversation this token opens (None as ``authenticate_client``: unknown, wrong or expired,
        the expired token dropped), then the subscription to its topic, then its rating state and
        the messages after ``after_seq`` (subscribed before reading: nothing falls in between)."""
        if not plausible_id(conversation_id):
            return None
        subscription = None
        try:
            async with self.sessions() as s, s.begin():
                conv = await s.get(Conversation, conversation_id)
                if conv is None or not self._token_opens(conv, token):
                    return None  # an idle conversation's dropped token is committed
                subscription = self.hub.subscribe(f"conv:{conv.id}")
                state = await csat.state_of(s, conv.id)
                rows = (await s.execute(self._transcript_query(conv.id, after_seq, False))).scalars().all()
        except BaseException:
            if subscription is not None:
                subscription.close()
            raise
        return ChatOpening(conv, subscription, state, [message_dict(m) for m in rows])

    def _token_opens(self, conv: Conversation, token: str) -> bool:
        """Whether the web token opens ``conv``; an idle conversation's token is dropped (the
        caller's transaction writes that) and opens nothing from then on."""
        if conv.client_token_hash is None:
            return False
        if not secrets.compare_digest(conv.client_token_hash.encode(), hash_token(token).encode()):
            return False
        if self.is_idle(conv):
            conv.client_token_hash = None
            return False
        return True

    async def get(self, conversation_id: str) -> Conversation | None:
        if not plausible_id(conversation_id):
            return None
        async with self.sessions() as s:
            return await s.get(Conversation, conversation_id)

    async def transcript(
        self, conversation_id: str, after_seq: int = 0, include_agent_only: bool = False
    ) -> list[dict[str, Any]]:
        async with self.sessions() as s:
            query = self._transcript_query(conversation_id, after_seq, include_agent_only)
            rows = (await s.execute(query)).scalars().all()
        return [message_dict(m) for m in rows]

    @staticmethod
    def _transcript_query(conversation_id: str, after_seq: int, include_agent_only: bool) -> Any:
        stmt = select(Message).where(Message.conversation_id == conversation_id, Message.seq > after_seq)
        if not include_agent_only:
            stmt = stmt.where(Message.agent_only.is_(False))
        return stmt.order_by(Message.seq)

    async def last_buttons(self, conversation_id: str) -> list[dict[str, Any]] | None:
        """The buttons the bot offers now: those of its last turn, unless the borrower wrote since."""
        async with self.sessions() as s:
            return await self._offered_buttons(s, conversation_id)

    @staticmethod
    async def _offered_buttons(s: AsyncSession, conversation_id: str) -> list[dict[str, Any]] | None:
        stmt = (
            select(Message.sender, Message.buttons)
            .where(
                Message.conversation_id == conversation_id,
                Message.agent_only.is_(False),
                Message.sender.in_(("bot", "borrower")),
            )
            .order_by(Message.seq.desc())
            .limit(10)
        )
        return offered_buttons([(sender, buttons) for sender, buttons in await s.execute(stmt)])

    # ---- internals -----------------------------------------------------------------

    async def _emit(self, conv: Conversation, name: str, **fields: Any) -> None:
        """One gateway event on the analytics stream (gateway/events.py); never fails the caller."""
        try:
            event = gateway_event(name, conv.rasa_sender, conv.id, conv.channel, conv.language, self.clock(), **fields)
            await self.events.publish([event])
        except Exception:  # analytics never break a conversation
            log.exception("analytics event %s of conversation %s not published", name, conv.id)

    async def _append(
        self,
        s: AsyncSession,
        conv: Conversation,
        sender: str,
        body: str,
        *,
        buttons: list[dict[str, Any]] | None = None,
        agent_only: bool = False,
        client_msg_id: str | None = None,
        sender_name: str | None = None,
    ) -> Message:
        return (
            await self._append_many(
                s,
                conv,
                [
                    {
                        "sender": sender,
                        "text": body,
                        "buttons": buttons,
                        "agent_only": agent_only,
                        "client_msg_id": client_msg_id,
                        "sender_name": sender_name,
                    }
                ],
            )
        )[0]

    async def _append_many(
        self, s: AsyncSession, conv: Conversation, entries: list[dict[str, Any]], **changes: Any
    ) -> list[Message]:
        """Append messages (dicts of Message fields: sender, text, buttons...) with one
        ``UPDATE conversations SET last_seq = last_seq + n ... RETURNING last_seq`` that also
        writes ``changes`` (other conversation columns), and one INSERT of the rows. Both are
        Core statements (the ORM's unit of work and its bulk-update evaluation were most of a
        turn's CPU in the gateway, issue 11); ``conv`` is brought up to date without being
        marked changed, and the messages returned are not in the session (their ``seq``
        identifies them)."""
        now = self.clock()
        if not entries and not changes:
            return []
        table = cast(Table, Conversation.__table__)
        last = (
            await s.execute(
                update(table)
                .where(table.c.id == conv.id)
                .values(last_seq=table.c.last_seq + len(entries), updated_at=now, **changes)
                .returning(table.c.last_seq)
            )
        ).scalar_one()
        for key, value in {"last_seq": last, "updated_at": now, **changes}.items():
            set_committed_value(conv, key, value)
        rows = self._message_rows(conv, entries, now)
        for offset, row in enumerate(rows):
            row["seq"] = last - len(rows) + 1 + offset
        if rows:
            await s.execute(insert(cast(Table, Message.__table__)), rows)
        return [Message(**row) for row in rows]

    @staticmethod
    def _message_rows(conv: Conversation, entries: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
        """The messages rows of ``entries`` (without their seq), masked as stored."""
        rows = []
        for entry in entries:
            body = entry["text"]
            if entry["sender"] != "bot":  # the bot's texts are our templates; anything a person typed is masked
                body = mask_identity_numbers(body) or ""
            rows.append(
                {
                    "conversation_id": conv.id,
                    "sender": entry["sender"],
                    "sender_name": entry.get("sender_name"),
                    "text": body,
                    "buttons": entry.get("buttons"),
                    "agent_only": entry.get("agent_only", False),
                    "client_msg_id": entry.get("client_msg_id"),
                    "created_at": now,
                }
            )
        return rows

    async def _append_turn(
        self, tx: TurnTransaction, conv: Conversation, entries: list[dict[str, Any]], changes: dict[str, Any]
    ) -> list[TurnMessage]:
        """_append_many as the last statement of a turn's transaction (turn_sql), committed with
        it: the same UPDATE ... RETURNING and INSERT, the same rows; ``conv`` (not in a session)
        takes the changes."""
        if not entries and not changes:
            return []
        now = self.clock()
        rows = self._message_rows(conv, entries, now)
        last = await tx.append(conv.id, now, changes, rows, and_commit=True)
        for key, value in {"last_seq": last, "updated_at": now, **changes}.items():
            setattr(conv, key, value)
        first = last - len(rows) + 1
        return [TurnMessage(seq=first + offset, **row) for offset, row in enumerate(rows)]

    async def _load(self, s: AsyncSession, conversation_id: str) -> Conversation:
        if not plausible_id(conversation_id):
            raise NotFound(conversation_id)
        conv = await s.get(Conversation, conversation_id)  # a new session each time: always read
        if conv is None:
            raise NotFound(conversation_id)
        return conv

    def _publish(self, conv: Conversation, messages: Sequence[StoredMessage]) -> None:
        for m in messages:
            event = {
                "type": "message",
                "conversation_id": conv.id,
                "assigned_agent": conv.assigned_agent,
                **message_dict(m),
            }
            self.hub.publish("desk", event)
            if not m.agent_only:  # the borrower's copy names no agent login
                self.hub.publish(f"conv:{conv.id}", {k: v for k, v in event.items() if k != "assigned_agent"})

    def _publish_state(
        self, conv: Conversation, handed_over: bool = False, previous_agent: str | None = None, escalated: bool = False
    ) -> None:
        """The conversation's new state to the desks and to the borrower's widget. ``handed_over``:
        it just went to an agent from ``previous_agent`` (None: from the unassigned queue), whose
        desk (or, from the queue, every desk that listed it) must hear of it too. ``escalated``:
        the bot just handed it to the desk (a desk's new-escalation alert)."""
        event = {"type": "conversation", **conversation_dict(conv, self.clock())}
        if escalated:
            event["escalated"] = True
        if handed_over:
            event["previous_agent"] = previous_agent
        self.hub.publish("desk", event)
        self.hub.publish(f"conv:{conv.id}", {"type": "state", "state": conv.state})

    def _publish_csat(self, conv: Conversation, state: str) -> None:
        """Tell the borrower's widget the rating is asked (in the conversation's language) or given."""
        self.hub.publish(f"conv:{conv.id}", {"type": "csat", "csat": state, "language": conv.language})

    async def csat_state(self, conversation_id: str) -> str | None:
        """Whether the conversation's rating is asked or given (None: not asked)."""
        async with self.sessions() as s:
            return await csat.state_of(s, conversation_id)

    async def rate(self, conversation_id: str, client_token: str, score: int) -> None:
        """The web borrower's rating (1-5) of a conversation that asked for one, stored once and
        sent as the `csat` analytics event. TokenRefused: not this conversation's browser session;
        Conflict: no rating asked, or already rated (nothing changes)."""
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await s.get(Conversation, conversation_id) if plausible_id(conversation_id) else None
                refused = conv is None or not self._token_opens(conv, client_token)
                result = "" if refused or conv is None else await csat.rate(s, conv.id, score, self.clock())
            if refused or conv is None:  # an idle conversation's dropped token is committed; nothing else changed
                raise TokenRefused(conversation_id)
            if result == "not_asked":
                raise Conflict("this conversation has not asked for a rating")
            if result != csat.RATED:
                raise Conflict("this conversation is rated already")
            self._publish_csat(conv, csat.RATED)
            await self._emit(conv, "csat", score=score)

    async def _deliver(self, conv: Conversation, messages: Sequence[StoredMessage]) -> str | None:
        """Push borrower-visible messages produced outside a borrower turn to the channel;
        None when sent (or nothing to send), else why the channel refused them."""
        visible = [message_dict(m) for m in messages if not m.agent_only]
        sender = self.outbound.get(conv.channel)
        if visible and sender is not None:
            return await sender(conv, visible)
        return None

    @staticmethod
    def _clean(text: str) -> str:
        body = storable((text or "").strip())
        if not body:
            raise InvalidInput("empty message")
        if len(body) > MAX_TEXT:
            raise InvalidInput(f"message longer than {MAX_TEXT} characters")
        return body

    # ---- borrower turns ------------------------------------------------------------

    async def handle_borrower_message(
        self,
        conversation_id: str,
        text: str,
        *,
        payload: str | None = None,
        client_msg_id: str | None = None,
        client_ref: str | None = None,
        client_token: str | None = None,
        language_choice: str | None = None,
    ) -> TurnResult:
        """One borrower message (see _handle_borrower_message); when the conversation is then with
        the desk and nobody has it, it goes to the least busy agent on shift (auto_assign)."""
        result = await self._handle_borrower_message(
            conversation_id,
            text,
            payload=payload,
            client_msg_id=client_msg_id,
            client_ref=client_ref,
            client_token=client_token,
            language_choice=language_choice,
        )
        if result.state == "agent" and not result.duplicate:
            await self.auto_assign(conversation_id)
        return result

    async def _handle_borrower_message(
        self,
        conversation_id: str,
        text: str,
        *,
        payload: str | None = None,
        client_msg_id: str | None = None,
        client_ref: str | None = None,
        client_token: str | None = None,
        language_choice: str | None = None,
    ) -> TurnResult:
        """Store the borrower's message and route it. A ``payload`` is used only when it is one of
        the buttons the bot offers now (the transcript then shows that button's title); any other
        text reaches Rasa only as text, never as an intent. With ``client_token`` (the web chat),
        the token is checked in the same transaction that stores the message: TokenRefused when
        it no longer opens the conversation (nothing stored). ``language_choice``: the language the
        borrower chose with the widget's toggle before this message; it becomes the conversation's
        language and reaches the bot as an explicit request (``language_choice`` in the metadata)."""
        body = self._clean(text)
        if language_choice is not None and language_choice not in ("zh", "en"):
            raise InvalidInput("language must be zh or en")
        if client_msg_id is not None and not client_msg_id.isprintable():  # a NUL or lone surrogate cannot be stored
            raise InvalidInput("client_msg_id must be printable text")
        if (slowed := await self._slow_down(conversation_id, client_token)) is not None:
            return slowed  # over the per-conversation limit: not stored, not routed
        if not plausible_id(conversation_id):
            raise NotFound(conversation_id)
        async with self.locks.hold(conversation_id):
            unanswered: int | None = None  # the seq of this message, stored but never answered
            refused = False
            # The turn's statements on the driver (turn_sql): ``conv`` is in no ORM session, so
            # every column changed here is written by name.
            async with self.turns.transaction() as tx:
                conv, existing = await tx.conversation(conversation_id, client_msg_id or None)
                if conv is None:
                    raise NotFound(conversation_id)
                token_hash = conv.client_token_hash
                if client_token is not None and not self._token_opens(conv, client_token):
                    refused = True  # an idle conversation's dropped token is committed
                    if conv.client_token_hash != token_hash:
                        await tx.update(conv.id, {"client_token_hash": conv.client_token_hash})
                elif existing is not None:
                    if conv.state != "bot" or await tx.answered(conv.id, existing):
                        return TurnResult(borrower_seq=existing, duplicate=True, state=conv.state)
                    unanswered = existing  # stored, but the turn failed before an answer was stored
                if unanswered is None and not refused:
                    button = await self._chosen_button(tx, conv.id, payload)
                    changes: dict[str, Any] = {}
                    if language_choice is not None and language_choice != conv.language:
                        changes["language"] = language_choice
                    if self.is_idle(conv):  # a new Rasa sender: the bot forgets what it knew (verification)
                        changes["rasa_sender_id"] = secrets.token_hex(16)
                    reopened = False
                    if conv.state == "closed":
                        changes.update(state="bot", outcome=None, assigned_agent=None)
                        reopened = True
                    # What is stored and shown is redacted (a chosen button shows its title); Rasa
                    # still gets the message as typed.
                    shown = button["title"] if button else body
                    identity_answer = conv.awaiting_identity and changes.get("state", conv.state) == "bot"
                    stored_body = redact(shown, identity_answer=identity_answer)
                    if conv.awaiting_identity:
                        changes["awaiting_identity"] = False
                    entry = {"sender": "borrower", "text": stored_body, "client_msg_id": client_msg_id}
                    (borrower_msg,) = await self._append_turn(tx, conv, [entry], changes)
            if refused:
                raise TokenRefused(conversation_id)
            if unanswered is not None:  # the same message again: its turn now, nothing stored twice
                borrower_seq, button = unanswered, None
            else:
                borrower_seq = borrower_msg.seq
                if reopened or "language" in changes:  # the desks list the conversation's language
                    self._publish_state(conv)
                self._publish(conv, [borrower_msg])
            if conv.state == "agent":
                return TurnResult(borrower_seq=borrower_seq, state="agent")
            stopped = await self._stop_reply(conv, body, borrower_seq)
            if stopped is not None:
                return stopped
            metadata = {"channel": conv.channel, "language": conv.language}
            if language_choice is not None:
                metadata["language_choice"] = language_choice
            if client_ref:
                metadata["client_ref"] = client_ref
            if conv.reminder_ref:
                metadata["reminder_ref"] = conv.reminder_ref
            message = button["payload"] if button else as_text(body)
            replies, conv = await self._bot_turn(conv, message, metadata)
            return TurnResult(
                borrower_seq=borrower_seq,
                duplicate=unanswered is not None,
                replies=[message_dict(m) for m in replies],
                state=conv.state,
            )

    async def _stop_reply(self, conv: Conversation, body: str, borrower_seq: int) -> TurnResult | None:
        """A STOP ("TD", "退订", "STOP") from a verified borrower is the gateway's to answer, not the
        bot's: the ledger opts them out of the reminder's channel (or this conversation's) and the
        confirmation is the answer. None when it is no STOP or nobody is verified here (the bot
        then answers it as any message)."""
        stopper = getattr(self.accounts, "stop_reply", None)
        if stopper is None:
            return None
        result = await stopper(conv.id, body, conv.reminder_ref, conv.channel)
        if result is None:
            return None
        async with self.sessions() as s, s.begin():
            conv = await self._load(s, conv.id)
            reply = await self._append(s, conv, "bot", result["confirmation"] or t("stop_recorded", conv.language))
        self._publish(conv, [reply])
        await self._emit(conv, "stop_reply", channel=result["channel"])
        return TurnResult(borrower_seq=borrower_seq, replies=[message_dict(reply)], state=conv.state)

    @staticmethod
    async def _chosen_button(tx: TurnTransaction, conversation_id: str, payload: str | None) -> dict[str, Any] | None:
        if not payload:
            return None
        for button in offered_buttons(await tx.recent_messages(conversation_id)) or []:
            if button.get("payload") == payload:
                return button
        return None

    async def _ask_rasa(
        self, conv: Conversation, message: str, metadata: dict[str, Any]
    ) -> tuple[BotTurn | None, str | None]:
        """Rasa's answer to one message and the kind of failure when there is no answer (counted
        and logged, never with the message text).

        After ``slow_notice_s`` the borrower is told the assistant is still working; the answer is
        awaited up to the pool's long timeout and delivered whenever it comes."""
        call = asyncio.ensure_future(self.rasa.send(conv.rasa_sender, message, metadata))
        try:
            done, _ = await asyncio.wait({call}, timeout=self.slow_notice_s)
            if not done:
                async with self.sessions() as s, s.begin():
                    conv = await self._load(s, conv.id)
                    notice = await self._append(s, conv, "system", t("bot_still_working", conv.language))
                self._publish(conv, [notice])
                await self._deliver(conv, [notice])
            turn = await call
        except RasaUnavailable as exc:
            self.failures[exc.reason] += 1
            log.warning("bot turn failed for conversation %s: %s (%s)", conv.id, exc.reason, exc)
            return None, exc.reason
        finally:
            call.cancel()
        if not turn.replies and not turn.handoff_reason:
            self.failures["empty_answer"] += 1
            log.warning(
                "bot turn failed for conversation %s: Rasa gave no answer (an action failed or is down)", conv.id
            )
            return turn, "empty_answer"
        return turn, None

    async def _bot_turn(
        self, conv: Conversation, message: str, metadata: dict[str, Any]
    ) -> tuple[list[TurnMessage], Conversation]:
        """Send one message to Rasa and store what it answers (caller holds the lock until then)."""
        self.hub.publish(f"conv:{conv.id}", {"type": "typing", "on": True, "sender": "bot"})
        turn, failure = await self._ask_rasa(conv, message, metadata)
        stored: list[TurnMessage] = []
        state_changed = False
        async with self.turns.transaction() as tx:
            # The turn's lock is held since the borrower's message was stored, and every change of
            # a conversation takes it: `conv` is as the database has it, bar last_seq, which the
            # append's UPDATE ... RETURNING reads. One UPDATE and one INSERT store the answer.
            entries: list[dict[str, Any]] = []
            changes: dict[str, Any] = {}
            if turn is None or failure:
                notice = {"timeout": "bot_timed_out", "empty_answer": "bot_no_answer"}.get(
                    failure or "", "bot_unavailable"
                )
                entries.append({"sender": "system", "text": t(notice, conv.language)})
            else:
                language = turn.language if turn.language and turn.language != conv.language else conv.language
                if language != conv.language:
                    changes["language"] = language
                if turn.expects_identity_answer != conv.awaiting_identity:
                    changes["awaiting_identity"] = turn.expects_identity_answer
                entries += [{"sender": "bot", "text": r.text, "buttons": r.buttons} for r in turn.replies]
                if turn.handoff_reason and conv.state == "bot":
                    changes.update(
                        state="agent",
                        escalation_reason=turn.handoff_reason[:64],
                        escalated_at=self.clock(),
                        assigned_agent=None,
                    )
                    state_changed = True
                    notice = self._handoff_text(language)
                    if not self._assigned_at_once():  # the borrower's place among those waiting
                        ahead = await tx.waiting_count(conv.id)
                        notice += "\n" + t("queue_position", language, position=str(ahead + 1))
                    entries.append({"sender": "system", "text": notice})
            stored = await self._append_turn(tx, conv, entries, changes)
        csat_asked = False
        if turn is not None and not failure and turn.conversation_ended and conv.state == "bot":
            # Rare (the conversation's end): its own ORM transaction, off the turn's hot path.
            async with self.sessions() as s, s.begin():
                csat_asked = await csat.ask(s, conv, "bot_end", self.clock())
        self._publish(conv, stored)
        self.hub.publish(f"conv:{conv.id}", {"type": "typing", "on": False, "sender": "bot"})
        if state_changed:
            self._summaries.pop(conv.id, None)  # the escalation names a case (and maybe a borrower) now
            self._publish_state(conv, escalated=True)
            await self._emit(conv, "handoff", reason=conv.escalation_reason)
        if csat_asked:
            self._publish_csat(conv, csat.ASKED)
        return stored, conv

    def _assigned_at_once(self) -> bool:
        """Whether a hand-off now is likely to go straight to an agent (auto-assignment on and an
        agent's desk open): then the borrower is told no place in the queue."""
        return self.auto_assignment and self.shift is not None and bool(self.shift.presence.online())

    # ---- for the desk's other modules (desk_actions, desk_history) -------------------

    async def conversation(self, conversation_id: str) -> Conversation:
        """The conversation as stored now; NotFound when there is none."""
        async with self.sessions() as s:
            return await self._load(s, conversation_id)

    async def conversation_for(self, agent: AgentIdentity, conversation_id: str) -> Conversation:
        """The conversation as stored now, if this agent may see it; NotFound otherwise (its
        existence is not revealed)."""
        async with self.sessions() as s:
            return await self._load_for(s, agent, conversation_id)

    @asynccontextmanager
    async def writing_transcript(self, conversation_id: str) -> AsyncIterator[TranscriptWriter]:
        """One transaction that appends to the conversation's transcript (the caller holds the
        conversation's lock when the order matters); the messages go to the desks and the
        borrower's widget once it has committed. NotFound for an unknown conversation."""
        async with self.sessions() as s, s.begin():
            writer = TranscriptWriter(self, s, await self._load(s, conversation_id))
            yield writer
        self._publish(writer.conversation, writer.messages)

    async def add_line(
        self, conversation_id: str, text: str, *, sender: str = "system", agent_only: bool = True
    ) -> Message:
        """One line in the transcript (by default a system line for the desk only), published."""
        async with self.writing_transcript(conversation_id) as writer:
            return await writer.append(sender, text, agent_only=agent_only)

    # ---- agent actions -------------------------------------------------------------

    @staticmethod
    def can_view(agent: AgentIdentity, conv: Conversation) -> bool:
        return agent.is_supervisor or conv.assigned_agent in (None, agent.username)

    async def _load_for(self, s: AsyncSession, agent: AgentIdentity, conversation_id: str) -> Conversation:
        """The conversation if this agent may see it; NotFound otherwise (its existence is not revealed)."""
        conv = await self._load(s, conversation_id)
        if not self.can_view(agent, conv):
            raise NotFound(conversation_id)
        return conv

    async def view(self, agent: AgentIdentity, conversation_id: str) -> dict[str, Any]:
        conv = await self.get(conversation_id)
        if conv is None or not self.can_view(agent, conv):
            raise NotFound(conversation_id)
        verification = getattr(self.accounts, "verification", None)
        messages = await self.transcript(conversation_id, include_agent_only=True)
        verified = await verification(conversation_id) if verification else None
        return {
            "conversation": conversation_dict(conv, self.clock()),
            "messages": messages,
            "account": await self.accounts.account(conversation_id),
            "verification": verified,
            "handoff": await self._handoff_card(conv, messages, verified),
        }

    async def _handoff_card(
        self, conv: Conversation, messages: list[dict[str, Any]], verification: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The card at the top of an escalated conversation (None unless it is with the desk):
        the gateway's reason and wait, the ledger's facts (case number, summary, language, loans)
        and what the borrower wrote so far (as stored: identity answers already hidden)."""
        if conv.state != "agent" or conv.escalated_at is None:
            return None
        reader = getattr(self.accounts, "handoff", None)
        facts = (await reader(conv.id) if reader is not None else None) or {}
        said = [m["text"] for m in messages if m["sender"] == "borrower" and not m["agent_only"]]
        linked = facts.get("borrower_linked", False)
        return {
            "reason": conv.escalation_reason,
            "escalated_at": conv.escalated_at.isoformat(),
            "case_number": facts.get("case_number"),
            "summary": facts.get("summary"),
            "language": facts.get("borrower_language") or conv.language,
            "conversation_language": conv.language,
            "verified": verification["verified"] if verification else (False if linked else None),
            "stop_contact": facts.get("stop_contact", False),
            "loans": facts.get("loans", []),
            "borrower_messages": len(said),
            "last_borrower_messages": said[-HANDOFF_LAST_MESSAGES:],
        }

    async def record_promise(
        self, agent: AgentIdentity, conversation_id: str, loan_number: Any, amount: Any, promised_date: Any
    ) -> dict[str, Any]:
        """The borrower's promise to pay, recorded by the agent who has the conversation, through
        the ledger's rules; an agent-only line in the transcript and the desk's audit say so."""
        if not isinstance(loan_number, str) or not plausible_id(loan_number):
            raise InvalidInput("loan_number must be one of the borrower's loan numbers")
        if not isinstance(amount, str) or not MONEY.fullmatch(amount) or Decimal(amount) <= 0:
            raise InvalidInput('amount must be a positive amount as a string with at most 2 decimals ("500.00")')
        if not isinstance(promised_date, str):
            raise InvalidInput("promised_date must be a date, YYYY-MM-DD")
        try:
            day = date.fromisoformat(promised_date)
        except ValueError:
            raise InvalidInput("promised_date must be a date, YYYY-MM-DD") from None
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s:
                conv = await self._load_for(s, agent, conversation_id)
            if conv.state != "agent" or conv.assigned_agent != agent.username:
                raise Forbidden("take the conversation over before recording a promise")
            recorder = getattr(self.accounts, "record_promise", None)
            promise = await recorder(conv.id, agent.username, loan_number, Decimal(amount), day) if recorder else None
            if promise is None:
                raise Conflict("the borrower has not verified in this conversation: no promise can be recorded")
            async with self.sessions() as s, s.begin():
                conv = await self._load(s, conversation_id)
                what = f"{promise['amount']} by {promise['promised_date']} ({loan_number})"
                line = f"{agent.display_name}: 还款承诺 / promise recorded: {what}"
                msg = await self._append(s, conv, "system", line, agent_only=True)
            self._publish(conv, [msg])
        await self.audit.record(
            agent.username,
            "desk.promise",
            conversation_id,
            {"loan_number": loan_number, "amount": promise["amount"], "promised_date": promise["promised_date"]},
        )
        return promise

    async def agent_typing(self, agent: AgentIdentity, conversation_id: str, on: Any) -> None:
        """Show (or stop showing) the borrower that the agent who has the conversation is typing.
        Not stored and not audited: it changes nothing."""
        if not isinstance(on, bool):
            raise InvalidInput("on must be true or false")
        conv = await self.get(conversation_id)
        if conv is None or not self.can_view(agent, conv):
            raise NotFound(conversation_id)
        if conv.state != "agent" or conv.assigned_agent != agent.username:
            raise Forbidden("take the conversation over first")
        self.hub.publish(f"conv:{conv.id}", {"type": "typing", "on": on, "sender": "agent"})

    async def _canned_values(self, agent: AgentIdentity, conv: Conversation) -> dict[str, str | None]:
        """What a canned reply's placeholders stand for in this conversation (None: not known)."""
        reader = getattr(self.accounts, "handoff", None)
        facts = (await reader(conv.id) if reader is not None else None) or {}
        loans = facts.get("loans") or []
        loan = next((x for x in loans if x["days_past_due"] > 0), loans[0] if loans else None)
        next_due = (loan or {}).get("next_due") or {}
        return {
            "agent_name": agent.display_name,
            "borrower_name": facts.get("borrower_name"),
            "case_number": facts.get("case_number"),
            "loan_number": loan["loan_number"] if loan else None,
            "amount_due": loan["overdue_total"] if loan else None,
            "next_due_date": next_due.get("due_date"),
            "next_due_amount": next_due.get("amount"),
        }

    async def _canned_set(self) -> CannedReplies:
        return await self.canned_source() if self.canned_source is not None else self.canned

    async def canned_replies(self, agent: AgentIdentity, conversation_id: str, language: str | None) -> dict[str, Any]:
        """The canned replies filled for this conversation, in its language unless another is
        asked; a reply whose placeholders have no value here has ``text`` None and names them."""
        if language is not None and language not in ("zh", "en"):
            raise InvalidInput("language must be zh or en")
        conv = await self.get(conversation_id)
        if conv is None or not self.can_view(agent, conv):
            raise NotFound(conversation_id)
        language = language or conv.language
        values = await self._canned_values(agent, conv)
        replies = []
        for reply in (await self._canned_set()).replies:
            text, missing = reply.fill(language, values)
            replies.append({"id": reply.id, "title": reply.title[language], "text": text, "missing": missing})
        return {"language": language, "replies": replies}

    async def canned_text(self, agent: AgentIdentity, conversation_id: str, canned_id: str) -> str:
        """The text canned reply ``canned_id`` sends in this conversation (in its language)."""
        conv = await self.get(conversation_id)
        if conv is None or not self.can_view(agent, conv):
            raise NotFound(conversation_id)
        reply = (await self._canned_set()).get(canned_id)
        if reply is None:
            raise InvalidInput(f"no canned reply {canned_id!r}")
        text, missing = reply.fill(conv.language, await self._canned_values(agent, conv))
        if text is None:
            raise InvalidInput(f"canned reply {canned_id!r} needs {', '.join(missing)}, unknown for this conversation")
        return text

    async def verify_by_other_means(
        self, agent: AgentIdentity, conversation_id: str, method: str, note: str = ""
    ) -> dict[str, Any]:
        """The agent verified the borrower another way (a call back to the number on record...):
        the ledger clears the verification lock and audits it as the agent. The note is for the
        audit and may hold no digits, so no identity answer reaches it."""
        if method not in MANUAL_VERIFICATION_METHODS:
            raise InvalidInput(f"method must be one of {', '.join(MANUAL_VERIFICATION_METHODS)}")
        note = (note or "").strip()
        if len(note) > 500 or any(ch.isdigit() for ch in note):
            raise InvalidInput(
                "the note may hold no digits (no identity answer goes to the audit) and at most 500 characters"
            )
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s:
                conv = await self._load_for(s, agent, conversation_id)
            if conv.state != "agent" or (conv.assigned_agent != agent.username and not agent.is_supervisor):
                raise Forbidden("take the conversation over before verifying the borrower")
            recorder = getattr(self.accounts, "verify_by_other_means", None)
            result = await recorder(conversation_id, agent.username, method, note or None) if recorder else None
            if result is None:
                raise Conflict("the ledger names no borrower for this conversation yet")
            async with self.sessions() as s, s.begin():
                conv = await self._load(s, conversation_id)
                msg = await self._append(
                    s, conv, "system", f"{agent.display_name}: verified by other means ({method})", agent_only=True
                )
            self._publish(conv, [msg])
        return result

    async def queue(
        self, agent: AgentIdentity, which: str = "all", label: str | None = None, query: QueueQuery | None = None
    ) -> list[dict[str, Any]]:
        """Escalated or taken conversations, then live bot conversations an agent may pick;
        ``which``: all, mine (assigned to this agent), unassigned (nobody's, bot conversations
        too), waiting (with the desk, nobody's); ``label``: only those with this label; ``query``
        (queue_filters.QueueQuery) the same and more: reason, language and waiting time in SQL,
        label, bucket and search on the selected rows (the last two on the ledger's batched
        summaries), then the first QUEUE_LIMIT lines."""
        query = query or QueueQuery(which=which, label=label)
        if query.which not in QUEUE_FILTERS:
            raise InvalidInput(f"filter must be one of {', '.join(QUEUE_FILTERS)}")
        now = self.clock()
        where = [
            or_(
                Conversation.state == "agent",
                (Conversation.state == "bot")
                & (Conversation.updated_at >= now - LIVE_WINDOW)
                & (Conversation.last_seq > 0),
            )
        ]
        if not agent.is_supervisor:
            where.append(or_(Conversation.assigned_agent.is_(None), Conversation.assigned_agent == agent.username))
        if query.which == "mine":
            where += [Conversation.state == "agent", Conversation.assigned_agent == agent.username]
        elif query.which == "unassigned":
            where.append(Conversation.assigned_agent.is_(None))
        elif query.which == "waiting":
            where += [Conversation.state == "agent", Conversation.assigned_agent.is_(None)]
        if query.reason is not None:
            where.append(Conversation.escalation_reason == query.reason)
        if query.language is not None:
            where.append(Conversation.language == query.language)
        if query.waiting_min is not None:
            where += [
                Conversation.state == "agent",
                Conversation.assigned_agent.is_(None),
                Conversation.escalated_at <= now - timedelta(minutes=query.waiting_min),
            ]
        order = (Conversation.escalated_at.is_(None), Conversation.escalated_at, Conversation.updated_at.desc())
        if not query.after_sql:
            async with self.sessions() as s:
                stmt = select(Conversation).where(*where).order_by(*order).limit(QUEUE_LIMIT)
                convs = list((await s.execute(stmt)).scalars().all())
            return await self._queue_items(agent, convs, now)
        # Label, bucket or search: the few columns they need of every selected row, then whole
        # rows for the first QUEUE_LIMIT that pass.
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    select(
                        Conversation.id,
                        Conversation.rasa_sender_id,
                        Conversation.escalation_reason,
                        Conversation.labels if query.label is not None else null().label("labels"),
                    )
                    .where(*where)
                    .order_by(*order)
                )
            ).all()
        if query.label is not None:
            rows = [r for r in rows if query.label in (r.labels or [])]
        summaries = await self._summaries_of(rows, now) if query.needs_summaries else {}
        kept = [r.id for r in rows if line_matches(query, r.id, r.escalation_reason, r.labels, summaries.get(r.id))][
            :QUEUE_LIMIT
        ]
        if not kept:
            return []
        async with self.sessions() as s:
            found = {
                c.id: c for c in (await s.execute(select(Conversation).where(Conversation.id.in_(kept)))).scalars()
            }
        convs = [found[i] for i in kept if i in found]
        return await self._queue_items(agent, convs, now, summaries if query.needs_summaries else None)

    def queue_buckets(self) -> tuple[str, ...] | None:
        """The ledger policy's bucket names (the queue's ``bucket`` filter), None when the account
        reader does not say."""
        names = getattr(self.accounts, "bucket_names", None)
        return tuple(names()) if names is not None else None

    async def queue_item(self, agent: AgentIdentity, conversation_id: str) -> dict[str, Any]:
        """One queue line (for a desk that meets a conversation it has not listed yet)."""
        conv = await self.get(conversation_id)
        if conv is None or not self.can_view(agent, conv):
            raise NotFound(conversation_id)
        return (await self._queue_items(agent, [conv], self.clock()))[0]

    async def _queue_items(
        self,
        agent: AgentIdentity,
        convs: list[Conversation],
        now: datetime,
        summaries: dict[str, dict[str, Any] | None] | None = None,
    ) -> list[dict[str, Any]]:
        last_texts: dict[str, str] = {}
        unread: dict[str, int] = {}
        if convs:
            async with self.sessions() as s:
                read = DeskRead.__table__.alias("r")
                counted = await s.execute(
                    select(Message.conversation_id, func.count())
                    .outerjoin(
                        read,
                        (read.c.conversation_id == Message.conversation_id) & (read.c.username == agent.username),
                    )
                    .where(
                        Message.conversation_id.in_([c.id for c in convs]),
                        Message.sender == "borrower",
                        Message.seq > func.coalesce(read.c.last_read_seq, 0),
                    )
                    .group_by(Message.conversation_id)
                )
                unread = {cid: n for cid, n in counted.all()}
                rows = await s.execute(
                    select(Message.conversation_id, Message.text).where(
                        Message.conversation_id.in_([c.id for c in convs]),
                        Message.seq
                        == select(Conversation.last_seq)
                        .where(Conversation.id == Message.conversation_id)
                        .scalar_subquery(),
                    )
                )
                last_texts = {cid: text for cid, text in rows}
        if summaries is None:
            summaries = await self._summaries_of(convs, now)
        items = []
        for c in convs:
            item = conversation_dict(c, now)
            item["last_message"] = (last_texts.get(c.id) or "")[:120]
            item["unread"] = unread.get(c.id, 0)
            summary = summaries.get(c.id)
            item["bucket"] = summary.get("bucket") if summary else None
            item["borrower_name"] = summary.get("borrower_name") if summary else None
            item["case_number"] = summary.get("case_number") if summary else None
            item["loan_numbers"] = list(summary.get("loan_numbers") or []) if summary else []
            items.append(item)
        return items

    async def _summaries_of(self, convs: Sequence[Any], now: datetime) -> dict[str, dict[str, Any] | None]:
        """The queue lines' borrower names, buckets, case and loan numbers, each reused for
        SUMMARY_TTL (a desk refreshing its queue must not re-derive every listed account each
        time); those not cached are read SUMMARY_BATCH at a time when the reader can
        (``summaries``), else one by one. ``convs``: conversations or rows with ``id`` and
        ``rasa_sender_id``."""
        out: dict[str, dict[str, Any] | None] = {}
        missing = []
        for c in convs:
            cached = self._summaries.get(c.id)
            if cached is not None and now - cached[0] < SUMMARY_TTL:
                out[c.id] = cached[1]
            else:
                missing.append(c)
        if not missing:
            return out
        batch = getattr(self.accounts, "summaries", None)
        if batch is not None:
            read: dict[str, dict[str, Any] | None] = {}
            for start in range(0, len(missing), SUMMARY_BATCH):
                read |= await batch(missing[start : start + SUMMARY_BATCH])
        else:
            reader = getattr(self.accounts, "summary", None) or self.accounts.account
            read = {c.id: await reader(c.id) for c in missing}
        if len(self._summaries) + len(read) > 10000:
            self._summaries = {k: v for k, v in self._summaries.items() if now - v[0] < SUMMARY_TTL}
        for conversation_id, summary in read.items():
            self._summaries[conversation_id] = (now, summary)
        return out | read

    async def take_over(self, agent: AgentIdentity, conversation_id: str) -> dict[str, Any]:
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load_for(s, agent, conversation_id)
                if conv.state == "closed":
                    raise Conflict("conversation is closed")
                if conv.assigned_agent == agent.username:
                    raise Conflict("already yours")
                previous = conv.assigned_agent
                was_bot = conv.state == "bot"
                conv.state = "agent"
                conv.assigned_agent = agent.username
                if was_bot:
                    conv.escalation_reason = "agent_pickup"
                    conv.escalated_at = self.clock()
                msgs = [
                    await self._append(s, conv, "system", t("agent_joined", conv.language, name=agent.display_name))
                ]
            self._publish(conv, msgs)
            self._publish_state(conv, handed_over=True, previous_agent=previous)
            await self.audit.record(
                agent.username,
                "desk.take_over",
                conv.id,
                {"from_state": "bot" if was_bot else "agent", "previous_agent": previous},
            )
            await self._emit(conv, "takeover", agent=agent.username, reason=conv.escalation_reason, from_bot=was_bot)
            await self._deliver(conv, msgs)
            return conversation_dict(conv, self.clock())

    async def agent_message(
        self,
        agent: AgentIdentity,
        conversation_id: str,
        text: str,
        agent_only: bool = False,
        canned_id: str | None = None,
    ) -> dict[str, Any]:
        """An agent's reply (or, agent_only, a note for the desk). A reply is checked against the
        compliance rules first: one that breaks them is neither stored nor sent, and the stop is
        audited (which rules, never the text) for the supervisors' count."""
        try:
            return await self._agent_message(agent, conversation_id, text, agent_only, canned_id)
        except MessageStopped as stopped:
            findings = [{"rule": f.rule, "category": f.category} for f in stopped.verdict.findings]
            await self.audit.record(agent.username, "desk.reply_stopped", conversation_id, {"findings": findings})
            raise

    async def _agent_message(
        self, agent: AgentIdentity, conversation_id: str, text: str, agent_only: bool, canned_id: str | None = None
    ) -> dict[str, Any]:
        body = self._clean(text)
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load_for(s, agent, conversation_id)
                if not agent_only and (conv.state != "agent" or conv.assigned_agent != agent.username):
                    raise Forbidden("take the conversation over before replying")
                if not agent_only and self.guard is not None:
                    verdict = self.guard.check(body)
                    if not verdict.allowed:
                        raise MessageStopped(verdict)  # neither stored nor sent (agent_message audits it)
                refusal = None if agent_only else await self._contact_refusal(s, conv)
                msg = await self._append(
                    s,
                    conv,
                    "agent",
                    body,
                    agent_only=agent_only or refusal is not None,
                    sender_name=agent.display_name[:64],
                )
                msgs = [msg]
                if refusal is not None:
                    msgs.append(
                        await self._append(
                            s,
                            conv,
                            "system",
                            f"未发送 / not sent ({refusal.reason}): {refusal.detail}",
                            agent_only=True,
                        )
                    )
            self._publish(conv, msgs)
            if refusal is not None:
                await self.audit.record(
                    agent.username, "desk.reply_refused", conv.id, {"seq": msg.seq, "reason": refusal.reason}
                )
                raise ContactRefused(refusal, message_dict(msg))
            await self.audit.record(
                agent.username,
                "desk.note" if agent_only else "desk.reply",
                conv.id,
                {"seq": msg.seq, "chars": len(body), **({"canned_id": canned_id} if canned_id else {})},
            )
            await self._emit(conv, "agent_message", agent=agent.username, agent_only=agent_only, text=msg.text)
            failure = await self._deliver(conv, [msg])
            if failure is not None:
                await self._undelivered(agent, conv, msg, failure)
            return message_dict(msg)

    async def _contact_refusal(self, s: AsyncSession, conv: Conversation) -> Refusal | None:
        """Why an agent reply may not be pushed to this app channel now (contact_rules), or None.
        Only channels with an outbound API are checked: the web widget is not a push."""
        if conv.channel not in self.outbound:
            return None
        last_borrower_at = (
            await s.execute(
                select(Message.created_at)
                .where(Message.conversation_id == conv.id, Message.sender == "borrower")
                .order_by(Message.seq.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        reader = getattr(self.accounts, "contact_rules", None)
        rules = await reader(conv.id) if reader is not None else None
        return reply_refusal(conv.channel, self.clock(), last_borrower_at, rules)

    async def _undelivered(self, agent: AgentIdentity, conv: Conversation, msg: Message, reason: str) -> None:
        """The channel did not take the reply: keep it agent-only with the reason, tell the desks, raise."""
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(Message)
                .where(Message.conversation_id == conv.id, Message.seq == msg.seq)
                .values(agent_only=True)
            )
            msg.agent_only = True
            note = await self._append(
                s, conv, "system", f"未送达 / not delivered: {reason}"[:MAX_TEXT], agent_only=True
            )
        self._publish(conv, [note])
        self.hub.publish(
            "desk",
            {
                "type": "delivery_failed",
                "conversation_id": conv.id,
                "assigned_agent": conv.assigned_agent,
                "seq": msg.seq,
                "reason": reason,
            },
        )
        await self.audit.record(agent.username, "desk.reply_failed", conv.id, {"seq": msg.seq})
        raise DeliveryFailed(reason, message_dict(msg))

    async def hand_back(
        self,
        agent: AgentIdentity,
        conversation_id: str,
        note: str = "",
        slots: dict[str, Any] | None = None,
        internal_note: str = "",
    ) -> dict[str, Any]:
        slots = dict(slots or {})
        unknown = sorted(set(slots) - set(AGENT_SLOTS))
        if unknown:
            raise InvalidInput(f"agents may not set slot(s): {', '.join(unknown)}")
        if "language" in slots and slots["language"] not in ("zh", "en"):
            raise InvalidInput("language must be zh or en")
        note = mask_identity_numbers(storable((note or "").strip()[:MAX_TEXT], "note")) or ""
        internal_note = storable((internal_note or "").strip()[:MAX_TEXT], "internal note")
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load_for(s, agent, conversation_id)
                if conv.state != "agent":
                    raise Conflict("only a conversation with an agent can be handed back")
                if conv.assigned_agent != agent.username and not agent.is_supervisor:
                    raise Forbidden("not your conversation")
                conv.state = "bot"
                conv.assigned_agent = None
                if slots.get("language"):
                    conv.language = slots["language"]
                msgs = []
                if internal_note:
                    msgs.append(
                        await self._append(
                            s, conv, "agent", internal_note, agent_only=True, sender_name=agent.display_name[:64]
                        )
                    )
                handback_text = t("handback", conv.language)
                if note:
                    handback_text += "\n" + t("handback_note", conv.language, note=note)
                msgs.append(await self._append(s, conv, "system", handback_text))
            self._publish(conv, msgs)
            self._publish_state(conv)
            bot_slots = {**slots, "escalated": False}
            if note:
                bot_slots["agent_note"] = note
            slots_applied = await self.rasa.set_slots(conv.rasa_sender, bot_slots)
            await self.audit.record(
                agent.username,
                "desk.hand_back",
                conv.id,
                {"slots": sorted(slots), "note": bool(note), "slots_applied": slots_applied},
            )
            await self._emit(conv, "handback", agent=agent.username, slots=sorted(slots))
            await self._deliver(conv, msgs)
            if self.handback_intent:
                payload = {"agent_note": note, **slots}
                message = f"/{self.handback_intent}{json.dumps(payload, ensure_ascii=False)}"
                ts = int(self.clock().timestamp())
                metadata = {
                    "channel": conv.channel,
                    "language": conv.language,
                    **system_metadata(self.system_secret, conv.rasa_sender, message, ts),
                }
                replies, conv = await self._bot_turn(conv, message, metadata)
                await self._deliver(conv, replies)
            return conversation_dict(conv, self.clock())

    async def close(self, agent: AgentIdentity, conversation_id: str, outcome: str, note: str = "") -> dict[str, Any]:
        if outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}")
        storable(note, "note")
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load_for(s, agent, conversation_id)
                if conv.state == "closed":
                    raise Conflict("already closed")
                if (
                    conv.state == "agent"
                    and conv.assigned_agent not in (None, agent.username)
                    and not agent.is_supervisor
                ):
                    raise Forbidden("not your conversation")
                conv.state = "closed"
                conv.outcome = outcome
                conv.assigned_agent = None
                msgs = []
                if note.strip():
                    msgs.append(
                        await self._append(
                            s,
                            conv,
                            "agent",
                            note.strip()[:MAX_TEXT],
                            agent_only=True,
                            sender_name=agent.display_name[:64],
                        )
                    )
                msgs.append(await self._append(s, conv, "system", t("closed", conv.language)))
                csat_asked = await csat.ask(s, conv, "desk_close", self.clock())
            self._publish(conv, msgs)
            self._publish_state(conv)
            if csat_asked:
                self._publish_csat(conv, csat.ASKED)
            await self.audit.record(agent.username, "desk.close", conv.id, {"outcome": outcome})
            await self._emit(conv, "closed", agent=agent.username, outcome=outcome)
            await self._deliver(conv, msgs)
            return conversation_dict(conv, self.clock())

    async def record_view(self, agent: AgentIdentity, conversation_id: str, last_seq: int | None = None) -> None:
        """Audit the view and remember how far the agent has read (``last_seq``: what was shown)."""
        if last_seq is not None:
            try:
                async with self.sessions() as s, s.begin():
                    read = await s.get(DeskRead, (conversation_id, agent.username))
                    if read is None:
                        s.add(
                            DeskRead(conversation_id=conversation_id, username=agent.username, last_read_seq=last_seq)
                        )
                    elif read.last_read_seq < last_seq:
                        read.last_read_seq = last_seq
            except IntegrityError:  # the same agent's other tab recorded it at the same moment
                pass
        await self.audit.record(agent.username, "desk.view", conversation_id, {})

    # ---- assignment and labels -------------------------------------------------------

    async def _least_busy(self, s: AsyncSession, usernames: list[str]) -> tuple[str, str, int] | None:
        """The active agent (role agent) among ``usernames`` with the fewest conversations, under
        the capacity: (username, display name, conversations now); ties go by username."""
        load = func.count(Conversation.id)
        rows = await s.execute(
            select(Agent.username, Agent.display_name, load)
            .outerjoin(Conversation, (Conversation.assigned_agent == Agent.username) & (Conversation.state == "agent"))
            .where(Agent.username.in_(usernames), Agent.active.is_(True), Agent.role == "agent")
            .group_by(Agent.username, Agent.display_name)
            .order_by(load, Agent.username)
        )
        for username, display_name, count in rows.all():
            if count < self.capacity:
                return username, display_name, count
        return None

    async def auto_assign(self, conversation_id: str) -> str | None:
        """Give a conversation that is with the desk and nobody's to the least busy agent with a
        desk open (DeskPresence) and under the capacity; the borrower sees the agent's display
        name join. Returns the agent, or None (it waits). Two assignments at the same instant may
        both count the same agent free: the capacity is a target, not a lock."""
        online = self.shift.presence.online() if self.shift is not None and self.auto_assignment else []
        if not online or self.capacity <= 0:
            return None
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load(s, conversation_id)
                if conv.state != "agent" or conv.assigned_agent is not None:
                    return None
                chosen = await self._least_busy(s, online)
                if chosen is None:
                    return None
                username, display_name, load = chosen
                conv.assigned_agent = username
                msgs = [await self._append(s, conv, "system", t("agent_joined", conv.language, name=display_name))]
            self._publish(conv, msgs)
            self._publish_state(conv, handed_over=True)
            await self.audit.record(
                username, "desk.auto_assigned", conv.id, {"load_before": load, "capacity": self.capacity}
            )
            await self._deliver(conv, msgs)
        return username

    async def assign_waiting(self) -> int:
        """Assign the conversations waiting for an agent, oldest first, while someone is free
        (an agent's desk just opened); how many were assigned."""
        if not self.auto_assignment:
            return 0
        async with self.sessions() as s:
            waiting = (
                await s.execute(
                    select(Conversation.id)
                    .where(Conversation.state == "agent", Conversation.assigned_agent.is_(None))
                    .order_by(Conversation.escalated_at)
                    .limit(200)
                )
            ).scalars()
            ids = list(waiting)
        assigned = 0
        for conversation_id in ids:
            if await self.auto_assign(conversation_id) is None:
                break
            assigned += 1
        return assigned

    async def reassign(self, supervisor: AgentIdentity, conversation_id: str, username: Any) -> dict[str, Any]:
        """A supervisor gives a conversation with the desk to another agent; the displaced
        agent's desk is told at once (``previous_agent`` in the event)."""
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load_for(s, supervisor, conversation_id)
                if not supervisor.is_supervisor:
                    raise Forbidden("only a supervisor reassigns a conversation")
                if not isinstance(username, str) or not plausible_id(username):
                    raise InvalidInput("agent must be the username of an active agent")
                target = await s.get(Agent, username)
                if target is None or not target.active or target.role == "analyst":
                    raise InvalidInput(f"no active agent or supervisor named {username!r}")
                if conv.state != "agent":
                    raise Conflict("only a conversation with the desk can be reassigned")
                if conv.assigned_agent == username:
                    raise Conflict(f"already assigned to {username}")
                previous = conv.assigned_agent
                conv.assigned_agent = username
                note = f"{supervisor.display_name}: 转给 / reassigned to {target.display_name}"
                msgs = [await self._append(s, conv, "system", note, agent_only=True)]
            self._publish(conv, msgs)
            self._publish_state(conv, handed_over=True, previous_agent=previous)
            await self.audit.record(supervisor.username, "desk.reassigned", conv.id, {"from": previous, "to": username})
            return conversation_dict(conv, self.clock())

    @staticmethod
    def _labels(value: Any, key: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(x, str) and LABEL.fullmatch(x) for x in value):
            raise InvalidInput(f"{key} must be a list of labels (1-32 letters, digits, _ or -)")
        return value

    async def set_labels(self, agent: AgentIdentity, conversation_id: str, add: Any, remove: Any) -> dict[str, Any]:
        """Add and remove labels on a conversation the agent may see (at most MAX_LABELS)."""
        to_add, to_remove = self._labels(add, "add"), self._labels(remove, "remove")
        if not to_add and not to_remove:
            raise InvalidInput("give labels to add or remove")
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load_for(s, agent, conversation_id)
                current = set(conv.labels or [])
                labels = sorted((current - set(to_remove)) | set(to_add))
                if len(labels) > MAX_LABELS:
                    raise InvalidInput(f"at most {MAX_LABELS} labels on a conversation")
                conv.labels = labels
            self._publish_state(conv)
            await self.audit.record(
                agent.username,
                "desk.labels",
                conv.id,
                {"added": sorted(set(to_add) - current), "removed": sorted(set(to_remove) & current)},
            )
            return {"conversation_id": conv.id, "labels": labels}

    # ---- desk-side hooks (hand-off wording, borrower flood limit) -----------------------

    def _handoff_text(self, language: str) -> str:
        """ "Someone is joining", or the desk's hours and when the borrower will hear back."""
        if self.shift is None:
            return t("agent_joining", language)
        return self.shift.handoff_text(language, self.clock())

    async def _slow_down(self, conversation_id: str, client_token: str | None = None) -> TurnResult | None:
        """None while the conversation is within BORROWER_MESSAGES. Over it the message is
        neither stored nor sent to Rasa or the desk; the first one over gets a stored "please
        slow down" notice (published like any message), the next ones nothing more."""
        if await self.borrower_limits.hit("borrower_messages", conversation_id) is None:
            return None
        async with self.locks.hold(conversation_id):
            async with self.sessions() as s, s.begin():
                conv = await self._load(s, conversation_id)
                opens = client_token is None or self._token_opens(conv, client_token)
                if opens:
                    notice_text = t("slow_down", conv.language)
                    last = (
                        await s.execute(
                            select(Message)
                            .where(Message.conversation_id == conv.id)
                            .order_by(Message.seq.desc())
                            .limit(1)
                        )
                    ).scalar_one_or_none()
                    if last is not None and last.sender == "system" and last.text == notice_text:
                        return TurnResult(borrower_seq=last.seq, duplicate=True, state=conv.state)
                    notice = await self._append(s, conv, "system", notice_text)
            if not opens:  # an idle conversation's dropped token is committed; nothing stored
                raise TokenRefused(conversation_id)
            self._publish(conv, [notice])
            return TurnResult(borrower_seq=notice.seq, replies=[message_dict(notice)], state=conv.state)
