"""ORM models: the ledger's records. Charges (penalty interest, late fees) are not stored:
the domain derives them from the schedule, the payments and the arrangements for any date.

Invariants are checked twice: by the services/domain in Python and by the database
(CHECK, UNIQUE and foreign-key constraints below).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import Money, Rate, SerialId, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def positive(column: str) -> CheckConstraint:
    return CheckConstraint(f"CAST({column} AS NUMERIC) > 0", name=f"{column}_positive")


def non_negative(column: str) -> CheckConstraint:
    return CheckConstraint(f"CAST({column} AS NUMERIC) >= 0", name=f"{column}_non_negative")


class Borrower(Base):
    __tablename__ = "borrowers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    date_of_birth: Mapped[date] = mapped_column(Date)
    national_id_hash: Mapped[str] = mapped_column(String(128))
    national_id_last4: Mapped[str] = mapped_column(String(4))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    demo_key: Mapped[str | None] = mapped_column(String(8), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    loans: Mapped[list[Loan]] = relationship(back_populates="borrower", lazy="raise")
    contact_preference: Mapped[ContactPreference | None] = relationship(lazy="raise")

    __table_args__ = (CheckConstraint("language IN ('zh', 'en')", name="language_known"),)


class ContactPreference(Base):
    __tablename__ = "contact_preferences"

    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"), primary_key=True)
    stop_all: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_channels: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BorrowerChannel(Base):
    """A chat channel the borrower bound (``ledger bind-channel``): their WeChat openid or
    Telegram chat id. A bound channel is the borrower's own: the contact planner may pick it."""

    __tablename__ = "borrower_channels"

    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    address: Mapped[str] = mapped_column(String(128))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Loan(Base):
    __tablename__ = "loans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    loan_number: Mapped[str] = mapped_column(String(32), unique=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"), index=True)
    product: Mapped[str] = mapped_column(String(32))
    principal: Mapped[Decimal] = mapped_column(Money())
    apr: Mapped[Decimal] = mapped_column(Rate())
    term: Mapped[int] = mapped_column(Integer)
    disbursed_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    borrower: Mapped[Borrower] = relationship(back_populates="loans", lazy="raise")

    __table_args__ = (
        positive("principal"),
        non_negative("apr"),
        CheckConstraint("CAST(apr AS NUMERIC) < 1", name="apr_below_one"),
        CheckConstraint("term > 0 AND term <= 120", name="term_range"),
    )


class Instalment(Base):
    """One row of a loan's contractual schedule (computed once at origination)."""

    __tablename__ = "instalments"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    principal: Mapped[Decimal] = mapped_column(Money())
    interest: Mapped[Decimal] = mapped_column(Money())

    __table_args__ = (
        UniqueConstraint("loan_id", "number"),
        positive("amount"),
        non_negative("principal"),
        non_negative("interest"),
    )


