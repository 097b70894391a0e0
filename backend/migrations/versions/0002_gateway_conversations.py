"""gateway: conversations, messages, agents, agent sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 02:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("role IN ('agent', 'supervisor')", name=op.f("ck_agents_role_known")),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_agents")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_user_id", sa.String(length=128), nullable=False),
        sa.Column("client_token_hash", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("assigned_agent", sa.String(length=64), nullable=True),
        sa.Column("escalation_reason", sa.String(length=64), nullable=True),
        sa.Column("escalated_at", ledger.db.types.UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('bot', 'agent', 'closed')", name=op.f("ck_conversations_state_known")),
        sa.ForeignKeyConstraint(
            ["assigned_agent"],
            ["agents.username"],
            ondelete="SET NULL",
            name=op.f("fk_conversations_assigned_agent_agents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("channel", "external_user_id", name="uq_conversations_channel_user"),
    )
    op.create_index("ix_conversations_state_updated", "conversations", ["state", "updated_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=8), nullable=False),
        sa.Column("sender_name", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("agent_only", sa.Boolean(), nullable=False),
        sa.Column("client_msg_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("sender IN ('borrower', 'bot', 'agent', 'system')", name=op.f("ck_messages_sender_known")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            ondelete="CASCADE",
            name=op.f("fk_messages_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        sa.UniqueConstraint("conversation_id", "client_msg_id", name="uq_messages_conversation_client_msg"),
    )
    op.create_table(
        "agent_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", ledger.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["username"], ["agents.username"], ondelete="CASCADE", name=op.f("fk_agent_sessions_username_agents")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_agent_sessions")),
    )


def downgrade() -> None:
    op.drop_table("agent_sessions")
    op.drop_table("messages")
    op.drop_index("ix_conversations_state_updated", table_name="conversations")
    op.drop_table("conversations")
    op.drop_table("agents")
