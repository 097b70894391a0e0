"""The gateway's tables (the only SQLAlchemy models of this package).

One ordered transcript per conversation: ``messages.seq`` is allocated by an atomic
``UPDATE conversations SET last_seq = last_seq + 1 ... RETURNING last_seq`` and is unique
per conversation, so the order holds across gateway processes and database backends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ledger.desk_door import NAMING_CONVENTION, SerialId, UTCDateTime, new_id

STATES = ("bot", "agent", "closed")
SENDERS = ("borrower", "bot", "agent", "system")
ROLES = ("agent", "supervisor", "analyst")  # an analyst sees /insights only, never a conversation


class Base(DeclarativeBase):
    """Its own metadata (the gateway's tables only) with the ledger's naming convention: one
    database and one migration history, so constraint names follow one rule."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    channel: Mapped[str] = mapped_column(String(16))  # web, wechat
    external_user_id: Mapped[str] = mapped_column(String(128))  # web: widget id; wechat: OpenID
    client_token_hash: Mapped[str | None] = mapped_column(String(64))  # web widget secret (sha256)
    # Rasa's sender id when it is not the conversation id: renewed after an idle gap so the bot
    # forgets a verification (a WeChat OpenID keeps its one conversation)
    rasa_sender_id: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5), default="zh")
    state: Mapped[str] = mapped_column(String(8), default="bot")
    assigned_agent: Mapped[str | None] = mapped_column(ForeignKey("agents.username", ondelete="SET NULL"))
    escalation_reason: Mapped[str | None] = mapped_column(String(64))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # The bot's last turn asked an identity question: the next borrower message is stored as
    # "[identity answer]" (it still reaches the bot as typed).
    awaiting_identity: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    labels: Mapped[list[Any] | None] = mapped_column(JSON)  # the desk's labels (conversations.LABEL rules)
    reminder_ref: Mapped[str | None] = mapped_column(String(16))  # the reminder its link carried (docs/outbound.md)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("state IN ('bot', 'agent', 'closed')", name="state_known"),
        UniqueConstraint("channel", "external_user_id", name="uq_conversations_channel_user"),
        Index("ix_conversations_state_updated", "state", "updated_at"),
    )

    @property
    def rasa_sender(self) -> str:
        return self.rasa_sender_id or self.id


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(8))
    sender_name: Mapped[str | None] = mapped_column(String(64))  # the agent's display name (never the login)
    text: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list[Any] | None] = mapped_column(JSON)
    agent_only: Mapped[bool] = mapped_column(Boolean, default=False)
    client_msg_id: Mapped[str | None] = mapped_column(String(128))  # idempotency key (widget id, WeChat MsgId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_msg_id", name="uq_messages_conversation_client_msg"),
        CheckConstraint("sender IN ('borrower', 'bot', 'agent', 'system')", name="sender_known"),
    )


class Agent(Base):
    __tablename__ = "agents"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("role IN ('agent', 'supervisor', 'analyst')", name="role_known"),)


class DeskRead(Base):
    """How far an agent has read a conversation (the desk's unread count is what came after)."""

    __tablename__ = "desk_reads"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("agents.username", ondelete="CASCADE"), primary_key=True)
    last_read_seq: Mapped[int] = mapped_column(Integer)


class DeskPlanCard(Base):
    """A relief plan an agent sent to the borrower as a card (gateway/desk_actions.py): which
    ledger offer it carries and whether the borrower accepted it. The figures are in the card's
    message; the arrangement is the ledger's."""

    __tablename__ = "desk_plan_cards"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # the card's message in the transcript
    offer_id: Mapped[str] = mapped_column(String(64))  # the ledger's offer (read through its door only)
    loan_number: Mapped[str] = mapped_column(String(32))
    plan_type: Mapped[str] = mapped_column(String(32))
    sent_by: Mapped[str | None] = mapped_column(ForeignKey("agents.username", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(8), default="sent")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("status IN ('sent', 'accepted')", name="status_known"),)


class CsatRating(Base):
    """The rating a web borrower was asked for when the conversation ended (the bot said
    goodbye, or an agent closed it): a row when asked, its score once given (gateway/csat.py)."""

    __tablename__ = "csat_ratings"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    rasa_sender_id: Mapped[str] = mapped_column(String(64))  # the analytics conversation the rating is for
    asked_because: Mapped[str] = mapped_column(String(16))  # bot_end | desk_close
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score_range"),
        CheckConstraint("asked_because IN ('bot_end', 'desk_close')", name="asked_because_known"),
    )


class AgentSession(Base):
    """A desk login; only the sha256 of the cookie value is stored."""

    __tablename__ = "agent_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("agents.username", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CannedReplyRow(Base):
    """A canned reply as supervisors keep it on the desk (gateway/canned_store.py): the packaged
    canned_replies.yaml seeds the ids the table lacks at start-up; a row is never deleted, only
    retired. ``version`` grows with every save (a save naming an older one is refused)."""

    __tablename__ = "desk_canned_replies"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)  # the desk lists replies in this order
    title: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"zh": ..., "en": ...}
    text: Mapped[dict[str, Any]] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(64))  # the supervisor; None: seeded from the file