class Payment(Base):
    """A received payment. Append-only; idempotent by external_ref (UNIQUE)."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    external_ref: Mapped[str] = mapped_column(String(100), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    received_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (positive("amount"),)


class HardshipCase(Base):
    __tablename__ = "hardship_cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    duration: Mapped[str] = mapped_column(String(16))
    monthly_income: Mapped[Decimal] = mapped_column(Money())
    essential_expenses: Mapped[Decimal] = mapped_column(Money())
    other_debt_payments: Mapped[Decimal] = mapped_column(Money())
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        non_negative("monthly_income"),
        non_negative("essential_expenses"),
        non_negative("other_debt_payments"),
    )


class Evaluation(Base):
    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    hardship_case_id: Mapped[str] = mapped_column(ForeignKey("hardship_cases.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column()


class Offer(Base):
    """A concrete plan offered by an evaluation; payload holds the offer JSON (amounts as strings)."""

    __tablename__ = "offers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    evaluation_id: Mapped[str] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    plan_type: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column()


class Arrangement(Base):
    """An accepted plan. UNIQUE(evaluation_id) makes one arrangement per evaluation even
    when two acceptances race; UNIQUE(offer_id) makes an offer acceptable once."""

    __tablename__ = "arrangements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[str | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"), unique=True)
    evaluation_id: Mapped[str | None] = mapped_column(ForeignKey("evaluations.id", ondelete="SET NULL"), unique=True)
    plan_type: Mapped[str] = mapped_column(String(32))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_on: Mapped[date] = mapped_column(Date)
    replaces: Mapped[list[Any]] = mapped_column(default=list)  # numbers of the instalments it replaces
    payment_frequency: Mapped[str] = mapped_column(String(16))
    total_to_repay: Mapped[Decimal] = mapped_column(Money())
    waived_late_fees: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    waived_penalty_interest: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    waived_interest: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    holiday_months: Mapped[int] = mapped_column(Integer, default=0)
    record: Mapped[dict[str, Any]] = mapped_column()

    instalments: Mapped[list[ArrangementInstalment]] = relationship(
        lazy="raise", order_by="ArrangementInstalment.number"
    )

    __table_args__ = (
        non_negative("total_to_repay"),
        non_negative("waived_late_fees"),
        non_negative("waived_penalty_interest"),
        non_negative("waived_interest"),
    )


class ArrangementInstalment(Base):
    __tablename__ = "arrangement_instalments"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    arrangement_id: Mapped[str] = mapped_column(ForeignKey("arrangements.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    principal: Mapped[Decimal] = mapped_column(Money())
    interest: Mapped[Decimal] = mapped_column(Money())
    penalty_interest: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    late_fees: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    __table_args__ = (
        UniqueConstraint("arrangement_id", "number"),
        non_negative("penalty_interest"),
        non_negative("late_fees"),
        non_negative("amount"),
        non_negative("principal"),
        non_negative("interest"),
    )


class Promise(Base):
    """A promise to pay. Its state (open, kept, broken) is derived; ``replaced_on`` is set when
    a newer promise (whose ``replaces_id`` names this one) replaced it. ``window_ends_on`` is the
    latest date the policy allowed when the first promise of its chain was made."""

    __tablename__ = "promises"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    promised_date: Mapped[date] = mapped_column(Date)
    made_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_ends_on: Mapped[date] = mapped_column(Date)
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("promises.id", ondelete="SET NULL"), unique=True)
    replaced_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (positive("amount"),)


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    details: Mapped[str | None] = mapped_column(Text)
    opened_on: Mapped[date] = mapped_column(Date)
    reply_due_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the conversation that opened it (only that one may withdraw it), and the withdrawal
    conversation_id: Mapped[str | None] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (CheckConstraint("status IN ('open', 'resolved', 'withdrawn')", name="status_known"),)


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    borrower_id: Mapped[str | None] = mapped_column(ForeignKey("borrowers.id", ondelete="SET NULL"))
    case_number: Mapped[str | None] = mapped_column(String(32), unique=True)  # ESC-<year>-<6 digits>; None before 0009
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(String(200))
    borrower_id: Mapped[str | None] = mapped_column(ForeignKey("borrowers.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    escalation_id: Mapped[str] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (CheckConstraint("status IN ('open', 'withdrawn')", name="status_known"),)


class PaymentTrace(Base):
    """A payment the borrower says was made and the ledger does not show: a case for the lender
    to trace, answered by ``reply_due_by``. It pauses nothing. At least a day or an amount."""

    __tablename__ = "payment_traces"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_number: Mapped[str] = mapped_column(String(32), unique=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"), index=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(200))
    paid_on: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money())
    reference: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    opened_on: Mapped[date] = mapped_column(Date)
    reply_due_by: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status_known"),
        CheckConstraint("paid_on IS NOT NULL OR amount IS NOT NULL", name="day_or_amount"),
        CheckConstraint("amount IS NULL OR CAST(amount AS NUMERIC) > 0", name="amount_positive"),
    )


class VerificationSubject(Base):
    """Failure counter and lock of one verification subject: 'borrower:<id>' for a known
    borrower, 'unknown:<sha256 of the identifier>' for an identifier that matches nobody (so an
    unknown phone gets exactly the answers a known one would)."""

    __tablename__ = "verification_subjects"

    subject: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VerificationClient(Base):
    """Failed verifications of one client (the gateway's client_ref) in its current window,
    across every borrower. Only a keyed hash of the client_ref is kept."""

    __tablename__ = "verification_clients"

    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0)


class VerificationAttempt(Base):
    __tablename__ = "verification_attempts"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    conversation_id: Mapped[str] = mapped_column(String(200))
    borrower_id: Mapped[str | None] = mapped_column(ForeignKey("borrowers.id", ondelete="SET NULL"))
    identifier_kind: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))


class VerificationSession(Base):
    """A verification token (only its sha256 is stored) bound to one borrower and conversation."""

    __tablename__ = "verification_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Append-only audit log. The code only inserts; on PostgreSQL a trigger rejects UPDATE/DELETE."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    borrower_id: Mapped[str | None] = mapped_column(String(36))
    loan_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (Index("ix_audit_log_borrower_at", "borrower_id", "at"),)


class ApiClient(Base):
    """Named API clients (tokens from `ledger create-token --name N --scope S`); only the sha256
    of the token is kept. The scope (ledger/scopes.py) says which endpoints the client may call."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("scope IN ('bot', 'desk', 'payments', 'analytics')", name="scope_known"),)


# ---- analytics (docs/insights.md) ----------------------------------------------------------


class AnalyticsEvent(Base):
    """One event of the analytics stream (Rasa's, redacted before they left Rasa, and the
    gateway's), stored once whatever the deliveries: `event_id` is unique."""

    __tablename__ = "analytics_events"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    conversation_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    ts: Mapped[float | None] = mapped_column(Float())
    data: Mapped[dict[str, Any]] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_analytics_events_conversation_ts", "conversation_id", "ts"),)


class ConversationFactsRow(Base):
    """One row of facts per conversation (ledger/domain/conversation_facts.py), rewritten from
    the conversation's stored events each time one of them arrives."""

    __tablename__ = "conversation_facts"

    conversation_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    gateway_conversation_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    languages: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events: Mapped[int] = mapped_column(Integer, default=0)
    turns: Mapped[int] = mapped_column(Integer, default=0)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verification: Mapped[str] = mapped_column(String(16), default="not_asked")
    intents: Mapped[list[Any]] = mapped_column(default=list)
    low_confidence: Mapped[float | None] = mapped_column(Float())
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    furthest_step: Mapped[str] = mapped_column(String(24), default="started")
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    escalation_reason: Mapped[str | None] = mapped_column(String(64))
    handled_by_agent: Mapped[bool] = mapped_column(Boolean, default=False)
    agents: Mapped[list[Any]] = mapped_column(default=list)
    outcome: Mapped[str] = mapped_column(String(24), default="none")
    outcomes: Mapped[list[Any]] = mapped_column(default=list)
    plan_type: Mapped[str | None] = mapped_column(String(32))
    agent_outcome: Mapped[str | None] = mapped_column(String(32))
    csat: Mapped[int | None] = mapped_column(Integer)
    last_bot_action: Mapped[str | None] = mapped_column(String(64))
    last_bot_text_key: Mapped[str | None] = mapped_column(String(64))
    last_intent: Mapped[str | None] = mapped_column(String(64))
    said_goodbye: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_conversation_facts_started_at", "started_at"),
        Index("ix_conversation_facts_low_confidence", "low_confidence", "conversation_id"),
        CheckConstraint("csat IS NULL OR csat BETWEEN 1 AND 5", name="csat_range"),
    )


