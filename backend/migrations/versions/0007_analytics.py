"""analytics: the stored event stream (analytics_events, unique per event id), one row of facts
per conversation (conversation_facts) and the SQL stream's read position (analytics_checkpoints)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_checkpoints",
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("updated_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_analytics_checkpoints")),
    )
    op.create_table(
        "analytics_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.Float(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_analytics_events_event_id")),
    )
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.create_index("ix_analytics_events_conversation_ts", ["conversation_id", "ts"], unique=False)

    op.create_table(
        "conversation_facts",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("gateway_conversation_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("started_at", ledger.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", ledger.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verification", sa.String(length=16), nullable=False),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("low_confidence", sa.Float(), nullable=True),
        sa.Column("fallbacks", sa.Integer(), nullable=False),
        sa.Column("furthest_step", sa.String(length=24), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("escalation_reason", sa.String(length=64), nullable=True),
        sa.Column("handled_by_agent", sa.Boolean(), nullable=False),
        sa.Column("agents", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.Column("plan_type", sa.String(length=32), nullable=True),
        sa.Column("agent_outcome", sa.String(length=32), nullable=True),
        sa.Column("csat", sa.Integer(), nullable=True),
        sa.Column("last_bot_action", sa.String(length=64), nullable=True),
        sa.Column("last_bot_text_key", sa.String(length=64), nullable=True),
        sa.Column("last_intent", sa.String(length=64), nullable=True),
        sa.Column("said_goodbye", sa.Boolean(), nullable=False),
        sa.Column("updated_at", ledger.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("csat IS NULL OR csat BETWEEN 1 AND 5", name=op.f("ck_conversation_facts_csat_range")),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_facts")),
    )
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        batch_op.create_index("ix_conversation_facts_started_at", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_facts_started_at")

    op.drop_table("conversation_facts")
    with op.batch_alter_table("analytics_events", schema=None) as batch_op:
        batch_op.drop_index("ix_analytics_events_conversation_ts")

    op.drop_table("analytics_events")
    op.drop_table("analytics_checkpoints")