# How often the review list's intent filter (a LIKE on the intents as text) matches, for
# PostgreSQL's planner (migration 0015 creates the same).
event.listen(
    ConversationFactsRow.__table__,
    "after_create",
    DDL(
        "CREATE STATISTICS IF NOT EXISTS st_conversation_facts_intents_text "
        "ON ((intents)::text) FROM conversation_facts"
    ).execute_if(dialect="postgresql"),
)


class InsightsOverviewDaily(Base):
    """Conversations per day (business time zone), first language, channel and what the
    overview groups by, kept by the consumer (ledger/domain/insights_rollup.py)."""

    __tablename__ = "insights_overview_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    escalated: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    escalation_reason: Mapped[str] = mapped_column(String(64), primary_key=True)
    handled_by_agent: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    verification: Mapped[str] = mapped_column(String(16), primary_key=True)
    verified: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    no_outcome: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    said_goodbye: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    turns: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer, default=0)
    fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    csat_sum: Mapped[int] = mapped_column(Integer, default=0)
    csat_count: Mapped[int] = mapped_column(Integer, default=0)
    # conversations per duration range (insights_rollup.DURATION_COLUMNS; migration 0018)
    duration_from_0s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_15s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_30s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_60s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_90s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_120s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_180s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_300s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_450s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_600s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_900s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_1200s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_1800s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_3600s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duration_from_7200s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InsightsFunnelDaily(Base):
    """Conversations per day, first language, channel and what the funnel groups by."""

    __tablename__ = "insights_funnel_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    furthest_step: Mapped[str] = mapped_column(String(24), primary_key=True)
    last_bot_text_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    escalated: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    plan: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    promise: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    conversations: Mapped[int] = mapped_column(Integer, default=0)


class InsightsNluDaily(Base):
    """Borrower messages per day, first language, channel, intent, confidence in whole
    hundredths (ledger/domain/insights_rollup.py confidence_pct) and, for a fallback, the
    classifier's guess; with the signs of misunderstanding the next message gave."""

    __tablename__ = "insights_nlu_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    intent: Mapped[str] = mapped_column(String(64), primary_key=True)
    confidence_pct: Mapped[int] = mapped_column(Integer, primary_key=True)
    guess: Mapped[str] = mapped_column(String(64), primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    then_denied: Mapped[int] = mapped_column(Integer, default=0)
    then_asked_again: Mapped[int] = mapped_column(Integer, default=0)
    then_fallback: Mapped[int] = mapped_column(Integer, default=0)
    then_asked_for_person: Mapped[int] = mapped_column(Integer, default=0)


class ConversationAnnotation(Base):
    """An analyst's label on a conversation of the analytics store (ledger/domain/review.py):
    on a borrower message (`event_id`), the right intent and/or a tag; on the conversation
    (`event_id` NULL), a tag, a note or that it was reviewed. Appended, never changed: the
    latest one counts."""

    __tablename__ = "conversation_annotations"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(64))
    intent: Mapped[str | None] = mapped_column(String(64))
    tag: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    annotator: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_conversation_annotations_conversation", "conversation_id", "created_at"),)


class StreamCheckpoint(Base):
    """How far the consumer has read a SQL event stream (the last row id it stored)."""

    __tablename__ = "analytics_checkpoints"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(SerialId())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---- outbound contacts (docs/outbound.md) ---------------------------------------------------


class ContactRecord(Base):
    """One outbound contact: planned, then attempted, then delivered or failed. The idempotency
    key (loan/reason/local day/subject, from the planner) is unique, so a contact planned or
    sent twice is one row and is delivered once. Only delivered (and still pending) contacts
    count against the caps. No address and no message text is kept: the channel's address is
    the borrower's record's, the text follows from the template and the subject."""

    __tablename__ = "contact_history"

    id: Mapped[int] = mapped_column(SerialId(), primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.id", ondelete="CASCADE"))
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    send_after: Mapped[datetime] = mapped_column(UTCDateTime())
    send_before: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A worker's claim (docs/outbound.md "Several workers"): no other worker takes the row
    # before lease_until; a worker killed mid-batch loses its rows only until then.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("status IN ('planned', 'attempted', 'delivered', 'failed')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_contact_history_loan_send_after", "loan_id", "send_after"),
        Index("ix_contact_history_status_send_after", "status", "send_after"),
    )
